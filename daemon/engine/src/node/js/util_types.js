// node:util/types (also `util.types`): checks by internal tag, as V8's are.

const tag = (v) => Object.prototype.toString.call(v).slice(8, -1);
const objectTag = (name) => (v) => v !== null && typeof v === 'object' && tag(v) === name;
const TYPED = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'];
const AsyncFunction = (async function () {}).constructor;
const GeneratorFunction = (function* () {}).constructor;
const AsyncGeneratorFunction = (async function* () {}).constructor;
const GeneratorPrototype = Object.getPrototypeOf((function* () {})());

export const isDate = (v) => v instanceof Date || objectTag('Date')(v);
export const isRegExp = (v) => v instanceof RegExp || objectTag('RegExp')(v);
export const isMap = (v) => v instanceof Map;
export const isSet = (v) => v instanceof Set;
export const isWeakMap = (v) => v instanceof WeakMap;
export const isWeakSet = (v) => v instanceof WeakSet;
export const isPromise = (v) => v instanceof Promise;
export const isNativeError = (v) => v instanceof Error;
export const isArrayBuffer = (v) => v instanceof ArrayBuffer;
export const isSharedArrayBuffer = (v) => typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer;
export const isAnyArrayBuffer = (v) => isArrayBuffer(v) || isSharedArrayBuffer(v);
export const isArrayBufferView = (v) => ArrayBuffer.isView(v);
export const isDataView = (v) => v instanceof DataView;
export const isTypedArray = (v) => ArrayBuffer.isView(v) && !(v instanceof DataView);
export const isAsyncFunction = (v) => typeof v === 'function' && (v instanceof AsyncFunction || v instanceof AsyncGeneratorFunction);
export const isGeneratorFunction = (v) => typeof v === 'function' && (v instanceof GeneratorFunction || v instanceof AsyncGeneratorFunction);
export const isGeneratorObject = (v) => v !== null && typeof v === 'object' && GeneratorPrototype.isPrototypeOf(v);
export const isBoxedPrimitive = (v) => v !== null && typeof v === 'object' && ['String', 'Number', 'Boolean', 'BigInt', 'Symbol'].includes(tag(v)) &&
  (() => { try { Object.prototype.valueOf.call(v); return v.valueOf() !== v; } catch (_) { return false; } })();
export const isNumberObject = (v) => v instanceof Number;
export const isStringObject = (v) => v instanceof String;
export const isBooleanObject = (v) => v instanceof Boolean;
export const isBigIntObject = (v) => typeof BigInt !== 'undefined' && v instanceof BigInt;
export const isSymbolObject = (v) => v instanceof Symbol;
export const isMapIterator = objectTag('Map Iterator');
export const isSetIterator = objectTag('Set Iterator');
export const isArgumentsObject = objectTag('Arguments');
export const isProxy = () => false;
export const isExternal = () => false;
export const isModuleNamespaceObject = objectTag('Module');
export const isWeakRef = (v) => typeof WeakRef !== 'undefined' && v instanceof WeakRef;
export const isKeyObject = () => false;
export const isCryptoKey = () => false;
const typed = (name) => (v) => ArrayBuffer.isView(v) && tag(v) === name;
export const isInt8Array = typed('Int8Array');
export const isUint8Array = typed('Uint8Array');
export const isUint8ClampedArray = typed('Uint8ClampedArray');
export const isInt16Array = typed('Int16Array');
export const isUint16Array = typed('Uint16Array');
export const isInt32Array = typed('Int32Array');
export const isUint32Array = typed('Uint32Array');
export const isFloat32Array = typed('Float32Array');
export const isFloat64Array = typed('Float64Array');
export const isBigInt64Array = typed('BigInt64Array');
export const isBigUint64Array = typed('BigUint64Array');

const types = {
  isDate, isRegExp, isMap, isSet, isWeakMap, isWeakSet, isPromise, isNativeError, isArrayBuffer,
  isSharedArrayBuffer, isAnyArrayBuffer, isArrayBufferView, isDataView, isTypedArray, isAsyncFunction,
  isGeneratorFunction, isGeneratorObject, isBoxedPrimitive, isNumberObject, isStringObject, isBooleanObject,
  isBigIntObject, isSymbolObject, isMapIterator, isSetIterator, isArgumentsObject, isProxy, isExternal,
  isModuleNamespaceObject, isWeakRef, isKeyObject, isCryptoKey, isInt8Array, isUint8Array, isUint8ClampedArray,
  isInt16Array, isUint16Array, isInt32Array, isUint32Array, isFloat32Array, isFloat64Array, isBigInt64Array,
  isBigUint64Array,
};
export default types;
