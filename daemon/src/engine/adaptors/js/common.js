// bolt's built-in @openfn/language-common (behaviour of 3.3.4), written for QuickJS.
// Host functions come from globalThis.__bolt_host (see adaptors/mod.rs for the contract).

const host = () => globalThis.__bolt_host || {};

// ---------------------------------------------------------------------------------------
// Printing: adaptor output goes to the host console as raw, Node-formatted lines.
// ---------------------------------------------------------------------------------------

// Type checks by internal tag: job code may run in another realm, where instanceof fails.
const tagOf = (v) => Object.prototype.toString.call(v).slice(8, -1);
const isDate = (v) => tagOf(v) === 'Date';
const isRegExp = (v) => tagOf(v) === 'RegExp';
const isMap = (v) => tagOf(v) === 'Map';
const isSet = (v) => tagOf(v) === 'Set';
const isError = (v) => tagOf(v) === 'Error';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BREAK_LENGTH = 80;

function quoteString(str) {
  let quote = "'";
  if (str.includes("'")) {
    if (!str.includes('"')) quote = '"';
    else if (!str.includes('`') && !str.includes('${')) quote = '`';
  }
  const escaped = str.replace(/[\\\n\t\r\b\f\v\0]/g, (c) => ({
    '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f', '\v': '\\v', '\0': '\\x00',
  })[c]);
  const final = quote === "'" ? escaped.replace(/'/g, "\\'") : escaped;
  return quote + final + quote;
}

function formatPrimitive(value) {
  switch (typeof value) {
    case 'string': return quoteString(value);
    case 'number': return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint': return `${value}n`;
    case 'symbol': return value.toString();
    case 'undefined': return 'undefined';
    case 'boolean': return String(value);
    default: return value === null ? 'null' : String(value);
  }
}

function functionLabel(fn) {
  const source = Function.prototype.toString.call(fn);
  if (/^class[\s{]/.test(source)) return `[class ${fn.name || '(anonymous)'}]`;
  const kind = fn.constructor && fn.constructor.name === 'AsyncFunction' ? 'AsyncFunction' : 'Function';
  return fn.name ? `[${kind}: ${fn.name}]` : `[${kind} (anonymous)]`;
}

// Node arranges long arrays of short items in aligned columns.
function groupArrayElements(ctx, output, value) {
  let totalLength = 0;
  let maxLength = 0;
  const hasMore = Array.isArray(value) && value.length > 100;
  const outputLength = hasMore ? output.length - 1 : output.length;
  const separatorSpace = 2;
  const dataLen = new Array(outputLength);
  for (let i = 0; i < outputLength; i++) {
    const len = output[i].length;
    dataLen[i] = len;
    totalLength += len + separatorSpace;
    if (maxLength < len) maxLength = len;
  }
  const actualMax = maxLength + separatorSpace;
  if (actualMax * 3 + ctx.indentation < BREAK_LENGTH &&
      (totalLength / actualMax > 5 || maxLength <= 6)) {
    const averageBias = Math.sqrt(actualMax - totalLength / output.length);
    const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
    const columns = Math.min(
      Math.round(Math.sqrt(2.5 * biasedMax * outputLength) / biasedMax),
      Math.floor((BREAK_LENGTH - ctx.indentation) / actualMax),
      12,
      15,
    );
    if (columns <= 1) return output;
    const maxLineLength = [];
    for (let i = 0; i < columns; i++) {
      let lineLength = 0;
      for (let j = i; j < output.length; j += columns) {
        if (dataLen[j] > lineLength) lineLength = dataLen[j];
      }
      maxLineLength.push(lineLength + separatorSpace);
    }
    const numeric = Array.isArray(value) && value.every((v) => typeof v === 'number' || typeof v === 'bigint');
    const rows = [];
    for (let i = 0; i < outputLength; i += columns) {
      const max = Math.min(i + columns, outputLength);
      let line = '';
      let j = i;
      for (; j < max - 1; j++) {
        const cell = `${output[j]}, `;
        line += numeric ? cell.padStart(maxLineLength[j - i]) : cell.padEnd(maxLineLength[j - i]);
      }
      line += numeric ? output[j].padStart(maxLineLength[j - i] - separatorSpace) : output[j];
      rows.push(line);
    }
    if (hasMore) rows.push(output[outputLength]);
    return rows;
  }
  return output;
}

function joinEntries(ctx, output, braces, depth, grouped) {
  if (ctx.currentDepth - depth < 3 && !grouped) {
    const start = output.length + ctx.indentation + braces[0].length + 10;
    let total = output.length + start;
    let fits = total + output.length <= BREAK_LENGTH;
    for (let i = 0; fits && i < output.length; i++) {
      total += output[i].length;
      if (total > BREAK_LENGTH) fits = false;
    }
    if (fits) {
      const joined = output.join(', ');
      if (!joined.includes('\n')) return `${braces[0]} ${joined} ${braces[1]}`;
    }
  }
  const indentation = `\n${' '.repeat(ctx.indentation)}`;
  return `${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
}

function formatValue(ctx, value, depth) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    return formatPrimitive(value);
  }
  if (typeof value === 'function' && Object.keys(value).length === 0) return functionLabel(value);
  if (ctx.seen.includes(value)) return '[Circular *1]';
  if (isDate(value)) return isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (isRegExp(value)) return String(value);
  if (isError(value)) {
    // QuickJS stacks hold only the frames; Node's start with "Name: message".
    const head = value.message ? `${value.name}: ${value.message}` : String(value.name);
    const stack = typeof value.stack === 'string' ? value.stack : '';
    if (!stack) return `[${head}]`;
    const text = stack.startsWith(head) ? stack : `${head}\n${stack.replace(/\n$/, '')}`;
    return ctx.indentation ? text.replace(/\n/g, `\n${' '.repeat(ctx.indentation)}`) : text;
  }
  if (depth > 2) {
    if (Array.isArray(value)) return value.length === 0 ? '[]' : '[Array]';
    if (Object.keys(value).length === 0 && tagOf(value) === 'Object') return '{}';
    const name = value.constructor && value.constructor.name;
    return name && name !== 'Object' ? `[${name}]` : '[Object]';
  }
  ctx.seen.push(value);
  ctx.currentDepth = depth;
  const output = [];
  let braces;
  let grouped = false;
  ctx.indentation += 2;
  if (Array.isArray(value)) {
    braces = ['[', ']'];
    const shown = Math.min(value.length, 100);
    let holes = 0;
    for (let i = 0; i < shown; i++) {
      if (!(i in value)) { holes++; continue; }
      if (holes) { output.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`); holes = 0; }
      output.push(formatValue(ctx, value[i], depth + 1));
    }
    if (holes) output.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`);
    if (value.length > shown) output.push(`... ${value.length - shown} more item${value.length - shown > 1 ? 's' : ''}`);
    for (const key of Object.keys(value)) {
      if (!/^\d+$/.test(key)) output.push(`${IDENTIFIER.test(key) ? key : quoteString(key)}: ${formatValue(ctx, value[key], depth + 1)}`);
    }
  } else if (isMap(value)) {
    braces = [`Map(${value.size}) {`, '}'];
    for (const [k, v] of value) output.push(`${formatValue(ctx, k, depth + 1)} => ${formatValue(ctx, v, depth + 1)}`);
  } else if (isSet(value)) {
    braces = [`Set(${value.size}) {`, '}'];
    for (const v of value) output.push(formatValue(ctx, v, depth + 1));
  } else {
    const proto = Object.getPrototypeOf(value);
    const name = typeof value === 'function' ? functionLabel(value)
      : proto === null ? '[Object: null prototype]'
        : proto.constructor && proto.constructor.name !== 'Object' ? proto.constructor.name : '';
    braces = [name ? `${name} {` : '{', '}'];
    for (const key of Object.keys(value)) {
      output.push(`${IDENTIFIER.test(key) ? key : quoteString(key)}: ${formatValue(ctx, value[key], depth + 1)}`);
    }
  }
  ctx.indentation -= 2;
  ctx.seen.pop();
  if (Array.isArray(value) && output.length > 6) {
    const before = output.length;
    const regrouped = groupArrayElements(ctx, output, value);
    grouped = regrouped.length !== before;
    output.splice(0, output.length, ...regrouped);
  }
  if (output.length === 0) {
    if (Array.isArray(value)) return '[]';
    return braces[0] === '{' ? '{}' : `${braces[0]}}`;
  }
  return joinEntries(ctx, output, braces, depth, grouped);
}

/** Formats a value the way Node's util.inspect does by default (close enough for logs). */
function inspect(value) {
  return formatValue({ seen: [], indentation: 0, currentDepth: 0 }, value, 0);
}

/** Formats console arguments like Node's util.format (incl. %s %d %i %f %j %o %O %%). */
function formatArgs(args) {
  let rest = args;
  let head = '';
  if (typeof args[0] === 'string' && args.length > 1 && args[0].includes('%')) {
    let index = 1;
    head = args[0].replace(/%([sdifjoOc%])/g, (match, spec) => {
      if (spec === '%') return '%';
      if (index >= args.length) return match;
      const arg = args[index++];
      switch (spec) {
        case 's': return typeof arg === 'string' ? arg : typeof arg === 'object' && arg !== null ? inspect(arg) : String(arg);
        case 'd': case 'i': {
          const n = Number(arg);
          return spec === 'i' ? String(Math.trunc(n)) : String(n);
        }
        case 'f': return String(parseFloat(arg));
        case 'j': try { return JSON.stringify(arg); } catch (e) { return '[Circular]'; }
        case 'c': return '';
        default: return inspect(arg);
      }
    });
    rest = args.slice(index);
    return [head, ...rest.map((a) => (typeof a === 'string' ? a : inspect(a)))].join(' ');
  }
  return rest.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
}

/** Prints a raw line through the host console, as Node adaptors do. */
function print(level, ...args) {
  const line = formatArgs(args);
  const { print: hostPrint } = host();
  if (typeof hostPrint === 'function') {
    hostPrint(level, line);
  } else if (typeof console !== 'undefined') {
    (console[level] || console.log)(line);
  }
}

// ---------------------------------------------------------------------------------------
// Small helpers shared with language-http
// ---------------------------------------------------------------------------------------

const isPlainObject = (v) => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || (Object.getPrototypeOf(proto) === null && tagOf(v) === 'Object');
};

const isBinary = (v) => ['Uint8Array', 'ArrayBuffer'].includes(tagOf(v));

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
function expandReferences(state, ...args) {
  return args.map((value) => expandReference(state, value));
}

// UTF-8 and base64 without depending on Buffer.
function utf8Encode(str) {
  const bytes = [];
  for (let i = 0; i < str.length; i++) {
    let code = str.codePointAt(i);
    if (code > 0xffff) i++;
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  return new Uint8Array(bytes);
}

function utf8Decode(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    let code = 0xfffd;
    let size = 1;
    if (b < 0x80) { code = b; } else if (b >= 0xc2 && b < 0xe0 && i + 1 < bytes.length && (bytes[i + 1] & 0xc0) === 0x80) {
      code = ((b & 31) << 6) | (bytes[i + 1] & 63); size = 2;
    } else if (b >= 0xe0 && b < 0xf0 && i + 2 < bytes.length && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80) {
      code = ((b & 15) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63); size = 3;
      if (code < 0x800 || (code >= 0xd800 && code <= 0xdfff)) { code = 0xfffd; size = 1; }
    } else if (b >= 0xf0 && b < 0xf5 && i + 3 < bytes.length && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80 && (bytes[i + 3] & 0xc0) === 0x80) {
      code = ((b & 7) << 18) | ((bytes[i + 1] & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63); size = 4;
      if (code < 0x10000 || code > 0x10ffff) { code = 0xfffd; size = 1; }
    }
    out += String.fromCodePoint(code);
    i += size;
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function bytesToBase64(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

function base64ToBytes(text) {
  const clean = String(text).replace(/-/g, '+').replace(/_/g, '/').replace(/[^A-Za-z0-9+/]/g, '');
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const c of clean) {
    buffer = (buffer << 6) | B64.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 255);
    }
  }
  return new Uint8Array(bytes);
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
function queryJson(path, json) {
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

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

export function execute(...operations) {
  return (state) => operations.reduce((acc, operation) => acc.then(operation), Promise.resolve(state));
}

export function fn(func) {
  return (state) => func(state);
}

export function alterState(func) {
  return fn(func);
}

export function fnIf(condition, operation) {
  return (state) => {
    const [resolved] = expandReferences(state, condition);
    return resolved ? operation(state) : state;
  };
}

export function jsonValue(obj, path) {
  return queryJson(path, obj)[0];
}

export function sourceValue(path) {
  return (state) => queryJson(path, state)[0];
}

export function source(path) {
  return (state) => queryJson(path, state);
}

export function dataPath(path) {
  const [, clean] = path.match(/^[$.]*(.+)/);
  return `$.data.${clean}`;
}

export function dataValue(path) {
  return sourceValue(dataPath(path));
}

export function referencePath(path) {
  const [, clean] = path.match(/^[$.]*(.+)/);
  return `$.references${clean}`;
}

export function lastReferenceValue(path) {
  return sourceValue(referencePath(`[0].${path}`));
}

export function map(path, callback) {
  return async (state) => {
    const values = typeof path === 'string' ? source(path)(state) : path;
    const results = [];
    let i = 0;
    for (const item of values) {
      results.push(await callback(item, i++, state));
    }
    return { ...state, data: results };
  };
}

export function asData(data, state) {
  switch (typeof data) {
    case 'string': return source(data)(state);
    case 'object': return data;
    case 'function': return data(state);
    default: return undefined;
  }
}

function runEach(items, operation, initial) {
  return items.reduce((acc, data, index) => {
    if (acc && typeof acc.then === 'function') {
      return acc.then((next) => operation({ ...next, data, index }));
    }
    return operation({ ...acc, data, index });
  }, initial);
}

export function each(dataSource, operation) {
  if (!dataSource) {
    throw new TypeError('dataSource argument for each operation is invalid.');
  }
  return (state) => runEach(asData(dataSource, state), operation, state);
}

function betaEach(dataSource, operation) {
  if (!dataSource) {
    throw new TypeError('dataSource argument for each operation is invalid.');
  }
  return (prevState) => {
    const next = runEach(asData(dataSource, prevState), operation, prevState);
    if (next && typeof next.then === 'function') {
      return next.then((s) => ({ ...s, data: prevState.data }));
    }
    return { ...next, data: prevState.data };
  };
}

export const beta = { each: betaEach };

export function combine(...operations) {
  return (state) => operations.reduce((acc, operation) => {
    if (acc && typeof acc.then === 'function') return acc.then((next) => operation({ ...next }));
    return operation({ ...acc });
  }, state);
}

export function join(targetPath, sourcePath, targetKey) {
  return (state) => source(targetPath)(state).map((item) => ({ [targetKey]: sourceValue(sourcePath)(state), ...item }));
}

export function field(key, value) {
  return [key, value];
}

export function fields(...pairs) {
  const result = {};
  for (const pair of pairs) {
    if (pair) result[pair[0]] = pair[1];
  }
  return result;
}

export function merge(dataSource, extraFields) {
  return (state) => {
    const items = source(dataSource)(state);
    const [additional] = expandReferences(state, extraFields);
    return items.reduce((acc, item) => [...acc, { ...item, ...additional }], []);
  };
}

export function group(arrayOfObjects, keyPath, callback = (s) => s) {
  return (state) => {
    const [items, path] = expandReferences(state, arrayOfObjects, keyPath);
    const groups = lodash.groupBy(items, (item) => lodash.get(item, path));
    delete groups.undefined;
    return callback({ ...state, data: groups });
  };
}

export function index() {
  return (state) => state.index;
}

export function arrayToString(arr, separator) {
  return Array.apply(null, arr).join(separator);
}

export function toArray(arg) {
  return [].concat(arg);
}

export function composeNextState(state, response) {
  if (!state.references) state.references = [];
  return { ...state, data: response, references: [...state.references, state.data] };
}

export function humanProper(str) {
  if (typeof str !== 'string') return str;
  return str
    .replace(/[_-]/g, ' ')
    .replace(/\w\S*/g, (word) => word.charAt(0).toUpperCase() + word.substr(1).toLowerCase());
}

export function splitKeys(obj, keys) {
  return Object.keys(obj).reduce(([keep, split], key) => {
    const value = obj[key];
    return keys.includes(key) ? [keep, { ...split, [key]: value }] : [{ ...keep, [key]: value }, split];
  }, [{}, {}]);
}

export function scrubEmojis(text, replacementChars) {
  if (!text) return text;
  if (replacementChars == '') {
    print(
      'warn',
      'Removing characters from a string may create injection vulnerabilities;',
      "It's better to replace than remove.",
      'See https://www.unicode.org/reports/tr36/#Deletion_of_Noncharacters',
    );
  }
  const replacement = replacementChars || replacementChars == '' ? replacementChars : '\uFFFD';
  const pattern = /(\uFE0F|\u00a9|\u00ae|[\u2000-\u3300]|\ud83c[\ud000-\udfff]|\ud83d[\ud000-\udfff]|\ud83e[\ud000-\udfff])/g;
  return text.replace(pattern, replacement);
}

export function chunk(array, chunkSize) {
  const output = [];
  for (let i = 0; i < array.length; i += chunkSize) output.push(array.slice(i, i + chunkSize));
  return output;
}

const CSV_DEFAULTS = {
  delimiter: ',',
  quote: '"',
  escape: '"',
  columns: true,
  bom: true,
  trim: true,
  ltrim: true,
  rtrim: true,
  chunkSize: Infinity,
  skip_empty_lines: true,
};

export function parseCsv(csvData, parsingOptions = {}, callback) {
  return async (state) => {
    const [text, resolvedOptions] = expandReferences(state, csvData, parsingOptions);
    const picked = Object.fromEntries(Object.entries(resolvedOptions || {}).filter(([key]) => key in CSV_DEFAULTS));
    const options = { ...CSV_DEFAULTS, ...picked };
    if (options.chunkSize < 1) throw new Error('chunkSize must be at least 1');
    if (typeof text !== 'string') {
      throw new TypeError('parseCsv: bolt can only parse CSV given as a string');
    }
    const { chunkSize, ...parserOptions } = options;
    let rows;
    try {
      rows = JSON.parse(host().parseCsv(text, JSON.stringify(parserOptions)));
    } catch (e) {
      const message = e && e.message ? e.message : String(e);
      const match = message.match(/^([A-Z_]+): ([\s\S]*)$/);
      const error = new Error(match ? match[2] : message);
      if (match) error.code = match[1];
      throw error;
    }
    let result = state;
    for (let i = 0; i < rows.length; i += chunkSize === Infinity ? rows.length : chunkSize) {
      const batch = rows.slice(i, chunkSize === Infinity ? rows.length : i + chunkSize);
      result = callback ? await callback(result, batch) : composeNextState(result, batch);
    }
    return result;
  };
}

// ---------------------------------------------------------------------------------------
// validate(): JSON Schema with AJV's default behaviour (first error only, AJV messages)
// ---------------------------------------------------------------------------------------

const schemaCache = {};

const jsonType = (v) => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'number' ? 'number' : typeof v;
};

const matchesType = (v, type) => {
  switch (type) {
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number' && isFinite(v);
    default: return jsonType(v) === type;
  }
};

const deepEqual = (a, b) => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
};

const pointerEscape = (k) => String(k).replace(/~/g, '~0').replace(/\//g, '~1');

const SCHEMA_KEYWORDS = new Set([
  '$id', '$schema', '$ref', '$comment', '$defs', '$anchor', '$dynamicRef', '$dynamicAnchor', '$recursiveRef',
  '$recursiveAnchor', '$vocabulary', 'definitions', 'title', 'description', 'default', 'examples', 'readOnly',
  'writeOnly', 'deprecated', 'type', 'enum', 'const', 'multipleOf', 'maximum', 'minimum', 'exclusiveMaximum',
  'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'format', 'items', 'additionalItems', 'prefixItems',
  'maxItems', 'minItems', 'uniqueItems', 'contains', 'maxContains', 'minContains', 'maxProperties', 'minProperties',
  'required', 'properties', 'patternProperties', 'additionalProperties', 'dependencies', 'dependentRequired',
  'dependentSchemas', 'propertyNames', 'if', 'then', 'else', 'allOf', 'anyOf', 'oneOf', 'not',
  'unevaluatedProperties', 'unevaluatedItems', 'contentMediaType', 'contentEncoding', 'contentSchema', 'nullable',
]);

// AJV's strict mode, as OpenFn runs it: unknown keywords and (without ajv-formats) every
// `format` make compiling the schema throw.
function assertStrictSchema(schema, path = '#') {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return;
  for (const key of Object.keys(schema)) {
    if (!SCHEMA_KEYWORDS.has(key)) throw new Error(`strict mode: unknown keyword: "${key}"`);
  }
  if (schema.format !== undefined) {
    throw new Error(`unknown format "${schema.format}" ignored in schema at path "${path}"`);
  }
  for (const key of ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas']) {
    for (const [name, sub] of Object.entries(schema[key] || {})) assertStrictSchema(sub, `${path}/${key}/${pointerEscape(name)}`);
  }
  for (const key of ['items', 'prefixItems', 'allOf', 'anyOf', 'oneOf']) {
    if (Array.isArray(schema[key])) schema[key].forEach((sub, i) => assertStrictSchema(sub, `${path}/${key}/${i}`));
  }
  for (const key of ['items', 'additionalItems', 'additionalProperties', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'unevaluatedProperties', 'unevaluatedItems']) {
    if (schema[key] !== undefined && !Array.isArray(schema[key])) assertStrictSchema(schema[key], `${path}/${key}`);
  }
}

function schemaValidator(root) {
  assertStrictSchema(root);
  const resolveRef = (ref) => {
    if (!ref.startsWith('#')) throw new Error(`can't resolve reference ${ref} from id #`);
    return ref.slice(1).split('/').filter(Boolean)
      .map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((node, key) => (node == null ? undefined : node[key]), root);
  };

  // Returns AJV's errors with allErrors: false: the first failure, preceded by the failures
  // of the branches of a failed anyOf/oneOf. [] when valid.
  function check(schema, data, instancePath, schemaPath) {
    if (schema === true || schema === undefined) return [];
    const fail = (keyword, params, message, path = `${schemaPath}/${keyword}`) => ({
      instancePath, schemaPath: path, keyword, params, message,
    });
    if (schema === false) return [fail('false schema', {}, 'boolean schema is false', schemaPath)];
    if (schema.$ref) {
      const target = resolveRef(schema.$ref);
      const errors = check(target, data, instancePath, schema.$ref);
      if (errors.length) return errors;
    }
    if (schema.type !== undefined) {
      const types = [].concat(schema.type);
      if (!types.some((t) => matchesType(data, t))) {
        return [fail('type', { type: Array.isArray(schema.type) ? schema.type : schema.type }, `must be ${types.join(',')}`)];
      }
    }
    if ('const' in schema && !deepEqual(data, schema.const)) {
      return [fail('const', { allowedValue: schema.const }, 'must be equal to constant')];
    }
    if (schema.enum && !schema.enum.some((v) => deepEqual(v, data))) {
      return [fail('enum', { allowedValues: schema.enum }, 'must be equal to one of the allowed values')];
    }
    if (schema.not !== undefined && check(schema.not, data, instancePath, `${schemaPath}/not`).length === 0) {
      return [fail('not', {}, 'must NOT be valid')];
    }
    if (schema.anyOf) {
      const branchErrors = [];
      const anyValid = schema.anyOf.some((s, i) => {
        const errors = check(s, data, instancePath, `${schemaPath}/anyOf/${i}`);
        branchErrors.push(...errors);
        return errors.length === 0;
      });
      if (!anyValid) return [...branchErrors, fail('anyOf', {}, 'must match a schema in anyOf')];
    }
    if (schema.oneOf) {
      const branchErrors = [];
      const passing = [];
      schema.oneOf.forEach((s, i) => {
        const errors = check(s, data, instancePath, `${schemaPath}/oneOf/${i}`);
        if (errors.length === 0) passing.push(i);
        else branchErrors.push(...errors);
      });
      if (passing.length !== 1) {
        const error = fail('oneOf', { passingSchemas: passing.length > 1 ? passing.slice(0, 2) : null }, 'must match exactly one schema in oneOf');
        return passing.length === 0 ? [...branchErrors, error] : [error];
      }
    }
    if (schema.allOf) {
      for (let i = 0; i < schema.allOf.length; i++) {
        const errors = check(schema.allOf[i], data, instancePath, `${schemaPath}/allOf/${i}`);
        if (errors.length) return errors;
      }
    }
    if (schema.if !== undefined && (schema.then !== undefined || schema.else !== undefined)) {
      const branch = check(schema.if, data, instancePath, `${schemaPath}/if`).length ? 'else' : 'then';
      if (schema[branch] !== undefined) {
        const errors = check(schema[branch], data, instancePath, `${schemaPath}/${branch}`);
        if (errors.length) return [...errors, fail('if', { failingKeyword: branch }, `must match "${branch}" schema`)];
      }
    }
    if (typeof data === 'number') {
      const limits = [
        ['maximum', '<=', (v, l) => v <= l], ['minimum', '>=', (v, l) => v >= l],
        ['exclusiveMaximum', '<', (v, l) => v < l], ['exclusiveMinimum', '>', (v, l) => v > l],
      ];
      for (const [keyword, comparison, ok] of limits) {
        if (typeof schema[keyword] === 'number' && !ok(data, schema[keyword])) {
          return [fail(keyword, { comparison, limit: schema[keyword] }, `must be ${comparison} ${schema[keyword]}`)];
        }
      }
      if (typeof schema.multipleOf === 'number') {
        const q = data / schema.multipleOf;
        if (Math.abs(Math.round(q) - q) > 1e-9) {
          return [fail('multipleOf', { multipleOf: schema.multipleOf }, `must be multiple of ${schema.multipleOf}`)];
        }
      }
    }
    if (typeof data === 'string') {
      const length = [...data].length;
      if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
        return [fail('maxLength', { limit: schema.maxLength }, `must NOT have more than ${schema.maxLength} characters`)];
      }
      if (typeof schema.minLength === 'number' && length < schema.minLength) {
        return [fail('minLength', { limit: schema.minLength }, `must NOT have fewer than ${schema.minLength} characters`)];
      }
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(data)) {
        return [fail('pattern', { pattern: schema.pattern }, `must match pattern "${schema.pattern}"`)];
      }
    }
    if (Array.isArray(data)) {
      if (typeof schema.maxItems === 'number' && data.length > schema.maxItems) {
        return [fail('maxItems', { limit: schema.maxItems }, `must NOT have more than ${schema.maxItems} items`)];
      }
      if (typeof schema.minItems === 'number' && data.length < schema.minItems) {
        return [fail('minItems', { limit: schema.minItems }, `must NOT have fewer than ${schema.minItems} items`)];
      }
      if (schema.uniqueItems === true) {
        for (let i = data.length - 1; i > 0; i--) {
          for (let j = i - 1; j >= 0; j--) {
            if (deepEqual(data[i], data[j])) {
              return [fail('uniqueItems', { i, j }, `must NOT have duplicate items (items ## ${j} and ${i} are identical)`)];
            }
          }
        }
      }
      const tuple = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : null;
      if (tuple) {
        for (let i = 0; i < Math.min(tuple.length, data.length); i++) {
          const key = Array.isArray(schema.prefixItems) ? 'prefixItems' : 'items';
          const errors = check(tuple[i], data[i], `${instancePath}/${i}`, `${schemaPath}/${key}/${i}`);
          if (errors.length) return errors;
        }
      }
      const rest = Array.isArray(schema.items) ? schema.additionalItems : tuple && schema.prefixItems ? schema.items : schema.items;
      if (rest !== undefined && !(Array.isArray(rest))) {
        const from = tuple ? tuple.length : 0;
        const key = Array.isArray(schema.items) ? 'additionalItems' : 'items';
        for (let i = from; i < data.length; i++) {
          if (rest === false) return [fail(key, { limit: from }, `must NOT have more than ${from} items`)];
          const errors = check(rest, data[i], `${instancePath}/${i}`, `${schemaPath}/${key}`);
          if (errors.length) return errors;
        }
      }
      if (schema.contains !== undefined && !data.some((item, i) => check(schema.contains, item, `${instancePath}/${i}`, `${schemaPath}/contains`).length === 0)) {
        return [fail('contains', { minContains: 1 }, 'must contain at least 1 valid item(s)')];
      }
    }
    if (jsonType(data) === 'object') {
      const keys = Object.keys(data);
      if (typeof schema.maxProperties === 'number' && keys.length > schema.maxProperties) {
        return [fail('maxProperties', { limit: schema.maxProperties }, `must NOT have more than ${schema.maxProperties} properties`)];
      }
      if (typeof schema.minProperties === 'number' && keys.length < schema.minProperties) {
        return [fail('minProperties', { limit: schema.minProperties }, `must NOT have fewer than ${schema.minProperties} properties`)];
      }
      for (const name of schema.required || []) {
        if (data[name] === undefined) {
          return [fail('required', { missingProperty: name }, `must have required property '${name}'`)];
        }
      }
      if (schema.propertyNames !== undefined) {
        for (const key of keys) {
          const errors = check(schema.propertyNames, key, instancePath, `${schemaPath}/propertyNames`);
          if (errors.length) return [...errors, fail('propertyNames', { propertyName: key }, 'property name must be valid')];
        }
      }
      if (schema.additionalProperties !== undefined && schema.additionalProperties !== true) {
        const declared = Object.keys(schema.properties || {});
        const patterns = Object.keys(schema.patternProperties || {}).map((p) => new RegExp(p, 'u'));
        for (const key of keys) {
          if (declared.includes(key) || patterns.some((p) => p.test(key))) continue;
          if (schema.additionalProperties === false) {
            return [fail('additionalProperties', { additionalProperty: key }, 'must NOT have additional properties')];
          }
          const errors = check(schema.additionalProperties, data[key], `${instancePath}/${pointerEscape(key)}`, `${schemaPath}/additionalProperties`);
          if (errors.length) return errors;
        }
      }
      for (const [key, sub] of Object.entries(schema.properties || {})) {
        if (data[key] !== undefined) {
          const errors = check(sub, data[key], `${instancePath}/${pointerEscape(key)}`, `${schemaPath}/properties/${pointerEscape(key)}`);
          if (errors.length) return errors;
        }
      }
      for (const [pattern, sub] of Object.entries(schema.patternProperties || {})) {
        const regexp = new RegExp(pattern, 'u');
        for (const key of keys) {
          if (!regexp.test(key)) continue;
          const errors = check(sub, data[key], `${instancePath}/${pointerEscape(key)}`, `${schemaPath}/patternProperties/${pointerEscape(pattern)}`);
          if (errors.length) return errors;
        }
      }
    }
    return [];
  }

  const validateData = (data) => {
    const errors = check(root, data, '', '#');
    validateData.errors = errors.length ? errors : null;
    return errors.length === 0;
  };
  return validateData;
}

export function validate(schema = 'schema', data = 'data') {
  return async (state) => {
    if (!state.validationErrors) state.validationErrors = [];
    const [dataRef] = expandReferences(state, data);
    const resolvedData = typeof dataRef === 'string' ? queryJson(dataRef, state)[0] : dataRef;
    const [schemaRef] = expandReferences(state, schema);
    let resolvedSchema = schemaRef;
    if (typeof schemaRef === 'string') {
      if (/^https?:\/\//.test(schemaRef)) {
        try {
          const response = await request('GET', schemaRef, { parseAs: 'json' });
          resolvedSchema = response.body;
        } catch (e) {
          print('error', 'Error fetching schema from ', schemaRef);
          print('error', e);
        }
      } else {
        resolvedSchema = queryJson(schemaRef, state)[0];
      }
    }
    const schemaId = (resolvedSchema && resolvedSchema.$id) || 'schema';
    if (!schemaCache[schemaId]) schemaCache[schemaId] = schemaValidator(resolvedSchema);
    const check = schemaCache[schemaId];
    if (!check(resolvedData)) {
      state.validationErrors.push({ data: state.data, errors: check.errors });
    }
    return state;
  };
}

// ---------------------------------------------------------------------------------------
// cursor(), parseDate and dateFns (UTC)
// ---------------------------------------------------------------------------------------

const DAY_MS = 86400000;
const startOfUtcDay = (d) => new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);

function parseDate(d, startDate) {
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

let cursorStart;
let cursorKey = 'cursor';

export function cursor(value, options = {}) {
  return (state) => {
    const { format: formatter, ...rest } = options;
    const [resolvedValue, resolvedOptions] = expandReferences(state, value, rest);
    const { defaultValue, key } = resolvedOptions;
    if (key) cursorKey = key;
    if (!cursorStart) cursorStart = new Date();
    const chosen = resolvedValue ?? defaultValue;
    if (typeof chosen === 'string') {
      const date = parseDate(chosen, cursorStart);
      if (isDate(date)) {
        state[cursorKey] = formatter?.(date) ?? date.toISOString();
        const shown = formatter ? state[cursorKey] : formatDate(date, 'HH:mm d MMM yyyy (OOO)');
        print('log', `Setting ${cursorKey} "${chosen}" to: ${shown}`);
        return state;
      }
    }
    state[cursorKey] = formatter?.(chosen) ?? chosen;
    print('log', `Setting ${cursorKey} to:`, state[cursorKey]);
    return state;
  };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const ordinal = (n) => {
  const rem100 = n % 100;
  if (rem100 > 20 || rem100 < 10) {
    switch (rem100 % 10) {
      case 1: return `${n}st`;
      case 2: return `${n}nd`;
      case 3: return `${n}rd`;
      default: break;
    }
  }
  return `${n}th`;
};

const pad = (n, width) => String(Math.abs(n)).padStart(width, '0');

const toDateValue = (d) => (isDate(d) ? new Date(d.getTime()) : typeof d === 'number' ? new Date(d) : new Date(NaN));

function isoWeek(d) {
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = target.getUTCDay() || 7;
  target.setUTCDate(target.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(target.getUTCFullYear(), 0, 1));
  return Math.ceil(((target - yearStart) / DAY_MS + 1) / 7);
}

const utcDay = (d) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
const startOfWeek = (time) => time - new Date(time).getUTCDay() * DAY_MS;

// date-fns' local week-numbering year (weeks start on Sunday; week 1 contains 1 January).
function localWeekYear(d) {
  const year = d.getUTCFullYear();
  const day = utcDay(d);
  if (day >= startOfWeek(Date.UTC(year + 1, 0, 1))) return year + 1;
  if (day >= startOfWeek(Date.UTC(year, 0, 1))) return year;
  return year - 1;
}

function localWeek(d) {
  const start = startOfWeek(Date.UTC(localWeekYear(d), 0, 1));
  return Math.round((startOfWeek(utcDay(d)) - start) / (7 * DAY_MS)) + 1;
}

function isoWeekYear(d) {
  const thursday = utcDay(d) + (4 - (d.getUTCDay() || 7)) * DAY_MS;
  return new Date(thursday).getUTCFullYear();
}

const dayOfYear = (d) => Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;

function formatToken(token, d) {
  const letter = token[0];
  const n = token.length;
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const day = d.getUTCDate();
  const hours = d.getUTCHours();
  const weekday = d.getUTCDay();
  switch (letter) {
    case 'G': return n <= 3 ? (year > 0 ? 'AD' : 'BC') : n === 4 ? (year > 0 ? 'Anno Domini' : 'Before Christ') : (year > 0 ? 'A' : 'B');
    case 'y': case 'Y': case 'R': case 'u': {
      const value = letter === 'Y' ? localWeekYear(d) : letter === 'R' ? isoWeekYear(d) : year;
      if (n === 2 && letter !== 'u') return pad(value % 100, 2);
      return pad(value, n);
    }
    case 'Q': case 'q': {
      const quarter = Math.floor(month / 3) + 1;
      if (n === 1) return String(quarter);
      if (n === 2) return pad(quarter, 2);
      if (n === 3) return `Q${quarter}`;
      if (n === 4) return ['1st quarter', '2nd quarter', '3rd quarter', '4th quarter'][quarter - 1];
      return String(quarter);
    }
    case 'M': case 'L':
      if (n === 1) return String(month + 1);
      if (n === 2) return pad(month + 1, 2);
      if (n === 3) return MONTHS[month].slice(0, 3);
      if (n === 4) return MONTHS[month];
      return MONTHS[month][0];
    case 'w': return n === 2 ? pad(localWeek(d), 2) : String(localWeek(d));
    case 'I': return n === 2 ? pad(isoWeek(d), 2) : String(isoWeek(d));
    case 'd': return n === 2 ? pad(day, 2) : String(day);
    case 'D': return pad(dayOfYear(d), n);
    case 'E': case 'e': case 'c': case 'i': {
      if ((letter === 'e' || letter === 'c') && n <= 2) {
        const local = weekday + 1;
        return n === 2 ? pad(local, 2) : String(local);
      }
      if (letter === 'i' && n <= 2) {
        const iso = weekday || 7;
        return n === 2 ? pad(iso, 2) : String(iso);
      }
      if (n <= 3) return WEEKDAYS[weekday].slice(0, 3);
      if (n === 4) return WEEKDAYS[weekday];
      if (n === 5) return WEEKDAYS[weekday][0];
      return WEEKDAYS[weekday].slice(0, 2);
    }
    case 'b': {
      const period = hours === 12 ? 'noon' : hours === 0 ? 'midnight' : null;
      if (n <= 2) return period || (hours < 12 ? 'AM' : 'PM');
      if (n === 3) return period || (hours < 12 ? 'am' : 'pm');
      if (n === 5) return period ? (period === 'noon' ? 'n' : 'mi') : (hours < 12 ? 'a' : 'p');
      return period || (hours < 12 ? 'a.m.' : 'p.m.');
    }
    case 'B':
      if (hours >= 17) return 'in the evening';
      if (hours >= 12) return 'in the afternoon';
      if (hours >= 4) return 'in the morning';
      return 'at night';
    case 'a': {
      const upper = hours < 12 ? 'AM' : 'PM';
      if (n <= 2) return upper;
      if (n === 3) return upper.toLowerCase();
      if (n === 5) return upper[0].toLowerCase();
      return hours < 12 ? 'a.m.' : 'p.m.';
    }
    case 'h': { const h = hours % 12 || 12; return n === 2 ? pad(h, 2) : String(h); }
    case 'H': return n === 2 ? pad(hours, 2) : String(hours);
    case 'K': { const h = hours % 12; return n === 2 ? pad(h, 2) : String(h); }
    case 'k': { const h = hours || 24; return n === 2 ? pad(h, 2) : String(h); }
    case 'm': return n === 2 ? pad(d.getUTCMinutes(), 2) : String(d.getUTCMinutes());
    case 's': return n === 2 ? pad(d.getUTCSeconds(), 2) : String(d.getUTCSeconds());
    case 'S': return pad(d.getUTCMilliseconds(), 3).slice(0, n).padEnd(n, '0');
    case 'X': return 'Z';
    case 'x': return n === 1 ? '+00' : n === 2 || n === 4 ? '+0000' : '+00:00';
    case 'O': case 'z': return n === 4 ? 'GMT+00:00' : 'GMT+0';
    case 't': return String(Math.floor(d.getTime() / 1000));
    case 'T': return String(d.getTime());
    default: return token;
  }
}

const LONG_DATE = { P: 'MM/dd/yyyy', PP: 'MMM d, y', PPP: 'MMMM do, y', PPPP: 'EEEE, MMMM do, y' };
const LONG_TIME = { p: 'h:mm a', pp: 'h:mm:ss a', ppp: 'h:mm:ss a z', pppp: 'h:mm:ss a zzzz' };

function expandLongFormats(formatStr) {
  return formatStr.replace(/P+p+|P+|p+/g, (match) => {
    const datePart = match.match(/^P+/);
    const timePart = match.match(/p+$/);
    if (datePart && timePart) {
      const joiner = { 1: ', ', 2: ', ', 3: " 'at' ", 4: " 'at' " }[datePart[0].length];
      return `${LONG_DATE[datePart[0]]}${joiner}${LONG_TIME[timePart[0]]}`;
    }
    return datePart ? LONG_DATE[match] || match : LONG_TIME[match] || match;
  });
}

const TOKEN_PATTERN = /[yYQqMLwIdDecihHKkms]o|(\w)\1*|''|'(''|[^'])+('|$)|./g;

// date-fns refuses D/DD/YY/YYYY (moment-style tokens that mean something else) and warns on
// other D… / Y… tokens.
function protectedToken(token, formatStr, input) {
  if (!/^(D+|Y+)$/.test(token)) return;
  const subject = token[0] === 'Y' ? 'years' : 'days of the month';
  const message = `Use \`${token.toLowerCase()}\` instead of \`${token}\` (in \`${formatStr}\`) for formatting ${subject} to the input \`${input}\`; see: https://github.com/date-fns/date-fns/blob/master/docs/unicodeTokens.md`;
  print('warn', message);
  if (['D', 'DD', 'YY', 'YYYY'].includes(token)) throw new RangeError(message);
}

/** date-fns `format`, evaluated in UTC. */
function formatDate(date, formatStr) {
  const d = toDateValue(date);
  if (isNaN(d.getTime())) throw new RangeError('Invalid time value');
  const expanded = expandLongFormats(String(formatStr));
  return (expanded.match(TOKEN_PATTERN) || []).map((token) => {
    if (token === "''") return "'";
    if (token[0] === "'") return token.replace(/^'|'$/g, '').replace(/''/g, "'");
    if (/^[yYQqMLwIdDecihHKkms]o$/.test(token)) {
      const base = token.slice(0, -1);
      const value = Number(formatToken(base[0], d));
      if (base[0] === 'M' || base[0] === 'L') return ordinal(d.getUTCMonth() + 1);
      return ordinal(value);
    }
    if (/^[A-Za-z]/.test(token)) {
      protectedToken(token, formatStr, String(date));
      if (!/[GyYRuQqMLwIdDEeciabBhHKkmsSXxOzTt]/.test(token[0])) {
        throw new RangeError(`Format string contains an unescaped latin alphabet character \`${token[0]}\``);
      }
      return formatToken(token, d);
    }
    return token;
  }).join('');
}

/** date-fns `parse` (UTC): fields below the smallest parsed unit reset, the rest from referenceDate. */
function parseDateString(dateStr, formatStr, referenceDate) {
  const invalid = () => new Date(NaN);
  const tokens = expandLongFormats(String(formatStr)).match(TOKEN_PATTERN) || [];
  let rest = String(dateStr);
  const set = {};
  for (const token of tokens) {
    if (token[0] === "'" || !/^[A-Za-z]/.test(token)) {
      const literal = token === "''" ? "'" : token[0] === "'" ? token.replace(/^'|'$/g, '').replace(/''/g, "'") : token;
      if (/^\s+$/.test(literal)) { rest = rest.replace(/^\s+/, ''); continue; }
      if (!rest.startsWith(literal)) return invalid();
      rest = rest.slice(literal.length);
      continue;
    }
    protectedToken(token, formatStr, dateStr);
    const letter = token[0];
    const n = token.length;
    const take = (regexp) => {
      const m = rest.match(regexp);
      if (!m) return null;
      rest = rest.slice(m[0].length);
      return m[0];
    };
    // date-fns reads up to N digits for an N-letter numeric token ("MM" accepts "3").
    const number = (max) => take(new RegExp(`^\\d{1,${Math.max(n, max)}}`));
    if (/^[yYQqMLwIdDecihHKkms]o$/.test(token)) {
      const m = take(/^\d+(st|nd|rd|th)/);
      if (!m) return invalid();
      const value = parseInt(m, 10);
      if (letter === 'y') set.year = value;
      else if (letter === 'M' || letter === 'L') set.month = value - 1;
      else if (letter === 'd') set.day = value;
      else if ('hHkK'.includes(letter)) { set.hours = value; set.hourStyle = letter; }
      else if (letter === 'm') set.minutes = value;
      else if (letter === 's') set.seconds = value;
      continue;
    }
    let v;
    switch (letter) {
      case 'y': case 'Y': case 'u': case 'R':
        v = take(n === 2 ? /^\d{2}/ : /^\d{1,4}/);
        if (v === null) return invalid();
        set.year = n === 2 ? 2000 + Number(v) - (Number(v) >= 50 ? 100 : 0) : Number(v);
        break;
      case 'M': case 'L':
        if (n >= 3) {
          const names = MONTHS.map((m) => (n === 3 ? m.slice(0, 3) : m));
          const i = names.findIndex((m) => rest.toLowerCase().startsWith(m.toLowerCase()));
          if (i < 0) return invalid();
          rest = rest.slice(names[i].length);
          set.month = i;
        } else {
          v = number(2);
          if (v === null || Number(v) < 1 || Number(v) > 12) return invalid();
          set.month = Number(v) - 1;
        }
        break;
      case 'd':
        v = number(2);
        if (v === null || Number(v) < 1 || Number(v) > 31) return invalid();
        set.day = Number(v);
        break;
      case 'E': {
        const names = WEEKDAYS.map((w) => (n <= 3 ? w.slice(0, 3) : w));
        const i = names.findIndex((w) => rest.toLowerCase().startsWith(w.toLowerCase()));
        if (i < 0) return invalid();
        rest = rest.slice(names[i].length);
        break;
      }
      case 'H': case 'h': case 'k': case 'K':
        v = number(2);
        if (v === null) return invalid();
        {
          const [low, high] = { H: [0, 23], h: [1, 12], k: [1, 24], K: [0, 11] }[letter];
          if (Number(v) < low || Number(v) > high) return invalid();
        }
        set.hours = Number(v);
        set.hourStyle = letter;
        break;
      case 'a': {
        const m = take(/^(am|pm|a\.m\.|p\.m\.)/i);
        if (!m) return invalid();
        set.pm = /^p/i.test(m);
        break;
      }
      case 'm':
        v = number(2);
        if (v === null || Number(v) > 59) return invalid();
        set.minutes = Number(v);
        break;
      case 's':
        v = number(2);
        if (v === null || Number(v) > 59) return invalid();
        set.seconds = Number(v);
        break;
      case 'S':
        v = take(new RegExp(`^\\d{${n}}`));
        if (v === null) return invalid();
        set.ms = Math.round(Number(`0.${v}`) * 1000);
        break;
      case 'X': case 'x': {
        const m = take(/^(Z|[+-]\d{2}(:?\d{2})?)/);
        if (!m) return invalid();
        set.offset = m === 'Z' ? 0 : (m[0] === '-' ? -1 : 1) * (Number(m.slice(1, 3)) * 60 + Number(m.replace(':', '').slice(3, 5) || 0));
        break;
      }
      case 'T': case 't':
        v = take(/^-?\d+/);
        if (v === null) return invalid();
        set.timestamp = letter === 'T' ? Number(v) : Number(v) * 1000;
        break;
      default:
        throw new RangeError(`Format string contains an unescaped latin alphabet character \`${letter}\``);
    }
  }
  if (/\S/.test(rest)) return invalid();
  if (set.timestamp !== undefined) return new Date(set.timestamp);
  const ref = toDateValue(referenceDate);
  if (isNaN(ref.getTime())) return invalid();
  const d = new Date(ref.getTime());
  if (set.year !== undefined) { d.setUTCFullYear(set.year, 0, 1); d.setUTCHours(0, 0, 0, 0); }
  if (set.month !== undefined) { d.setUTCMonth(set.month, 1); d.setUTCHours(0, 0, 0, 0); }
  if (set.day !== undefined) {
    const month = d.getUTCMonth();
    d.setUTCDate(set.day);
    if (d.getUTCMonth() !== month) return invalid();
    d.setUTCHours(0, 0, 0, 0);
  }
  if (set.hours !== undefined) {
    let h = set.hours;
    if (set.hourStyle === 'h') h = h % 12 + (set.pm ? 12 : 0);
    else if (set.hourStyle === 'k' && h === 24) h = 0;
    else if (set.hourStyle === 'K' && set.pm) h += 12;
    d.setUTCHours(h, 0, 0, 0);
  } else if (set.pm !== undefined) {
    d.setUTCHours(d.getUTCHours() % 12 + (set.pm ? 12 : 0));
  }
  if (set.minutes !== undefined) d.setUTCMinutes(set.minutes, 0, 0);
  if (set.seconds !== undefined) d.setUTCSeconds(set.seconds, 0);
  if (set.ms !== undefined) d.setUTCMilliseconds(set.ms);
  if (set.offset !== undefined) return new Date(d.getTime() - set.offset * 60000);
  return d;
}

export const dateFns = { format: formatDate, parse: parseDateString };

// ---------------------------------------------------------------------------------------
// Remaining operations
// ---------------------------------------------------------------------------------------

export function assert(expression, errorMessage) {
  return (state) => {
    const [value, message] = expandReferences(state, expression, errorMessage);
    if (!value) {
      throw new Error(message || `assertion statement failed with ${value}`);
    }
    return state;
  };
}

export function log(...args) {
  return (state) => {
    const [resolved] = expandReferences(state, args);
    print('log', ...resolved);
    return state;
  };
}

export function debug(...args) {
  return (state) => {
    const [resolved] = expandReferences(state, args);
    print('debug', ...resolved);
    return state;
  };
}

export function as(key, operation) {
  return async (state) => {
    const [resolvedKey] = expandReferences(state, key);
    const previous = state.data;
    const result = await operation(state);
    const { data, ...rest } = result;
    state[resolvedKey] = data;
    state.data = previous;
    return { ...state, ...rest };
  };
}

// ---------------------------------------------------------------------------------------
// util: base64, uuid, errors, and the HTTP engine shared by both `http` namespaces
// ---------------------------------------------------------------------------------------

function encode(data, options = { parseJson: true }) {
  let str = data;
  if (typeof data !== 'string' && options.parseJson) {
    try {
      str = JSON.stringify(str);
    } catch (e) {
      print('log', e.message);
    }
  }
  if (isBinary(str)) return bytesToBase64(tagOf(str) === 'ArrayBuffer' ? new Uint8Array(str) : str);
  return bytesToBase64(utf8Encode(String(str)));
}

function decode(base64Data, options = { parseJson: true }) {
  let value = utf8Decode(base64ToBytes(base64Data));
  if ((value.startsWith('[') || value.startsWith('{')) && options.parseJson) {
    try {
      value = JSON.parse(value);
    } catch (e) {
      print('log', e.message);
    }
  }
  return value;
}

function uuid() {
  const hex = [];
  for (let i = 0; i < 16; i++) hex.push(Math.floor(Math.random() * 256));
  hex[6] = (hex[6] & 0x0f) | 0x40;
  hex[8] = (hex[8] & 0x3f) | 0x80;
  const s = hex.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

function throwError(code, { description, fix, ...extras } = {}) {
  const error = new Error(description ? `${code}: ${description}` : code);
  error.code = code;
  if (description) error.description = description;
  if (fix) error.fix = fix;
  for (const key in extras) error[key] = extras[key];
  throw error;
}

const REASON_PHRASES = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 303: 'See Other',
  304: 'Not Modified', 305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required',
  408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required',
  412: 'Precondition Failed', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long',
  415: 'Unsupported Media Type', 416: 'Requested Range Not Satisfiable', 417: 'Expectation Failed',
  418: "I'm a teapot", 419: 'Insufficient Space on Resource', 420: 'Method Failure',
  421: 'Misdirected Request', 422: 'Unprocessable Entity', 423: 'Locked', 424: 'Failed Dependency',
  426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 507: 'Insufficient Storage',
  511: 'Network Authentication Required',
};

function reasonPhrase(status) {
  const phrase = REASON_PHRASES[status];
  if (!phrase) throw new Error(`Status code does not exist: ${status}`);
  return phrase;
}

// Minimal WHATWG-style parsing of http(s) URLs (QuickJS has no URL class).
function parseHttpUrl(input) {
  const m = String(input).match(/^\s*(https?):[\\/]*([^\\/?#]*)([^?#]*)(\?[^#]*)?(#.*)?\s*$/i);
  if (!m || !m[2]) {
    const error = new TypeError('Invalid URL');
    error.code = 'ERR_INVALID_URL';
    error.input = String(input);
    throw error;
  }
  const protocol = `${m[1].toLowerCase()}:`;
  const authority = m[2].replace(/^.*@/, '');
  const hostMatch = authority.match(/^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/);
  if (!hostMatch) {
    const error = new TypeError('Invalid URL');
    error.code = 'ERR_INVALID_URL';
    error.input = String(input);
    throw error;
  }
  const hostname = hostMatch[1].toLowerCase();
  const defaultPort = protocol === 'https:' ? '443' : '80';
  const port = hostMatch[2] && String(Number(hostMatch[2])) !== defaultPort ? String(Number(hostMatch[2])) : '';
  const host = port ? `${hostname}:${port}` : hostname;
  const rawPath = m[3].replace(/\\/g, '/') || '/';
  const pathname = normalizePath(rawPath).replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/g, (c) => encodeURIComponent(c));
  const search = m[4] && m[4].length > 1 ? m[4].replace(/[ "<>`#]/g, (c) => encodeURIComponent(c)) : '';
  const origin = `${protocol}//${host}`;
  const hash = m[5] && m[5].length > 1 ? m[5].replace(/[ "<>`]/g, (c) => encodeURIComponent(c)) : '';
  return { protocol, hostname, port, host, origin, pathname, search, hash, href: `${origin}${pathname}${search}${hash}` };
}

function normalizePath(path) {
  const segments = [];
  const parts = path.split('/');
  parts.forEach((segment, i) => {
    if (segment === '..' || segment.toLowerCase() === '%2e%2e') {
      if (segments.length > 1) segments.pop();
      if (i === parts.length - 1) segments.push('');
    } else if (segment === '.' || segment.toLowerCase() === '%2e') {
      if (i === parts.length - 1) segments.push('');
    } else {
      segments.push(segment);
    }
  });
  const joined = segments.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

// node's path.posix.join: join with '/', then collapse '//', '.' and '..'.
function posixJoin(...parts) {
  const joined = parts.filter((p) => p !== '').join('/');
  if (!joined) return '.';
  const absolute = joined.startsWith('/');
  const trailing = joined.endsWith('/');
  const out = [];
  for (const segment of joined.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
    } else {
      out.push(segment);
    }
  }
  let result = out.join('/');
  if (trailing && result) result += '/';
  return (absolute ? '/' : '') + (result || (absolute ? '' : '.'));
}

function decodeQueryComponent(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch (e) {
    return s;
  }
}

// querystring.parse of a search string: repeated keys become arrays.
function parseQuery(search) {
  const result = {};
  const text = search.replace(/^\?/, '');
  if (!text) return result;
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decodeQueryComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeQueryComponent(eq < 0 ? '' : pair.slice(eq + 1));
    if (Object.prototype.hasOwnProperty.call(result, key)) {
      result[key] = [].concat(result[key], value);
    } else {
      result[key] = value;
    }
  }
  return result;
}

const queryValue = (v) => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return isFinite(v) ? String(v) : '';
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return '';
};

// node:querystring.stringify (what undici puts on the wire).
function stringifyQuery(query) {
  const escape = (s) => encodeURIComponent(s);
  return Object.keys(query).map((key) => {
    const value = query[key];
    if (Array.isArray(value)) return value.map((v) => `${escape(key)}=${escape(queryValue(v))}`).join('&');
    return `${escape(key)}=${escape(queryValue(value))}`;
  }).filter(Boolean).join('&');
}

// URLSearchParams(object).toString() (what OpenFn prints in its request log line).
function formEncodeQuery(query) {
  const escape = (s) => String(s).replace(/[^A-Za-z0-9*\-._ ]/g, (c) => encodeURIComponent(c).replace(/[!'()~]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`)).replace(/ /g, '+');
  return Object.keys(query).map((key) => `${escape(key)}=${escape(String(query[key]))}`).join('&');
}

const ERROR_ABSOLUTE_URL = 'Absolute URLs not supported';
const ERROR_URL_MISMATCH = 'Target origin does not match baseUrl origin';

function assertRelativeUrl(path) {
  if (/https?:\/\//.test(path)) {
    const e = new Error('UNEXPECTED_ABSOLUTE_URL');
    e.code = 'UNEXPECTED_ABSOLUTE_URL';
    e.description = 'An absolute URL was provided (https://...) but only a path (/a/b/c) is supported';
    e.url = path;
    e.fix = 'Remove the protocol, domain and origin from the provided URL. Maybe you need to use the generic HTTP helper functions instead?';
    throw e;
  }
}

function parseUrl(pathOrUrl = '', baseUrl) {
  let full;
  if (/https?:\/\//.test(pathOrUrl)) {
    full = parseHttpUrl(pathOrUrl);
    if (baseUrl) {
      const base = parseHttpUrl(baseUrl);
      if (full.origin !== base.origin) {
        const e = new Error(ERROR_URL_MISMATCH);
        e.code = 'BASE_URL_MISMATCH';
        e.description = 'A request was attempted to an absolute URL, but a different base URL was specified. This is a potential security violation.';
        e.target = pathOrUrl;
        e.baseUrl = baseUrl;
        e.fix = 'Try using a generic HTTP function to access the target URL';
        throw e;
      }
    }
  } else if (baseUrl) {
    full = parseHttpUrl(posixJoin(baseUrl, pathOrUrl));
  } else {
    full = parseHttpUrl(pathOrUrl);
  }
  return { url: full.href, baseUrl: full.origin, path: full.pathname, query: parseQuery(full.search) };
}

function makeBasicAuthHeader(username, password) {
  return { Authorization: `Basic ${encode(`${username}:${password}`)}` };
}

function logResponse(response) {
  const { method, url, statusCode, duration, query } = response;
  if (method && url && duration && statusCode) {
    const urlWithQuery = Object.keys(query || {}).length ? `${url}?${formEncodeQuery(query)}` : url;
    const message = `${method} ${urlWithQuery} - ${statusCode} in ${duration}ms`;
    if (isError(response)) {
      print('error', message);
      print('error', 'response body: ');
      print('error', response.body || '[no body]');
    } else {
      print('log', message);
    }
  }
  return response;
}

/** A multipart body for contentType: 'form' (what undici's FormData produces). */
class FormBody {
  constructor() {
    this.fields = [];
    // Same shape as undici's FormData boundary.
    this.boundary = `----formdata-undici-0${String(Math.floor(Math.random() * 1e11)).padStart(11, '0')}`;
  }

  append(name, value) {
    this.fields.push([String(name), value]);
  }

  contentType() {
    return `multipart/form-data; boundary=${this.boundary}`;
  }

  encode() {
    const escapeName = (s) => s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
    let text = '';
    for (const [name, value] of this.fields) {
      text += `--${this.boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"\r\n\r\n${String(value).replace(/\r(?!\n)|(?<!\r)\n/g, '\r\n')}\r\n`;
    }
    return `${text}--${this.boundary}--\r\n`;
  }
}

function encodeFormBody(data) {
  const form = new FormBody();
  for (const [key, value] of Object.entries(data || {})) {
    if (value === null || value === undefined) continue;
    form.append(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return form;
}

function headerPairs(headers) {
  const pairs = [];
  for (const [name, value] of Object.entries(headers || {})) {
    if (value === undefined || value === null) continue;
    for (const v of [].concat(value)) pairs.push([name, String(v)]);
  }
  return pairs;
}

function headersObject(pairs) {
  const result = {};
  for (const [name, value] of pairs) {
    if (Object.prototype.hasOwnProperty.call(result, name)) {
      result[name] = [].concat(result[name], value);
    } else {
      result[name] = value;
    }
  }
  return result;
}

/** The response body, decoded as OpenFn does: by parseAs, else JSON by content-type. */
function readResponseBody(response, parseAs) {
  const contentLength = 'content-length' in response.headers ? parseInt(response.headers['content-length'], 10) : -1;
  const contentType = response.headers['content-type'];
  if (contentLength === 0 || !contentType || response.statusCode === 204) return undefined;
  try {
    switch (parseAs) {
      case 'json': return JSON.parse(response.text);
      case 'text': return response.text;
      case 'stream': return response.text;
      case 'base64': return response.base64 ?? bytesToBase64(utf8Encode(response.text));
      default:
        return String(contentType).includes('application/json') ? JSON.parse(response.text) : response.text;
    }
  } catch (error) {
    return throwError(response.statusCode, {
      description: 'Error parsing the response body',
      parseAs,
      contentType,
      bodyLength: contentLength,
      error: error.message,
    });
  }
}

function networkError(info) {
  const { name, message, ...props } = info || {};
  const error = new Error(message || 'request failed');
  if (name && name !== 'Error') error.name = name;
  for (const key of Object.keys(props)) error[key] = props[key];
  return error;
}

async function sendRequest(description) {
  const { http } = host();
  if (typeof http !== 'function') throw new Error('HTTP is not available in this runtime');
  let raw;
  try {
    raw = await http(JSON.stringify(description));
  } catch (e) {
    throw new Error(e && e.message ? e.message : String(e));
  }
  const reply = JSON.parse(raw);
  if (!reply.ok) throw networkError(reply.error);
  return reply;
}

function requestBody(body) {
  if (!body) return {};
  if (body instanceof FormBody) return { bodyText: body.encode() };
  if (isBinary(body)) return { bodyBase64: bytesToBase64(tagOf(body) === 'ArrayBuffer' ? new Uint8Array(body) : body) };
  if (typeof body === 'string') return { bodyText: body };
  if (typeof body === 'object') return { bodyText: JSON.stringify(body) };
  throw new Error('Unsupported body type');
}

// Node's `ca` / `cert` / `key` TLS options as PEM text (strings or Buffers).
function tlsMaterial(tls) {
  if (!tls || typeof tls !== 'object') return undefined;
  const pem = (v) => (v == null ? undefined : isBinary(v) ? utf8Decode(tagOf(v) === 'ArrayBuffer' ? new Uint8Array(v) : v) : String(v));
  return {
    ca: [].concat(tls.ca ?? []).map(pem).filter(Boolean),
    cert: pem(tls.cert),
    key: pem(tls.key),
  };
}

const REDIRECT_STATUSES = [300, 301, 302, 303, 304, 305, 307, 308];

/** One HTTP request: `{url, method, statusCode, statusMessage, headers, body, duration, query?}`. */
async function request(method, fullUrlOrPath, options = {}) {
  const startTime = Date.now();
  const { url, baseUrl, path, query: urlQuery } = parseUrl(fullUrlOrPath, options.baseUrl);
  const {
    headers = {},
    query: optionQuery = {},
    body,
    errors = {},
    timeout = 300000,
    tls = {},
    parseAs = 'auto',
    maxRedirections,
    throwOnUnhandledRedirect = true,
  } = options;
  const queryParams = { ...optionQuery, ...urlQuery };
  const queryString = stringifyQuery(queryParams);
  const pairs = headerPairs(headers);
  if (body instanceof FormBody && !pairs.some(([n]) => n.toLowerCase() === 'content-type')) {
    pairs.push(['content-type', body.contentType()]);
  }
  const reply = await sendRequest({
    method,
    url: `${baseUrl}${path}${queryString ? `?${queryString}` : ''}`,
    headers: pairs,
    ...requestBody(body),
    timeoutMs: typeof timeout === 'number' && timeout > 0 ? timeout : 300000,
    maxRedirections: typeof maxRedirections === 'number' ? maxRedirections : 0,
    rejectUnauthorized: !(tls && tls.rejectUnauthorized === false),
    tls: tlsMaterial(tls),
    wantBase64: parseAs === 'base64',
  });
  const response = {
    statusCode: reply.status,
    headers: headersObject(reply.headers),
    text: reply.bodyText,
    base64: reply.bodyBase64,
  };
  const statusText = reasonPhrase(response.statusCode);

  if (errors !== false) {
    const mapped = errors[response.statusCode];
    const failed = typeof mapped === 'boolean' ? mapped : mapped || response.statusCode >= 400;
    if (failed) {
      const errorBody = readResponseBody(response);
      const message = typeof mapped === 'function'
        ? mapped(response)
        : mapped || `${method} to ${url} returned ${response.statusCode}: ${statusText}`;
      const error = new Error(message);
      error.statusCode = response.statusCode;
      error.statusMessage = statusText;
      error.url = url;
      error.duration = Date.now() - startTime;
      error.method = method;
      error.body = errorBody;
      error.headers = response.headers;
      throw error;
    }
  }
  if (REDIRECT_STATUSES.includes(response.statusCode) && maxRedirections === undefined && throwOnUnhandledRedirect) {
    throwError(response.statusCode, {
      statusMessage: statusText,
      description: "Response has redirect status, but 'maxRedirections' is not set",
      fix: `Set 'maxRedirections' to enable auto-redirect.Example: request('GET', '${fullUrlOrPath}', { maxRedirections: 5 })`,
    });
  }
  const responseBody = readResponseBody(response, parseAs);
  const result = {
    url,
    method,
    statusCode: response.statusCode,
    statusMessage: statusText,
    headers: response.headers,
    body: responseBody,
    duration: Date.now() - startTime,
  };
  if (Object.keys(queryParams).length > 0) result.query = queryParams;
  return result;
}

const util = {
  ERROR_ABSOLUTE_URL,
  ERROR_URL_MISMATCH,
  assertRelativeUrl,
  decode,
  del: (url, body, options) => request('DELETE', url, { body, ...options }),
  encode,
  encodeFormBody,
  expandReferences,
  get: (url, options) => request('GET', url, options),
  logResponse,
  makeBasicAuthHeader,
  parseDate,
  parseUrl,
  post: (url, body, options) => request('POST', url, { body, ...options }),
  put: (url, body, options) => request('PUT', url, { body, ...options }),
  request,
  throwError,
  uuid,
};

// For language-http and the runtime: bolt internals, invisible to Object.keys(util).
Object.defineProperty(util, '__bolt', {
  enumerable: false,
  value: { print, inspect, formatArgs, composeNextState, utf8Encode, utf8Decode, bytesToBase64, base64ToBytes },
});

export { util };

// ---------------------------------------------------------------------------------------
// http: language-common's own HTTP operations (no auth from configuration, no references)
// ---------------------------------------------------------------------------------------

const optionHelpers = {
  json() {
    lodash.set(this, 'headers.Content-Type', 'application/json');
    return this;
  },
  basic(username, password) {
    lodash.set(this, 'headers.Authorization', `Basic ${encode(`${username}:${password}`)}`);
    return this;
  },
  bearer(token) {
    lodash.set(this, 'headers.Authorization', `Bearer ${token}`);
    return this;
  },
  oauth(token) {
    lodash.set(this, 'headers.Authorization', `Bearer ${token}`);
    return this;
  },
};

function httpOptions(opts = {}) {
  for (const name of Object.keys(optionHelpers)) {
    Object.defineProperty(opts, name, { enumerable: false, configurable: true, value: optionHelpers[name] });
  }
  return opts;
}

function httpRequest(method, url, options) {
  return async (state) => {
    const [resolvedMethod, resolvedUrl, resolvedOptions] = expandReferences(state, method, url, options);
    const { body, ...withoutBody } = await request(resolvedMethod, resolvedUrl, resolvedOptions);
    return { ...state, response: withoutBody, data: body };
  };
}

export const http = {
  get: (url, options) => httpRequest('GET', url, options),
  options: httpOptions,
  post: (url, data, options) => httpRequest('POST', url, { body: data, ...options }),
  request: httpRequest,
};

// ---------------------------------------------------------------------------------------
// `_`: the lodash functions real jobs use. Anything else throws an Error naming it.
// ---------------------------------------------------------------------------------------

function toPath(path) {
  if (Array.isArray(path)) return path.map(String);
  const result = [];
  String(path).replace(/[^.[\]]+|\[(?:(-?\d+(?:\.\d+)?)|(["'])((?:(?!\2)[^\\]|\\.)*?)\2)\]|(?=(?:\.|\[\])(?:\.|\[\]|$))/g,
    (match, number, quote, subString) => {
      result.push(quote ? subString.replace(/\\(\\)?/g, '$1') : number !== undefined ? number : match);
      return match;
    });
  return result;
}

function get(object, path, defaultValue) {
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

function set(object, path, value) {
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

const collectionValues = (collection) => {
  if (collection == null) return [];
  if (Array.isArray(collection) || typeof collection === 'string') return Array.from(collection);
  if (typeof collection.length === 'number' && typeof collection !== 'function') return Array.from(collection);
  return Object.values(collection);
};

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

const adaptor = {
  _: lodash, alterState, arrayToString, as, asData, assert, beta, chunk, combine, composeNextState, cursor,
  dataPath, dataValue, dateFns, debug, each, execute, field, fields, fn, fnIf, group, http, humanProper,
  index, join, jsonValue, lastReferenceValue, log, map, merge, parseCsv, referencePath, scrubEmojis,
  source, sourceValue, splitKeys, toArray, util, validate,
};

export default adaptor;
