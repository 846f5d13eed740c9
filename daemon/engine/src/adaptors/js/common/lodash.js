// `_`: the lodash functions real jobs use. Anything else throws an Error naming it.

import {
  collectionValues,
  get,
  isDate,
  isError,
  isMap,
  isPlainObject,
  isRegExp,
  isSet,
  set,
  toPath,
} from '@openfn/language-common/internal/helpers';

function has(object, path) {
  const keys = toPath(path);
  let node = object;
  for (const key of keys) {
    if (node == null || !Object.prototype.hasOwnProperty.call(node, key)) return false;
    node = node[key];
  }
  return keys.length > 0;
}

function isEqual(a, b) {
  if (a === b || (a !== a && b !== b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (isDate(a)) return a.getTime() === b.getTime();
  if (isRegExp(a)) return String(a) === String(b);
  if (isMap(a) || isSet(a)) return isEqual([...a], [...b]);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && isEqual(a[k], b[k]));
}

function matches(source) {
  return (object) => object != null && Object.keys(source).every((k) => {
    const expected = source[k];
    const actual = object[k];
    if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) return matches(expected)(actual);
    return isEqual(actual, expected);
  });
}

function iteratee(value) {
  if (typeof value === 'function') return value;
  if (value == null) return (x) => x;
  if (Array.isArray(value)) return (object) => isEqual(get(object, value[0]), value[1]);
  if (typeof value === 'object') return matches(value);
  return (object) => get(object, value);
}

const collectionEntries = (collection) => {
  if (collection == null) return [];
  if (Array.isArray(collection) || typeof collection === 'string') return Array.from(collection).map((v, i) => [i, v]);
  return Object.keys(collection).map((k) => [k, collection[k]]);
};

function compareValues(a, b) {
  if (a === b) return 0;
  const rank = (v) => (v === undefined ? 4 : v === null ? 3 : v !== v ? 2 : 0);
  const ra = rank(a);
  const rb = rank(b);
  if (ra || rb) return ra - rb;
  return a > b ? 1 : a < b ? -1 : 0;
}

function orderBy(collection, iteratees = [(x) => x], orders = []) {
  const fns = [].concat(iteratees.length === 0 ? [(x) => x] : iteratees).map(iteratee);
  const directions = [].concat(orders);
  return collectionValues(collection)
    .map((value, i) => ({ value, i, keys: fns.map((f) => f(value)) }))
    .sort((x, y) => {
      for (let k = 0; k < fns.length; k++) {
        const order = compareValues(x.keys[k], y.keys[k]);
        if (order) return directions[k] === 'desc' ? -order : order;
      }
      return x.i - y.i;
    })
    .map((entry) => entry.value);
}

function sortBy(collection, ...iteratees) {
  const flat = iteratees.flat();
  return orderBy(collection, flat.length ? flat : [(x) => x]);
}

function groupBy(collection, fnOrKey) {
  const f = iteratee(fnOrKey);
  const result = {};
  for (const value of collectionValues(collection)) {
    const key = f(value);
    if (Object.prototype.hasOwnProperty.call(result, key)) result[key].push(value);
    else result[key] = [value];
  }
  return result;
}

function keyBy(collection, fnOrKey) {
  const f = iteratee(fnOrKey);
  const result = {};
  for (const value of collectionValues(collection)) result[f(value)] = value;
  return result;
}

function countBy(collection, fnOrKey) {
  const f = iteratee(fnOrKey);
  const result = {};
  for (const value of collectionValues(collection)) {
    const key = f(value);
    result[key] = (result[key] || 0) + 1;
  }
  return result;
}

function uniqBy(array, fnOrKey) {
  const f = iteratee(fnOrKey);
  const seen = new Set();
  const result = [];
  for (const value of array || []) {
    const key = f(value);
    if (!seen.has(key)) {
      seen.add(key);
      result.push(value);
    }
  }
  return result;
}

function cloneDeep(value, seen = new Map()) {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  if (isDate(value)) return new Date(value.getTime());
  if (isRegExp(value)) return new RegExp(value.source, value.flags);
  if (isMap(value)) {
    const copy = new Map();
    seen.set(value, copy);
    value.forEach((v, k) => copy.set(k, cloneDeep(v, seen)));
    return copy;
  }
  if (isSet(value)) {
    const copy = new Set();
    seen.set(value, copy);
    value.forEach((v) => copy.add(cloneDeep(v, seen)));
    return copy;
  }
  const copy = Array.isArray(value) ? [] : Object.create(Object.getPrototypeOf(value));
  seen.set(value, copy);
  for (const key of Object.keys(value)) copy[key] = cloneDeep(value[key], seen);
  return copy;
}

function mergeInto(target, source, customizer) {
  for (const key of Object.keys(source)) {
    const srcValue = source[key];
    const objValue = target[key];
    const custom = customizer ? customizer(objValue, srcValue, key, target, source) : undefined;
    if (custom !== undefined) {
      target[key] = custom;
    } else if (Array.isArray(srcValue)) {
      target[key] = mergeInto(Array.isArray(objValue) ? objValue : isPlainObject(objValue) ? Object.assign([], objValue) : [], srcValue, customizer);
    } else if (isPlainObject(srcValue)) {
      target[key] = mergeInto(isPlainObject(objValue) || Array.isArray(objValue) ? objValue : {}, srcValue, customizer);
    } else if (srcValue !== undefined || !(key in target)) {
      target[key] = srcValue;
    }
  }
  return target;
}

function lodashMerge(object, ...sources) {
  for (const source of sources) if (source != null) mergeInto(object, source);
  return object;
}

function lodashMergeWith(object, ...rest) {
  const customizer = rest.pop();
  for (const source of rest) if (source != null) mergeInto(object, source, customizer);
  return object;
}

const words = (str) => String(str ?? '')
  .replace(/([a-z\d])([A-Z])/g, '$1 $2')
  .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
  .match(/[A-Za-z\d]+/g) || [];

const capitalize = (s) => {
  const str = String(s ?? '');
  return str.charAt(0).toUpperCase() + str.slice(1).toLowerCase();
};

function flattenDepth(array, depth = 1) {
  return depth < 1 ? Array.from(array || []) : (array || []).reduce((acc, v) => acc.concat(Array.isArray(v) ? flattenDepth(v, depth - 1) : [v]), []);
}

function range(start, end, step) {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === undefined) step = start < end ? 1 : -1;
  const result = [];
  const n = Math.max(Math.ceil((end - start) / (step || 1)), 0);
  for (let i = 0; i < n; i++) result.push(start + i * step);
  return result;
}

function pick(object, ...paths) {
  const result = {};
  if (object == null) return result;
  for (const path of paths.flat()) {
    if (has(object, path) || (typeof path === 'string' && path in Object(object))) set(result, path, get(object, path));
  }
  return result;
}

function omit(object, ...paths) {
  if (object == null) return {};
  const result = cloneDeep({ ...object });
  for (const path of paths.flat()) {
    const keys = toPath(path);
    let node = result;
    for (let i = 0; i < keys.length - 1 && node != null; i++) node = node[keys[i]];
    if (node != null) delete node[keys[keys.length - 1]];
  }
  return result;
}

function pickBy(object, predicate = (v) => v) {
  const f = iteratee(predicate);
  const result = {};
  for (const [k, v] of Object.entries(object || {})) if (f(v, k)) result[k] = v;
  return result;
}

function omitBy(object, predicate) {
  const f = iteratee(predicate);
  return pickBy(object, (v, k) => !f(v, k));
}

function isEmpty(value) {
  if (value == null) return true;
  if (Array.isArray(value) || typeof value === 'string') return value.length === 0;
  if (isMap(value) || isSet(value)) return value.size === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return true;
}

function sumBy(array, fnOrKey) {
  const f = iteratee(fnOrKey);
  let result;
  for (const value of array || []) {
    const current = f(value);
    if (current !== undefined) result = result === undefined ? current : result + current;
  }
  return result === undefined ? 0 : result;
}

function extremeBy(array, fnOrKey, better) {
  const f = iteratee(fnOrKey);
  let best;
  let bestKey;
  for (const value of array || []) {
    const key = f(value);
    if (key != null && key === key && (bestKey === undefined || better(key, bestKey))) {
      best = value;
      bestKey = key;
    }
  }
  return best;
}

function mapCollection(collection, fnOrKey) {
  const f = iteratee(fnOrKey);
  return collectionEntries(collection).map(([k, v]) => f(v, k, collection));
}

function toNumber(value) {
  if (typeof value === 'number') return value;
  if (typeof value === 'symbol') return NaN;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (/^0b[01]+$/i.test(trimmed)) return parseInt(trimmed.slice(2), 2);
    if (/^0o[0-7]+$/i.test(trimmed)) return parseInt(trimmed.slice(2), 8);
    return Number(trimmed);
  }
  return Number(value);
}

function roundTo(method) {
  return (number, precision = 0) => {
    const factor = 10 ** precision;
    return Math[method](toNumber(number) * factor) / factor;
  };
}

function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const lodashFunctions = {
  get, set, has, isEqual, iteratee, matches, cloneDeep, orderBy, sortBy, groupBy, keyBy, countBy, uniqBy, pick, omit, pickBy, omitBy, isEmpty, sumBy, range,
  property: (path) => (object) => get(object, path),
  identity: (x) => x,
  noop: () => undefined,
  constant: (x) => () => x,
  clone: (v) => (Array.isArray(v) ? [...v] : v && typeof v === 'object' ? { ...v } : v),
  merge: lodashMerge,
  mergeWith: lodashMergeWith,
  assign: Object.assign,
  extend: (object, ...sources) => { for (const s of sources) for (const k in s) object[k] = s[k]; return object; },
  defaults: (object, ...sources) => {
    for (const source of sources) for (const k of Object.keys(source || {})) if (object[k] === undefined) object[k] = source[k];
    return object;
  },
  defaultTo: (value, fallback) => (value == null || value !== value ? fallback : value),
  keys: (o) => (o == null ? [] : Object.keys(Object(o))),
  values: (o) => (o == null ? [] : Object.values(Object(o))),
  entries: (o) => Object.entries(o || {}),
  toPairs: (o) => Object.entries(o || {}),
  fromPairs: (pairs) => { const r = {}; for (const [k, v] of pairs || []) r[k] = v; return r; },
  zipObject: (keys = [], values = []) => { const r = {}; keys.forEach((k, i) => { r[k] = values[i]; }); return r; },
  invert: (o) => { const r = {}; for (const [k, v] of Object.entries(o || {})) r[v] = k; return r; },
  mapValues: (o, f) => { const fn2 = iteratee(f); const r = {}; for (const [k, v] of Object.entries(o || {})) r[k] = fn2(v, k, o); return r; },
  mapKeys: (o, f) => { const fn2 = iteratee(f); const r = {}; for (const [k, v] of Object.entries(o || {})) r[fn2(v, k, o)] = v; return r; },
  map: mapCollection,
  filter: (c, p) => { const f = iteratee(p); return collectionEntries(c).filter(([k, v]) => f(v, k, c)).map(([, v]) => v); },
  reject: (c, p) => { const f = iteratee(p); return collectionEntries(c).filter(([k, v]) => !f(v, k, c)).map(([, v]) => v); },
  find: (c, p, from = 0) => { const f = iteratee(p); const e = collectionEntries(c).slice(from).find(([k, v]) => f(v, k, c)); return e ? e[1] : undefined; },
  findLast: (c, p) => { const f = iteratee(p); const e = collectionEntries(c).reverse().find(([k, v]) => f(v, k, c)); return e ? e[1] : undefined; },
  findIndex: (a, p, from = 0) => { const f = iteratee(p); for (let i = Math.max(from, 0); i < (a || []).length; i++) if (f(a[i], i, a)) return i; return -1; },
  findKey: (o, p) => { const f = iteratee(p); const e = Object.entries(o || {}).find(([k, v]) => f(v, k, o)); return e ? e[0] : undefined; },
  some: (c, p) => { const f = iteratee(p); return collectionEntries(c).some(([k, v]) => f(v, k, c)); },
  every: (c, p) => { const f = iteratee(p); return collectionEntries(c).every(([k, v]) => f(v, k, c)); },
  includes: (c, v, from = 0) => (typeof c === 'string' ? c.includes(v, from) : collectionValues(c).slice(from).some((x) => x === v || (x !== x && v !== v))),
  forEach: (c, f) => { for (const [k, v] of collectionEntries(c)) if (f(v, k, c) === false) break; return c; },
  each: (c, f) => { for (const [k, v] of collectionEntries(c)) if (f(v, k, c) === false) break; return c; },
  forOwn: (o, f) => { for (const [k, v] of Object.entries(o || {})) if (f(v, k, o) === false) break; return o; },
  reduce: (c, f, ...init) => {
    const entries = collectionEntries(c);
    let acc;
    let start = 0;
    if (init.length) acc = init[0];
    else { acc = entries.length ? entries[0][1] : undefined; start = 1; }
    for (let i = start; i < entries.length; i++) acc = f(acc, entries[i][1], entries[i][0], c);
    return acc;
  },
  partition: (c, p) => { const f = iteratee(p); const yes = []; const no = []; for (const v of collectionValues(c)) (f(v) ? yes : no).push(v); return [yes, no]; },
  flatMap: (c, f) => mapCollection(c, f).flat(),
  size: (c) => (c == null ? 0 : isMap(c) || isSet(c) ? c.size : typeof c === 'string' || Array.isArray(c) ? c.length : Object.keys(c).length),
  sample: (c) => { const v = collectionValues(c); return v[Math.floor(Math.random() * v.length)]; },
  shuffle: (c) => { const v = collectionValues(c); for (let i = v.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [v[i], v[j]] = [v[j], v[i]]; } return v; },
  chunk: (array, size = 1) => { const s = Math.max(Math.trunc(size), 0); const out = []; if (!s) return out; for (let i = 0; i < (array || []).length; i += s) out.push(array.slice(i, i + s)); return out; },
  compact: (array) => (array || []).filter(Boolean),
  concat: (array, ...values) => [].concat(array, ...values),
  difference: (array, ...others) => { const ex = new Set(others.flat()); return (array || []).filter((v) => !ex.has(v)); },
  differenceBy: (array, ...rest) => { const f = iteratee(rest.pop()); const ex = new Set(rest.flat().map(f)); return (array || []).filter((v) => !ex.has(f(v))); },
  intersection: (...arrays) => { const [first = [], ...others] = arrays; return uniqBy(first.filter((v) => others.every((o) => (o || []).includes(v)))); },
  intersectionBy: (...arrays) => { const f = iteratee(arrays.pop()); const [first = [], ...others] = arrays; return uniqBy(first.filter((v) => others.every((o) => (o || []).map(f).includes(f(v)))), f); },
  union: (...arrays) => uniqBy(arrays.flat()),
  unionBy: (...arrays) => { const f = arrays.pop(); return uniqBy(arrays.flat(), f); },
  uniq: (array) => uniqBy(array),
  uniqWith: (array, comparator) => (array || []).reduce((acc, v) => (acc.some((x) => comparator(v, x)) ? acc : [...acc, v]), []),
  without: (array, ...values) => (array || []).filter((v) => !values.includes(v)),
  xor: (...arrays) => { const all = arrays.map((a) => uniqBy(a)).flat(); return all.filter((v) => all.indexOf(v) === all.lastIndexOf(v)); },
  flatten: (array) => flattenDepth(array, 1),
  flattenDeep: (array) => flattenDepth(array, Infinity),
  flattenDepth,
  first: (array) => (array || [])[0],
  head: (array) => (array || [])[0],
  last: (array) => (array && array.length ? array[array.length - 1] : undefined),
  nth: (array, n = 0) => (array || [])[n < 0 ? array.length + n : n],
  tail: (array) => (array || []).slice(1),
  initial: (array) => (array || []).slice(0, -1),
  take: (array, n = 1) => (array || []).slice(0, Math.max(n, 0)),
  takeRight: (array, n = 1) => (n <= 0 ? [] : (array || []).slice(-n)),
  drop: (array, n = 1) => (array || []).slice(Math.max(n, 0)),
  dropRight: (array, n = 1) => (n <= 0 ? [...(array || [])] : (array || []).slice(0, -n)),
  reverse: (array) => (array ? array.reverse() : array),
  indexOf: (array, v, from = 0) => (array || []).indexOf(v, from),
  zip: (...arrays) => { const n = Math.max(0, ...arrays.map((a) => (a || []).length)); return range(n).map((i) => arrays.map((a) => (a || [])[i])); },
  unzip: (arrays) => { const n = Math.max(0, ...(arrays || []).map((a) => a.length)); return range(n).map((i) => arrays.map((a) => a[i])); },
  times: (n, f = (i) => i) => range(Math.max(n, 0)).map((i) => f(i)),
  sum: (array) => sumBy(array),
  mean: (array) => ((array || []).length ? sumBy(array) / array.length : NaN),
  meanBy: (array, f) => ((array || []).length ? sumBy(array, f) / array.length : NaN),
  max: (array) => extremeBy(array, undefined, (a, b) => a > b),
  min: (array) => extremeBy(array, undefined, (a, b) => a < b),
  maxBy: (array, f) => extremeBy(array, f, (a, b) => a > b),
  minBy: (array, f) => extremeBy(array, f, (a, b) => a < b),
  round: roundTo('round'),
  floor: roundTo('floor'),
  ceil: roundTo('ceil'),
  clamp: (n, lower, upper) => Math.min(Math.max(n, lower), upper),
  inRange: (n, start, end) => { if (end === undefined) { end = start; start = 0; } return n >= Math.min(start, end) && n < Math.max(start, end); },
  random: (lower = 0, upper = 1, floating = false) => { const v = lower + Math.random() * (upper - lower); return floating || !Number.isInteger(lower) || !Number.isInteger(upper) ? v : Math.floor(lower + Math.random() * (upper - lower + 1)); },
  isArray: Array.isArray,
  isObject: (v) => v !== null && (typeof v === 'object' || typeof v === 'function'),
  isObjectLike: (v) => v !== null && typeof v === 'object',
  isPlainObject,
  isString: (v) => typeof v === 'string',
  isNumber: (v) => typeof v === 'number',
  isInteger: Number.isInteger,
  isFinite: Number.isFinite,
  isNaN: (v) => typeof v === 'number' && v !== v,
  isBoolean: (v) => typeof v === 'boolean',
  isNil: (v) => v == null,
  isNull: (v) => v === null,
  isUndefined: (v) => v === undefined,
  isFunction: (v) => typeof v === 'function',
  isDate,
  isRegExp,
  isMatch: (object, source) => matches(source)(object),
  castArray: (...args) => (args.length === 0 ? [] : Array.isArray(args[0]) ? args[0] : [args[0]]),
  toArray: (v) => (v == null ? [] : typeof v === 'string' ? Array.from(v) : collectionValues(v)),
  toNumber,
  toInteger: (v) => { const n = toNumber(v); return n === Infinity || n === -Infinity ? Math.sign(n) * Number.MAX_VALUE : Math.trunc(n) || 0; },
  toString: (v) => (v == null ? '' : Array.isArray(v) ? v.join(',') : Object.is(v, -0) ? '-0' : String(v)),
  toLower: (s) => String(s ?? '').toLowerCase(),
  toUpper: (s) => String(s ?? '').toUpperCase(),
  trim: (s, chars) => (chars === undefined ? String(s ?? '').trim() : String(s ?? '').replace(new RegExp(`^[${chars.replace(/[\]\\^-]/g, '\\$&')}]+|[${chars.replace(/[\]\\^-]/g, '\\$&')}]+$`, 'g'), '')),
  trimStart: (s) => String(s ?? '').trimStart(),
  trimEnd: (s) => String(s ?? '').trimEnd(),
  padStart: (s, n, chars = ' ') => String(s ?? '').padStart(n, chars),
  padEnd: (s, n, chars = ' ') => String(s ?? '').padEnd(n, chars),
  pad: (s, n, chars = ' ') => { const str = String(s ?? ''); const total = Math.max(n - str.length, 0); const left = Math.floor(total / 2); return ''.padStart(left, chars) + str + ''.padEnd(total - left, chars); },
  repeat: (s, n = 1) => String(s ?? '').repeat(Math.max(n, 0)),
  startsWith: (s, target, position) => String(s ?? '').startsWith(target, position),
  endsWith: (s, target, position) => String(s ?? '').endsWith(target, position),
  split: (s, sep, limit) => String(s ?? '').split(sep, limit),
  replace: (s, pattern, replacement) => String(s ?? '').replace(pattern, replacement),
  capitalize,
  upperFirst: (s) => { const str = String(s ?? ''); return str.charAt(0).toUpperCase() + str.slice(1); },
  lowerFirst: (s) => { const str = String(s ?? ''); return str.charAt(0).toLowerCase() + str.slice(1); },
  camelCase: (s) => words(s).map((w, i) => (i ? capitalize(w) : w.toLowerCase())).join(''),
  snakeCase: (s) => words(s).map((w) => w.toLowerCase()).join('_'),
  kebabCase: (s) => words(s).map((w) => w.toLowerCase()).join('-'),
  lowerCase: (s) => words(s).map((w) => w.toLowerCase()).join(' '),
  upperCase: (s) => words(s).map((w) => w.toUpperCase()).join(' '),
  startCase: (s) => words(s).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' '),
  words,
  escape: escapeHtml,
  uniqueId: (() => { let id = 0; return (prefix = '') => `${prefix}${++id}`; })(),
  now: () => Date.now(),
  memoize: (f) => { const cache = new Map(); const m = (...args) => { if (!cache.has(args[0])) cache.set(args[0], f(...args)); return cache.get(args[0]); }; m.cache = cache; return m; },
  once: (f) => { let done = false; let value; return (...args) => { if (!done) { done = true; value = f(...args); } return value; }; },
  negate: (f) => (...args) => !f(...args),
  flow: (...fns) => (...args) => fns.flat().reduce((acc, f, i) => (i === 0 ? f(...acc) : f(acc)), args),
  attempt: (f, ...args) => { try { return f(...args); } catch (e) { return isError(e) ? e : new Error(e); } },
};

// Things a Proxy is probed for by the engine itself; answering them must not throw.
const INTERNAL_PROBES = new Set(['then', 'toJSON', 'constructor', 'prototype', 'length', 'name', 'valueOf', 'toString', 'inspect', '__esModule', 'default', 'caller', 'arguments', 'call', 'apply', 'bind']);

function unsupportedLodash(name) {
  return new Error(`lodash function _.${name} is not available in bolt`);
}

// Methods that stay wrapped in an implicit chain `_(value).…` (lodash returns plain values
// from the others, e.g. `_(xs).sum()`); in an explicit `_.chain(value)` everything stays
// wrapped until `.value()`.
const CHAINABLE = new Set([
  'map', 'filter', 'reject', 'sortBy', 'orderBy', 'groupBy', 'keyBy', 'countBy', 'uniq', 'uniqBy', 'uniqWith',
  'flatten', 'flattenDeep', 'flattenDepth', 'flatMap', 'compact', 'chunk', 'pick', 'omit', 'pickBy', 'omitBy',
  'mapValues', 'mapKeys', 'keys', 'values', 'toPairs', 'entries', 'fromPairs', 'zipObject', 'invert', 'concat',
  'difference', 'differenceBy', 'union', 'unionBy', 'intersection', 'intersectionBy', 'without', 'xor', 'take',
  'takeRight', 'drop', 'dropRight', 'tail', 'initial', 'reverse', 'zip', 'unzip', 'partition', 'merge',
  'mergeWith', 'defaults', 'assign', 'extend', 'set', 'shuffle', 'castArray', 'toArray', 'range', 'times',
]);

function wrapChain(value, explicit) {
  return new Proxy({}, {
    get(target, property) {
      if (typeof property === 'symbol' || property === 'then') return undefined;
      if (['value', 'valueOf', 'toJSON', 'commit'].includes(property)) return () => value;
      if (property === 'chain') return () => wrapChain(value, true);
      if (!Object.prototype.hasOwnProperty.call(lodashFunctions, property)) throw unsupportedLodash(property);
      return (...args) => {
        const result = lodashFunctions[property](value, ...args);
        return explicit || CHAINABLE.has(property) ? wrapChain(result, explicit) : result;
      };
    },
  });
}

lodashFunctions.chain = (value) => wrapChain(value, true);

const lodash = new Proxy(function lodashWrapper() {}, {
  apply(target, thisArg, args) {
    return wrapChain(args[0], false);
  },
  get(target, property) {
    if (typeof property === 'symbol') return target[property];
    if (Object.prototype.hasOwnProperty.call(lodashFunctions, property)) return lodashFunctions[property];
    if (INTERNAL_PROBES.has(property)) return target[property];
    throw unsupportedLodash(property);
  },
  has(target, property) {
    return Object.prototype.hasOwnProperty.call(lodashFunctions, property);
  },
  ownKeys() {
    return [...Object.keys(lodashFunctions), 'prototype'];
  },
  getOwnPropertyDescriptor(target, property) {
    if (property === 'prototype') return Object.getOwnPropertyDescriptor(target, property);
    if (Object.prototype.hasOwnProperty.call(lodashFunctions, property)) {
      return { value: lodashFunctions[property], writable: false, enumerable: true, configurable: true };
    }
    return undefined;
  },
});

export { lodash as _ };
