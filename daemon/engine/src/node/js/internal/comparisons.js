// Deep equality as Node's assert.deepStrictEqual / deepEqual and util.isDeepStrictEqual
// define it: same [[Class]], (strict:) same prototype, own enumerable keys (and symbols),
// unordered Map/Set contents, Date/RegExp/boxed/Error/typed-array specifics.

const tag = (v) => Object.prototype.toString.call(v).slice(8, -1);
const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

function primitiveEqual(a, b, strict) {
  if (strict) return Object.is(a, b);
  // eslint-disable-next-line eqeqeq
  return a == b || (Number.isNaN(a) && Number.isNaN(b));
}

function keysOf(value, strict) {
  const keys = Object.keys(value);
  if (!strict) return keys;
  return keys.concat(Object.getOwnPropertySymbols(value).filter((s) => Object.prototype.propertyIsEnumerable.call(value, s)));
}

export function isDeepEqual(a, b, strict, memos = { a: [], b: [] }) {
  if (a === b) return a !== 0 || !strict || Object.is(a, b);
  if (strict) {
    if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
      if (typeof a === 'function' || typeof b === 'function') return false;
      return typeof a !== 'object' && typeof b !== 'object' ? Object.is(a, b) : false;
    }
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  } else {
    if (a === null || typeof a !== 'object') {
      if (b === null || typeof b !== 'object') return primitiveEqual(a, b, false);
      return false;
    }
    if (b === null || typeof b !== 'object') return false;
  }
  const tagA = tag(a);
  if (tagA !== tag(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (tagA === 'Date') {
    if (a.getTime() !== b.getTime()) return false;
  } else if (tagA === 'RegExp') {
    if (a.source !== b.source || a.flags !== b.flags || a.lastIndex !== b.lastIndex) return false;
  } else if (a instanceof Error || b instanceof Error) {
    if (!(a instanceof Error && b instanceof Error) || a.message !== b.message || a.name !== b.name) return false;
  } else if (ArrayBuffer.isView(a)) {
    if (!ArrayBuffer.isView(b) || a.byteLength !== b.byteLength) return false;
    if (strict && a.constructor !== b.constructor && tag(a) !== tag(b)) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    if (!strict && !(a instanceof Float32Array || a instanceof Float64Array)) {
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    } else if (a instanceof Float32Array || a instanceof Float64Array) {
      for (let i = 0; i < a.length; i++) if (!primitiveEqual(a[i], b[i], strict)) return false;
    } else {
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    }
    // Only the index keys are compared for views; other own keys below.
    const extraA = Object.keys(a).filter((k) => !/^\d+$/.test(k));
    const extraB = Object.keys(b).filter((k) => !/^\d+$/.test(k));
    if (extraA.length !== extraB.length) return false;
    return extraA.every((k) => hasOwn(b, k) && isDeepEqual(a[k], b[k], strict, memos));
  } else if (tagA === 'ArrayBuffer') {
    if (a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a);
    const y = new Uint8Array(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  } else if (['Number', 'String', 'Boolean', 'BigInt', 'Symbol'].includes(tagA) && typeof a.valueOf === 'function') {
    if (!Object.is(a.valueOf(), b.valueOf())) return false;
  }

  const keysA = keysOf(a, strict);
  const keysB = keysOf(b, strict);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!Object.prototype.propertyIsEnumerable.call(b, key)) return false;
  }
  if (Array.isArray(a) && a.length !== b.length) return false;

  // Cycles: a pair already being compared counts as equal.
  for (let i = 0; i < memos.a.length; i++) {
    if (memos.a[i] === a && memos.b[i] === b) return true;
  }
  memos.a.push(a);
  memos.b.push(b);
  try {
    if (tagA === 'Set' && !setEqual(a, b, strict, memos)) return false;
    if (tagA === 'Map' && !mapEqual(a, b, strict, memos)) return false;
    if (Array.isArray(a)) {
      for (let i = 0; i < a.length; i++) {
        const inA = hasOwn(a, i);
        if (inA !== hasOwn(b, i)) {
          if (strict) return false;
          // Loose: a hole equals undefined only when the other side is undefined.
          if ((inA ? a[i] : b[i]) !== undefined) return false;
          continue;
        }
        if (!isDeepEqual(a[i], b[i], strict, memos)) return false;
      }
    }
    for (const key of keysA) {
      if (Array.isArray(a) && typeof key === 'string' && /^\d+$/.test(key)) continue;
      if (!isDeepEqual(a[key], b[key], strict, memos)) return false;
    }
    return true;
  } finally {
    memos.a.pop();
    memos.b.pop();
  }
}

function setEqual(a, b, strict, memos) {
  if (a.size !== b.size) return false;
  const pending = [];
  for (const value of a) {
    if (typeof value === 'object' && value !== null) pending.push(value);
    else if (!b.has(value)) {
      if (strict) return false;
      if (![...b].some((other) => (typeof other !== 'object' || other === null) && primitiveEqual(value, other, false))) return false;
    }
  }
  const candidates = [...b].filter((v) => typeof v === 'object' && v !== null);
  for (const value of pending) {
    const at = candidates.findIndex((other) => isDeepEqual(value, other, strict, memos));
    if (at < 0) return false;
    candidates.splice(at, 1);
  }
  return true;
}

function mapEqual(a, b, strict, memos) {
  if (a.size !== b.size) return false;
  const remaining = [...b];
  for (const [key, value] of a) {
    if (typeof key !== 'object' || key === null) {
      if (b.has(key)) {
        if (!isDeepEqual(value, b.get(key), strict, memos)) return false;
        const at = remaining.findIndex(([k]) => Object.is(k, key));
        if (at >= 0) remaining.splice(at, 1);
        continue;
      }
      if (strict) return false;
    }
    const at = remaining.findIndex(([k, v]) => isDeepEqual(key, k, strict, memos) && isDeepEqual(value, v, strict, memos));
    if (at < 0) return false;
    remaining.splice(at, 1);
  }
  return true;
}

export const isDeepStrictEqual = (a, b) => isDeepEqual(a, b, true);
export const isDeepLooseEqual = (a, b) => isDeepEqual(a, b, false);
