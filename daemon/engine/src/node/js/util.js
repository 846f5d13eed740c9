// node:util. `inspect` and `format` are language-common's Node-style formatter (the one
// bolt's adaptor output already uses); the rest follows Node 20.

import { inspect, formatArgs } from '@openfn/language-common/internal/inspect';
import { invalidArgType, nodeError, validateFunction, validateString, refusing } from 'bolt:node/internal/errors';
import { isDeepStrictEqual } from 'bolt:node/internal/comparisons';
import { TextEncoder, TextDecoder } from 'bolt:node/internal/encoding';
import types from 'node:util/types';
import process from 'node:process';
import { nextTick } from 'node:timers';

export { inspect, isDeepStrictEqual, TextEncoder, TextDecoder, types };

export function format(...args) { return formatArgs(args); }

export function formatWithOptions(inspectOptions, ...args) {
  if (inspectOptions === null || typeof inspectOptions !== 'object') {
    throw invalidArgType('inspectOptions', 'of type object', inspectOptions);
  }
  return formatArgs(args, inspectOptions);
}

export function inherits(ctor, superCtor) {
  if (ctor === undefined || ctor === null) throw invalidArgType('ctor', 'of type function', ctor);
  if (superCtor === undefined || superCtor === null) throw invalidArgType('superCtor', 'of type function', superCtor);
  if (superCtor.prototype === undefined) throw invalidArgType('superCtor.prototype', 'of type object', superCtor.prototype);
  Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

const kCustomPromisify = Symbol.for('nodejs.util.promisify.custom');
const kCustomPromisifyArgs = Symbol.for('bolt.util.promisify.customArgs');

export function promisify(original) {
  validateFunction(original, 'original');
  if (original[kCustomPromisify]) {
    const fn = original[kCustomPromisify];
    validateFunction(fn, 'util.promisify.custom');
    return Object.defineProperty(fn, kCustomPromisify, { value: fn, enumerable: false, writable: false, configurable: true });
  }
  const argumentNames = original[kCustomPromisifyArgs];
  function fn(...args) {
    return new Promise((resolve, reject) => {
      original.call(this, ...args, (err, ...values) => {
        if (err) return reject(err);
        if (argumentNames !== undefined && values.length > 1) {
          const obj = {};
          for (let i = 0; i < argumentNames.length; i++) obj[argumentNames[i]] = values[i];
          resolve(obj);
        } else {
          resolve(values[0]);
        }
        return undefined;
      });
    });
  }
  Object.setPrototypeOf(fn, Object.getPrototypeOf(original));
  Object.defineProperty(fn, kCustomPromisify, { value: fn, enumerable: false, writable: false, configurable: true });
  const descriptors = Object.getOwnPropertyDescriptors(original);
  for (const key of Reflect.ownKeys(descriptors)) {
    try { Object.defineProperty(fn, key, descriptors[key]); } catch (_) { /* non-configurable */ }
  }
  return fn;
}
promisify.custom = kCustomPromisify;

export function callbackify(original) {
  validateFunction(original, 'original');
  function callbackified(...args) {
    const callback = args.pop();
    validateFunction(callback, 'last argument');
    const onResult = (value) => nextTick(callback, null, value);
    const onError = (reason) => {
      if (!reason) {
        const error = nodeError(Error, 'ERR_FALSY_VALUE_REJECTION', 'Promise was rejected with falsy value');
        error.reason = reason;
        reason = error;
      }
      nextTick(callback, reason);
    };
    Reflect.apply(original, this, args).then(onResult, onError);
  }
  const descriptors = Object.getOwnPropertyDescriptors(original);
  if (typeof descriptors.length.value === 'number') descriptors.length.value++;
  if (typeof descriptors.name.value === 'string') descriptors.name.value += 'Callbackified';
  delete descriptors.prototype;
  Object.defineProperties(callbackified, descriptors);
  return callbackified;
}

const deprecationCodes = new Set();
export function deprecate(fn, msg, code) {
  validateFunction(fn, 'fn');
  if (process.noDeprecation === true) return fn;
  if (code !== undefined) validateString(code, 'code');
  let warned = false;
  function deprecated(...args) {
    if (!warned) {
      warned = true;
      if (code === undefined || !deprecationCodes.has(code)) {
        if (code !== undefined) deprecationCodes.add(code);
        process.emitWarning(msg, 'DeprecationWarning', code);
      }
    }
    if (new.target) return Reflect.construct(fn, args, new.target);
    return Reflect.apply(fn, this, args);
  }
  Object.setPrototypeOf(deprecated, fn);
  if (fn.prototype) deprecated.prototype = fn.prototype;
  return deprecated;
}

/** NODE_DEBUG is never set in bolt: every section's logger is off. */
export function debuglog(section, callback) {
  const logger = () => {};
  Object.defineProperty(logger, 'enabled', { get: () => false, enumerable: true });
  if (typeof callback === 'function') callback(logger);
  return logger;
}
export const debug = debuglog;

export function isArray(value) { return Array.isArray(value); }
export function isBoolean(value) { return typeof value === 'boolean'; }
export function isBuffer(value) { return value instanceof Uint8Array && value.constructor && value.constructor.name === 'Buffer'; }
export function isDate(value) { return types.isDate(value); }
export function isError(value) { return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]'; }
export function isFunction(value) { return typeof value === 'function'; }
export function isNull(value) { return value === null; }
export function isNullOrUndefined(value) { return value === null || value === undefined; }
export function isNumber(value) { return typeof value === 'number'; }
export function isObject(value) { return value !== null && typeof value === 'object'; }
export function isPrimitive(value) { return value === null || (typeof value !== 'object' && typeof value !== 'function'); }
export function isRegExp(value) { return types.isRegExp(value); }
export function isString(value) { return typeof value === 'string'; }
export function isSymbol(value) { return typeof value === 'symbol'; }
export function isUndefined(value) { return value === undefined; }

export function _extend(target, source) {
  if (source === null || typeof source !== 'object') return target;
  for (const key of Object.keys(source)) target[key] = source[key];
  return target;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export function log(...args) {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  process.stdout.write(`${d.getDate()} ${MONTHS[d.getMonth()]} ${time} - ${format(...args)}\n`);
}

export function toUSVString(input) {
  return String(input).replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

const ANSI = /[\u001B\u009B][[\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-ntqry=><~]))/g;
export function stripVTControlCharacters(text) {
  validateString(text, 'str');
  return text.replace(ANSI, '');
}

const STYLES = {
  bold: [1, 22], italic: [3, 23], underline: [4, 24], inverse: [7, 27], strikethrough: [9, 29],
  red: [31, 39], green: [32, 39], yellow: [33, 39], blue: [34, 39], magenta: [35, 39], cyan: [36, 39],
  white: [37, 39], gray: [90, 39], grey: [90, 39], black: [30, 39], dim: [2, 22],
};
export function styleText(format, text) {
  validateString(text, 'text');
  const formats = Array.isArray(format) ? format : [format];
  let out = text;
  for (const name of formats) {
    const codes = STYLES[name];
    if (!codes) throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'format' must be one of: ${Object.keys(STYLES).join(', ')}. Received '${name}'`);
    out = `\u001b[${codes[0]}m${out}\u001b[${codes[1]}m`;
  }
  return out;
}

const ERRNO = {
  '-1': ['EPERM', 'operation not permitted'], '-2': ['ENOENT', 'no such file or directory'],
  '-13': ['EACCES', 'permission denied'], '-17': ['EEXIST', 'file already exists'],
  '-104': ['ECONNRESET', 'connection reset by peer'], '-110': ['ETIMEDOUT', 'connection timed out'],
  '-111': ['ECONNREFUSED', 'connection refused'], '-113': ['EHOSTUNREACH', 'host is unreachable'],
  '-3008': ['ENOTFOUND', 'getaddrinfo ENOTFOUND'],
};
export function getSystemErrorName(errno) {
  if (typeof errno !== 'number') throw invalidArgType('err', 'of type number', errno);
  return ERRNO[errno] ? ERRNO[errno][0] : `Unknown system error ${errno}`;
}
export function getSystemErrorMap() {
  return new Map(Object.entries(ERRNO).map(([k, v]) => [Number(k), v]));
}

export function aborted(signal, resource) {
  if (signal === undefined || signal === null || typeof signal !== 'object' || !('aborted' in signal)) {
    return Promise.reject(invalidArgType('signal', 'an instance of AbortSignal', signal));
  }
  if (resource === null || (typeof resource !== 'object' && typeof resource !== 'function')) {
    return Promise.reject(invalidArgType('resource', 'of type object', resource));
  }
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export const transferableAbortSignal = (signal) => signal;
export const transferableAbortController = () => { throw new TypeError('bolt: util.transferableAbortController is not available'); };
export const parseArgs = refusing('util.parseArgs', "bolt's sandbox gives adaptors no command line");
export const getCallSite = () => [];


const util = {
  format, formatWithOptions, inspect, isDeepStrictEqual, inherits, promisify, callbackify, deprecate,
  debuglog, debug, types, TextEncoder, TextDecoder, isArray, isBoolean, isBuffer, isDate, isError, isFunction,
  isNull, isNullOrUndefined, isNumber, isObject, isPrimitive, isRegExp, isString, isSymbol, isUndefined,
  _extend, log, toUSVString, stripVTControlCharacters, styleText, getSystemErrorName, getSystemErrorMap,
  aborted, transferableAbortSignal, transferableAbortController, parseArgs, getCallSite,
};
export default util;
