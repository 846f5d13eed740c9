// language-common's shared internals: type checks, reference expansion, JSONPath over the
// live state, object paths, the raw host console and relative dates. Not for jobs: only
// bolt's adaptor modules may import this module.

export const host = () => globalThis.__bolt_host || {};

// Type checks by internal tag: job code may run in another realm, where instanceof fails.
export const tagOf = (v) => Object.prototype.toString.call(v).slice(8, -1);
export const isDate = (v) => tagOf(v) === 'Date';
export const isRegExp = (v) => tagOf(v) === 'RegExp';
export const isMap = (v) => tagOf(v) === 'Map';
export const isSet = (v) => tagOf(v) === 'Set';
export const isError = (v) => tagOf(v) === 'Error';

export const isPlainObject = (v) => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || (Object.getPrototypeOf(proto) === null && tagOf(v) === 'Object');
};

export const isBinary = (v) => ['Uint8Array', 'ArrayBuffer'].includes(tagOf(v));

const isStreamLike = (v) => !!v && typeof v === 'object' && (typeof v.pipe === 'function' || typeof v.pipeTo === 'function');

function expandReference(state, value) {
  if (isBinary(value) || isRegExp(value)) return value;
  if (Array.isArray(value)) return value.map((v) => expandReference(state, v));
  if (typeof value === 'object' && value !== null && !isStreamLike(value)) {
    return Object.keys(value).reduce((acc, key) => ({ ...acc, [key]: expandReference(state, value[key]) }), {});
  }
  if (typeof value === 'function') return expandReference(state, value(state));
  return value;
}

/** Resolves each argument against state: functions are called, objects/arrays copied deeply. */
export function expandReferences(state, ...args) {
  return args.map((value) => expandReference(state, value));
}

// ---------------------------------------------------------------------------------------
// JSONPath over the live state
// ---------------------------------------------------------------------------------------

function safeJson(value) {
  const seen = [];
  return JSON.stringify(value, function replacer(key, v) {
    if (typeof v === 'bigint') return String(v);
    if (v !== null && typeof v === 'object') {
      while (seen.length && seen[seen.length - 1] !== this) seen.pop();
      if (seen.includes(v)) return null;
      seen.push(v);
    }
    return v;
  });
}

// Plain member paths (`$.a.b[0]['c d'][*]`) are walked directly on the live object: no JSON
// round trip of the whole state per call. Anything else (filters, `..`, slices, unions) goes
// to the host's JSONPath engine.
const SIMPLE_SEGMENT = /^(?:\.([A-Za-z_$][\w$]*)|\.\*|\[\*\]|\[(\d+)\]|\['([^'\\]*)'\]|\["([^"\\]*)"\])/;

function simplePath(path) {
  let rest = String(path).trim();
  if (rest.startsWith('$')) rest = rest.slice(1);
  else if (!rest.startsWith('[')) rest = `.${rest}`;
  const segments = [];
  while (rest.length) {
    const m = rest.match(SIMPLE_SEGMENT);
    if (!m) return null;
    if (m[0] === '.*' || m[0] === '[*]') segments.push({ wildcard: true });
    else segments.push({ key: m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[4])) });
    rest = rest.slice(m[0].length);
  }
  return segments;
}

function walkPath(segments, json) {
  let nodes = [json];
  for (const segment of segments) {
    const next = [];
    for (const node of nodes) {
      if (node === null || (typeof node !== 'object' && typeof node !== 'function')) continue;
      if (segment.wildcard) {
        if (Array.isArray(node)) next.push(...node);
        else for (const key of Object.keys(node)) next.push(node[key]);
      } else if (Object.prototype.hasOwnProperty.call(node, segment.key)) {
        next.push(node[segment.key]);
      }
    }
    nodes = next;
  }
  return nodes;
}

/** All values matching `path` in `json`, taken from the live object (not copies). */
export function queryJson(path, json) {
  const segments = simplePath(path);
  const found = segments ? walkPath(segments, json) : locateJson(path, json);
  // jsonpath-plus evaluates `.length` as a JavaScript property of arrays and strings.
  const lengthOf = String(path).match(/^(.*)\.length$/);
  if (found.length === 0 && lengthOf) {
    return locateJson(lengthOf[1], json)
      .filter((v) => Array.isArray(v) || typeof v === 'string')
      .map((v) => v.length);
  }
  return found;
}

function locateJson(path, json) {
  const text = safeJson(json);
  if (text === undefined) return [];
  let locations;
  try {
    locations = JSON.parse(host().jsonpath(String(path), text));
  } catch (e) {
    throw new Error(e && e.message ? e.message : String(e));
  }
  return locations.map((location) => location.reduce((node, key) => (node == null ? undefined : node[key]), json));
}

/** Prints an already formatted line through the host console, as Node adaptors do. */
export function printLine(level, line) {
  const { print: hostPrint } = host();
  if (typeof hostPrint === 'function') {
    hostPrint(level, line);
  } else if (typeof console !== 'undefined') {
    (console[level] || console.log)(line);
  }
}

// ---------------------------------------------------------------------------------------
// Object paths (lodash's get/set semantics)
// ---------------------------------------------------------------------------------------

export function toPath(path) {
  if (Array.isArray(path)) return path.map(String);
  const result = [];
  String(path).replace(/[^.[\]]+|\[(?:(-?\d+(?:\.\d+)?)|(["'])((?:(?!\2)[^\\]|\\.)*?)\2)\]|(?=(?:\.|\[\])(?:\.|\[\]|$))/g,
    (match, number, quote, subString) => {
      result.push(quote ? subString.replace(/\\(\\)?/g, '$1') : number !== undefined ? number : match);
      return match;
    });
  return result;
}

export function get(object, path, defaultValue) {
  if (object == null) return defaultValue;
  if (typeof path === 'string' && path in Object(object)) return object[path] === undefined ? defaultValue : object[path];
  const keys = toPath(path);
  let node = object;
  for (const key of keys) {
    if (node == null) return defaultValue;
    node = node[key];
  }
  return node === undefined ? defaultValue : node;
}

export function set(object, path, value) {
  if (object == null || typeof object !== 'object' && typeof object !== 'function') return object;
  const keys = toPath(path);
  let node = object;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      node[key] = value;
    } else {
      if (node[key] == null || typeof node[key] !== 'object') node[key] = /^\d+$/.test(keys[i + 1]) ? [] : {};
      node = node[key];
    }
  });
  return object;
}

/** The values of an array, string, array-like or object, as lodash's collection functions see them. */
export function collectionValues(collection) {
  if (collection == null) return [];
  if (Array.isArray(collection) || typeof collection === 'string') return Array.from(collection);
  if (typeof collection.length === 'number' && typeof collection !== 'function') return Array.from(collection);
  return Object.values(collection);
}

// ---------------------------------------------------------------------------------------
// Relative dates for cursor() and util.parseDate
// ---------------------------------------------------------------------------------------

const DAY_MS = 86400000;
const startOfUtcDay = (d) => new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);

export function parseDate(d, startDate) {
  if (d === 'start') return startDate;
  if (d === 'now' || d === 'end') return new Date();
  if (d === 'today') return startOfUtcDay(new Date());
  if (d === 'yesterday') return new Date(startOfUtcDay(new Date()).getTime() - DAY_MS);
  if (/(hours? ago)$/.test(d)) {
    const [diff] = d.match(/\d+/) || ['NaN'];
    return new Date(Date.now() - Number(diff) * 3600000);
  }
  if (/(days? ago)$/.test(d)) {
    const [diff] = d.match(/\d+/) || ['NaN'];
    return startOfUtcDay(new Date(Date.now() - Number(diff) * DAY_MS));
  }
  return d;
}
