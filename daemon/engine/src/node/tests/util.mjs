import util, { format, inspect, promisify, callbackify, inherits, types, isDeepStrictEqual } from 'node:util';
import { EventEmitter } from 'node:events';

check('format', [
  format('%s %d %i %f %j %%', 's', 42.5, 42.5, '3.5', { a: 1 }),
  format('%s', { a: { b: { c: 1 } } }),
  format('a', 'b', 1, { x: 1 }),
  format(1, 2),
  format('%s:%s', 'only'),
  format('%s', Symbol('q')),
  format('%d', 'abc'),
  format('%s', 10n),
  format('%s', null),
  format('%s', [1, [2]]),
  format('%o', { b: [1] }),
  format('%O', { c: 2 }),
  format('%s', -0),
  format('%i', '42.9px'),
  format('%c%s', 'color: red', 'x'),
], ['s 42.5 42 3.5 {"a":1} %', '{ a: [Object] }', 'a b 1 { x: 1 }', '1 2', 'only:%s', 'Symbol(q)', 'NaN', '10n', 'null', '[ 1, [Array] ]', '{ b: [ 1, [length]: 1 ] }', '{ c: 2 }', '-0', '42', 'x']);

class Foo { constructor() { this.a = 1; } }
class Baz { get [Symbol.toStringTag]() { return 'T'; } }
const inspected = {
  buf: Buffer.from('hello'),
  u8: new Uint8Array([1, 2, 3]),
  ab: new Uint8Array([1, 2]).buffer,
  sym: { [Symbol('a')]: 1, b: 2 },
  getter: Object.defineProperty({ a: 1 }, 'g', { get() { return 1; }, enumerable: true }),
  boxed: [new String('ab'), new Number(3), new Boolean(false)],
  weak: [new WeakMap(), new WeakSet()],
  cls: new Foo(),
  tag: new Baz(),
  custom: { [inspect.custom]() { return 'CUSTOM'; } },
  customObj: { [inspect.custom]() { return { x: 1 }; } },
  deep: { a: { b: { c: { d: { e: 1 } } } } },
  fnprops: Object.assign(function f() {}, { x: 1 }),
  nested: [[[[1]]]],
  map: new Map([['k', { a: [1, { b: 2 }] }]]),
  set: new Set([1, 'two']),
  nullproto: Object.create(null),
  longArray: Array.from({ length: 120 }, (_, i) => i),
  str: 'it\'s "quoted"',
  klass: class A {},
  date: new Date(0),
  regexp: /a+/gi,
};
const expected = {
  buf: '<Buffer 68 65 6c 6c 6f>',
  u8: 'Uint8Array(3) [ 1, 2, 3 ]',
  ab: 'ArrayBuffer { [Uint8Contents]: <01 02>, byteLength: 2 }',
  sym: '{ b: 2, [Symbol(a)]: 1 }',
  getter: '{ a: 1, g: [Getter] }',
  boxed: "[ [String: 'ab'], [Number: 3], [Boolean: false] ]",
  weak: '[ WeakMap { <items unknown> }, WeakSet { <items unknown> } ]',
  cls: 'Foo { a: 1 }',
  tag: 'Baz [T] {}',
  custom: 'CUSTOM',
  customObj: '{ x: 1 }',
  deep: '{ a: { b: { c: [Object] } } }',
  fnprops: '[Function: f] { x: 1 }',
  nested: '[ [ [ [Array] ] ] ]',
  map: "Map(1) { 'k' => { a: [ 1, [Object] ] } }",
  set: "Set(2) { 1, 'two' }",
  nullproto: '[Object: null prototype] {}',
  str: '`it\'s "quoted"`',
  klass: '[class A]',
  date: '1970-01-01T00:00:00.000Z',
  regexp: '/a+/gi',
};
for (const [key, want] of Object.entries(expected)) check(`inspect ${key}`, inspect(inspected[key]), want);
check('inspect long array', inspect(inspected.longArray), '[\n   0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11,\n  12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,\n  24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,\n  36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,\n  48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,\n  60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71,\n  72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83,\n  84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,\n  96, 97, 98, 99,\n  ... 20 more items\n]');
check('inspect depth option', [inspect(inspected.deep, { depth: 0 }), inspect(inspected.deep, { depth: null })], ['{ a: [Object] }', '{\n  a: {\n    b: { c: { d: { e: 1 } } }\n  }\n}']);
check('inspect error with props', inspect(Object.assign(new Error('m'), { code: 'X' })).replace(/\n    at [^]*? {/, ' {'), "Error: m {\n  code: 'X'\n}");

// promisify, with util.promisify.custom; callbackify; inherits.
const cbStyle = (a, b, cb) => setTimeout(() => (a < 0 ? cb(new Error('negative')) : cb(null, a + b)), 1);
check('promisify', await promisify(cbStyle)(1, 2), 3);
await checkRejects('promisify rejects', promisify(cbStyle)(-1, 2), { message: 'negative' });
const withCustom = () => {};
withCustom[promisify.custom] = () => Promise.resolve('custom');
check('promisify.custom', await promisify(withCustom)(), 'custom');
check('promisify.custom symbol', promisify.custom === Symbol.for('nodejs.util.promisify.custom'), true);
check('promisified setTimeout', await promisify(setTimeout)(1, 'value'), 'value');
const asyncFn = async (x) => { if (x) throw new Error('bad'); return 'ok'; };
const callbacked = callbackify(asyncFn);
check('callbackify ok', await new Promise((resolve) => callbacked(false, (err, v) => resolve([err, v]))), [null, 'ok']);
check('callbackify error', await new Promise((resolve) => callbacked(true, (err) => resolve(err.message))), 'bad');
check('callbackify name', callbacked.name, 'asyncFnCallbackified');
function Child() { EventEmitter.call(this); }
inherits(Child, EventEmitter);
check('inherits', [new Child() instanceof EventEmitter, Child.super_ === EventEmitter], [true, true]);
checkThrows('inherits validates', () => inherits(Child, null), { code: 'ERR_INVALID_ARG_TYPE', message: 'The "superCtor" argument must be of type function. Received null' });

check('types', [types.isDate(new Date()), types.isRegExp(/x/), types.isPromise(Promise.resolve()), types.isUint8Array(Buffer.alloc(1)),
  types.isAsyncFunction(async () => {}), types.isGeneratorFunction(function* g() {}), types.isMap(new Map()), types.isNativeError(new TypeError()),
  types.isArrayBuffer(new ArrayBuffer(1)), types.isTypedArray(new Float32Array(1)), types.isBoxedPrimitive(new String('x'))],
[true, true, true, true, true, true, true, true, true, true, true]);
check('isDeepStrictEqual', [isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), isDeepStrictEqual(1, '1'), isDeepStrictEqual(new Set([1, { a: 1 }]), new Set([{ a: 1 }, 1])),
  isDeepStrictEqual(-0, 0), isDeepStrictEqual(NaN, NaN), isDeepStrictEqual(Object.create(null), {}), isDeepStrictEqual([1, , 3], [1, undefined, 3])],
[true, false, true, false, true, false, false]);
check('legacy is*', [util.isArray([]), util.isString(''), util.isNullOrUndefined(null), util.isPrimitive({}), util.isFunction(() => {})], [true, true, true, false, true]);
const enc = new util.TextEncoder().encode('é');
check('TextEncoder/TextDecoder', [Array.from(enc), new util.TextDecoder().decode(enc)], [[195, 169], 'é']);
check('deprecate returns a working function', util.deprecate((x) => x * 2, 'msg', 'DEP_BOLT')(2), 4);
check('debuglog is off', util.debuglog('x').enabled, false);
check('stripVTControlCharacters', util.stripVTControlCharacters('\u001b[31mred\u001b[39m'), 'red');
check('toUSVString', util.toUSVString('a\ud800b'), 'a\ufffdb');
