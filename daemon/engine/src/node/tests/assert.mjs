import assert, { strictEqual, deepStrictEqual, AssertionError } from 'node:assert';
import strict from 'node:assert/strict';

const caught = (fn) => {
  try { fn(); } catch (e) { return { name: e.name, code: e.code, message: e.message, generatedMessage: e.generatedMessage, operator: e.operator, keys: Object.keys(e) }; }
  return 'no throw';
};
check('strictEqual', caught(() => strictEqual(1, 2)), { name: 'AssertionError', code: 'ERR_ASSERTION', message: 'Expected values to be strictly equal:\n\n1 !== 2\n', generatedMessage: true, operator: 'strictEqual', keys: ['generatedMessage', 'code', 'actual', 'expected', 'operator'] });
check('strictEqual with message', caught(() => strictEqual('a', 'b', 'custom')).message, "custom\n\n'a' !== 'b'\n");
check('strictEqual types differ', caught(() => strictEqual(1, '1')).message, "Expected values to be strictly equal:\n\n1 !== '1'\n");
check('equal', caught(() => assert.equal(1, 2)).message, '1 == 2');
check('notStrictEqual', caught(() => assert.notStrictEqual(1, 1)).message, 'Expected "actual" to be strictly unequal to: 1');
check('notEqual', caught(() => assert.notEqual(1, 1)).message, '1 != 1');
check('deepStrictEqual diff', caught(() => deepStrictEqual({ a: 1 }, { a: 2 })).message, 'Expected values to be strictly deep-equal:\n+ actual - expected\n\n  {\n+   a: 1\n-   a: 2\n  }');
check('deepStrictEqual arrays', caught(() => deepStrictEqual([1, 2, 3], [1, 2, 4])).message, 'Expected values to be strictly deep-equal:\n+ actual - expected\n\n  [\n    1,\n    2,\n+   3\n-   4\n  ]');
check('deepEqual', caught(() => assert.deepEqual([1, 2], [1, 3])).message, 'Expected values to be loosely deep-equal:\n\n[\n  1,\n  2\n]\n\nshould loosely deep-equal\n\n[\n  1,\n  3\n]');
check('notDeepStrictEqual', caught(() => assert.notDeepStrictEqual({ a: 1 }, { a: 1 })).message, 'Expected "actual" not to be strictly deep-equal to:\n\n{\n  a: 1\n}\n');
// Node quotes the failing source line when it can read the file; bolt words it as Node does
// for code without a file.
check('ok falsy', ['0 == true', 'The expression evaluated to a falsy value:\n\n  assert.ok(0)\n'].includes(caught(() => assert.ok(0)).message), true);
check('assert with message', caught(() => assert(false, 'msg')), { name: 'AssertionError', code: 'ERR_ASSERTION', message: 'msg', generatedMessage: false, operator: '==', keys: ['generatedMessage', 'code', 'actual', 'expected', 'operator'] });
check('ok without value', caught(() => assert.ok()).message, 'No value argument passed to `assert.ok()`');
check('throws missing', caught(() => assert.throws(() => {})).message, 'Missing expected exception.');
check('throws regexp', caught(() => assert.throws(() => { throw new Error('x'); }, /y/)).message, "The input did not match the regular expression /y/. Input:\n\n'Error: x'\n");
check('throws object', caught(() => assert.throws(() => { throw new Error('x'); }, { message: 'y' })).message, "Expected values to be strictly deep-equal:\n+ actual - expected\n\n  Comparison {\n+   message: 'x'\n-   message: 'y'\n  }");
check('throws passes', caught(() => assert.throws(() => { throw new TypeError('x'); }, TypeError)), 'no throw');
check('throws class mismatch', caught(() => assert.throws(() => { throw new Error('x'); }, TypeError)).message, 'The error is expected to be an instance of "TypeError". Received "Error"\n\nError message:\n\nx');
check('doesNotThrow', caught(() => assert.doesNotThrow(() => { throw new Error('x'); })).message, 'Got unwanted exception.\nActual message: "x"');
check('fail', [caught(() => assert.fail()).message, caught(() => assert.fail('boom')).message], ['Failed', 'boom']);
check('match', caught(() => assert.match('abc', /x/)).message, "The input did not match the regular expression /x/. Input:\n\n'abc'\n");
check('ifError', caught(() => assert.ifError(new Error('e'))).message, 'ifError got unwanted exception: e');
check('deep equality passes', [caught(() => deepStrictEqual({ a: [1, { b: new Date(0) }] }, { a: [1, { b: new Date(0) }] })), caught(() => assert.deepEqual({ a: 1 }, { a: '1' }))], ['no throw', 'no throw']);
check('strict mode', [strict.equal === strictEqual, caught(() => strict.equal(1, '1')).message, assert.strict === strict], [true, "Expected values to be strictly equal:\n\n1 !== '1'\n", true]);
await checkRejects('rejects', assert.rejects(Promise.resolve(1)), { name: 'AssertionError', message: 'Missing expected rejection.' });
await assert.rejects(Promise.reject(new Error('r')), /r/);
check('AssertionError class', new AssertionError({ actual: 1, expected: 2, operator: 'strictEqual' }) instanceof Error, true);
check('message error instance is thrown as is', caught(() => assert.ok(false, new TypeError('own'))).name, 'TypeError');
