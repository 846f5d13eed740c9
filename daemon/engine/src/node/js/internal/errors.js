// Node's coded errors (`err.code`, `toString()` → "TypeError [ERR_X]: message"), with
// Node's message wording for the codes the built-ins raise, and bolt's sandbox refusals.

import { inspect } from '@openfn/language-common/internal/inspect';

const classes = new Map();

/** An instance of `Kind` (TypeError, RangeError, Error…) carrying Node's `code`. */
export function nodeError(Kind, code, message, props) {
  const key = `${Kind.name}:${code}`;
  let Coded = classes.get(key);
  if (!Coded) {
    Coded = class NodeError extends Kind {
      toString() { return `${this.name} [${code}]: ${this.message}`; }
    };
    Object.defineProperty(Coded.prototype, 'name', { value: Kind.name, writable: true, configurable: true });
    classes.set(key, Coded);
  }
  const error = new Coded(message);
  Object.defineProperty(error, 'code', { value: code, writable: true, enumerable: true, configurable: true });
  if (props) Object.assign(error, props);
  return error;
}

/** How Node's argument errors describe the value they got (" Received …"). */
export function received(value) {
  if (value === null || value === undefined) return ` Received ${value}`;
  if (typeof value === 'function') return ` Received function ${value.name}`;
  if (typeof value === 'object') {
    if (value.constructor && value.constructor.name) return ` Received an instance of ${value.constructor.name}`;
    return ` Received ${inspect(value)}`;
  }
  let shown = inspect(value);
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return ` Received type ${typeof value} (${shown})`;
}

const describeName = (name) => (name.includes('.') ? `"${name}" property` : name.endsWith(' argument') ? name : `"${name}" argument`);

export const invalidArgType = (name, expected, value) =>
  nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The ${describeName(name)} must be ${expected}.${received(value)}`);

export const invalidArgValue = (name, value, reason = 'is invalid') =>
  nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${name.includes('.') ? 'property' : 'argument'} '${name}' ${reason}. Received ${inspect(value)}`);

export const outOfRange = (name, range, value) =>
  nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${typeof value === 'number' ? formatNumber(value) : inspect(value)}`);

export const missingArgs = (...names) =>
  nodeError(TypeError, 'ERR_MISSING_ARGS', `The ${names.map((n) => `"${n}"`).join(' and ')} argument${names.length > 1 ? 's' : ''} must be specified`);

export const methodNotImplemented = (method) =>
  nodeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', `The ${method} method is not implemented`);

export const invalidThis = (type) => nodeError(TypeError, 'ERR_INVALID_THIS', `Value of "this" must be of type ${type}`);

export const invalidState = (message) => nodeError(Error, 'ERR_INVALID_STATE', `Invalid state: ${message}`);

// Node groups the digits of large numbers with underscores in these messages.
function formatNumber(value) {
  if (!Number.isInteger(value) || Math.abs(value) < 2 ** 32) return String(value);
  let text = String(Math.abs(value));
  let grouped = '';
  while (text.length > 3) { grouped = `_${text.slice(-3)}${grouped}`; text = text.slice(0, -3); }
  return `${value < 0 ? '-' : ''}${text}${grouped}`;
}

export function validateString(value, name) {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
}
export function validateFunction(value, name) {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
}
export function validateNumber(value, name) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
}
export function validateObject(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgType(name, 'of type object', value);
}
export function validateInteger(value, name, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

/** Node's AbortError (`code: 'ABORT_ERR'`). */
export class AbortError extends Error {
  constructor(message = 'The operation was aborted', options = undefined) {
    super(message, options);
    this.code = 'ABORT_ERR';
    this.name = 'AbortError';
  }
}

/**
 * What bolt's sandbox refuses: `bolt: net.connect is not available: opens raw TCP sockets,
 * which bolt's sandbox does not allow` (`code: 'ERR_BOLT_SANDBOX'`).
 */
export function refused(what, why, Kind = Error) {
  return nodeError(Kind, 'ERR_BOLT_SANDBOX', `bolt: ${what} is not available: ${why}`);
}

/** A function that throws `refused(what, why)` whenever it is called or constructed. */
export function refusing(what, why) {
  const name = what.split('.').pop();
  const holder = {
    [name]: function () { throw refused(what, why); },
  };
  return holder[name];
}
