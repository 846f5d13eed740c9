// Node-style formatting for adaptor output: util.inspect / util.format, and print(), which
// sends a formatted line to the host console. Internal to bolt's adaptor modules; node:util
// exposes the same functions to npm code.

import { isDate, isError, isMap, isRegExp, isSet, printLine, tagOf } from '@openfn/language-common/internal/helpers';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BREAK_LENGTH = 80;
/** `util.inspect.custom`. */
export const customInspectSymbol = Symbol.for('nodejs.util.inspect.custom');
const INSPECT_MAX_BYTES = 50;
const MAX_ARRAY_LENGTH = 100;
const MAX_STRING_LENGTH = 10000;

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

function formatPrimitive(ctx, value) {
  switch (typeof value) {
    case 'string': {
      if (value.length > ctx.maxStringLength) {
        const rest = value.length - ctx.maxStringLength;
        return `${quoteString(value.slice(0, ctx.maxStringLength))}... ${rest} more character${rest > 1 ? 's' : ''}`;
      }
      return quoteString(value);
    }
    case 'number': return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint': return `${value}n`;
    case 'symbol': return value.toString();
    case 'undefined': return 'undefined';
    case 'boolean': return String(value);
    default: return value === null ? 'null' : String(value);
  }
}

function functionLabel(fn) {
  let source = '';
  try { source = Function.prototype.toString.call(fn); } catch (_) { /* a revoked proxy */ }
  if (/^class[\s{]/.test(source)) {
    const base = Object.getPrototypeOf(fn);
    const extendsPart = base && base.name ? ` extends ${base.name}` : '';
    return `[class ${fn.name || '(anonymous)'}${extendsPart}]`;
  }
  const ctorName = fn.constructor && fn.constructor.name;
  const kind = ['AsyncFunction', 'GeneratorFunction', 'AsyncGeneratorFunction'].includes(ctorName) ? ctorName : 'Function';
  return fn.name ? `[${kind}: ${fn.name}]` : `[${kind} (anonymous)]`;
}

// Node arranges long arrays of short items in aligned columns.
function groupArrayElements(ctx, output, value) {
  let totalLength = 0;
  let maxLength = 0;
  const hasMore = output.length > 0 && /^\.\.\. \d+ more items?$/.test(output[output.length - 1]);
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
  if (actualMax * 3 + ctx.indentation < ctx.breakLength &&
      (totalLength / actualMax > 5 || maxLength <= 6)) {
    const averageBias = Math.sqrt(actualMax - totalLength / output.length);
    const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
    const columns = Math.min(
      Math.round(Math.sqrt(2.5 * biasedMax * outputLength) / biasedMax),
      Math.floor((ctx.breakLength - ctx.indentation) / actualMax),
      ctx.compact * 4,
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
    const numeric = value !== undefined && Array.prototype.every.call(value, (v) => typeof v === 'number' || typeof v === 'bigint');
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
  // A multi-line head (an error's stack) always puts the entries on lines of their own.
  if (ctx.currentDepth - depth < ctx.compact && !grouped && !braces[0].includes('\n')) {
    const start = output.length + ctx.indentation + braces[0].length + 10;
    let total = output.length + start;
    let fits = total + output.length <= ctx.breakLength;
    for (let i = 0; fits && i < output.length; i++) {
      total += output[i].length;
      if (total > ctx.breakLength) fits = false;
    }
    if (fits) {
      const joined = output.join(', ');
      if (!joined.includes('\n')) return `${braces[0]} ${joined} ${braces[1]}`;
    }
  }
  const indentation = `\n${' '.repeat(ctx.indentation)}`;
  return `${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
}

function formatKey(key) {
  if (typeof key === 'symbol') return `[${key.toString()}]`;
  return IDENTIFIER.test(key) ? key : quoteString(key);
}

// One `key: value` entry; accessors show as [Getter], [Setter] or [Getter/Setter] (Node
// doesn't call them), non-enumerable keys (showHidden) in brackets.
function formatProperty(ctx, value, key, depth, hidden) {
  const descriptor = Object.getOwnPropertyDescriptor(value, key) || { value: value[key] };
  const name = hidden && typeof key !== 'symbol' ? `[${key}]` : formatKey(key);
  if (descriptor.get || descriptor.set) {
    const kind = descriptor.get && descriptor.set ? 'Getter/Setter' : descriptor.get ? 'Getter' : 'Setter';
    return `${name}: [${kind}]`;
  }
  return `${name}: ${formatValue(ctx, descriptor.value, depth + 1)}`;
}

function ownKeys(ctx, value, skipIndices) {
  const keys = ctx.showHidden ? Object.getOwnPropertyNames(value) : Object.keys(value);
  const filtered = skipIndices ? keys.filter((k) => !/^(0|[1-9]\d*)$/.test(k)) : keys;
  const symbols = Object.getOwnPropertySymbols(value)
    .filter((s) => ctx.showHidden || Object.prototype.propertyIsEnumerable.call(value, s));
  return [...filtered, ...symbols];
}

function isEnumerable(value, key) {
  return Object.prototype.propertyIsEnumerable.call(value, key);
}

function constructorName(value) {
  let object = value;
  while (object !== null && object !== undefined) {
    const descriptor = Object.getOwnPropertyDescriptor(object, 'constructor');
    if (descriptor && typeof descriptor.value === 'function' && descriptor.value.name !== '') {
      return descriptor.value.name;
    }
    object = Object.getPrototypeOf(object);
  }
  return null;
}

function prefixOf(value, fallback) {
  const name = constructorName(value);
  let tag = '';
  try { tag = value[Symbol.toStringTag]; } catch (_) { /* a throwing getter */ }
  const tagPart = typeof tag === 'string' && tag !== '' && tag !== name ? ` [${tag}]` : '';
  if (name === null) return `[${fallback}: null prototype]${tagPart} `;
  return `${name}${tagPart} `;
}

const TYPED_ARRAY_TAGS = new Set(['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']);

function isBuffer(value) {
  return value instanceof Uint8Array && constructorName(value) === 'Buffer';
}

function hex(bytes, max) {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const rest = bytes.length - max;
  return rest > 0 ? `${shown} ... ${rest} more byte${rest > 1 ? 's' : ''}` : shown;
}

function formatError(ctx, value, depth) {
  // QuickJS stacks hold only the frames; Node's start with "Name: message".
  const head = value.message ? `${value.name}: ${value.message}` : String(value.name);
  const stack = typeof value.stack === 'string' ? value.stack : '';
  let text;
  if (!stack) text = `[${head}]`;
  else text = stack.startsWith(head) ? stack.replace(/\n$/, '') : `${head}\n${stack.replace(/\n$/, '')}`;
  if (ctx.indentation) text = text.replace(/\n/g, `\n${' '.repeat(ctx.indentation)}`);
  const keys = ownKeys(ctx, value, false).filter((k) => k !== 'stack' && k !== 'message');
  if (value.cause !== undefined && !keys.includes('cause')) keys.push('cause');
  if (keys.length === 0 || depth > ctx.depth) return text;
  ctx.seen.push(value);
  ctx.indentation += 2;
  const output = keys.map((key) => {
    if (key === 'cause' && !isEnumerable(value, key)) return `[cause]: ${formatValue(ctx, value.cause, depth + 1)}`;
    return formatProperty(ctx, value, key, depth, !isEnumerable(value, key));
  });
  ctx.indentation -= 2;
  ctx.seen.pop();
  return joinEntries(ctx, output, [`${text} {`, '}'], depth, false);
}

function formatValue(ctx, value, depth) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    return formatPrimitive(ctx, value);
  }
  if (ctx.customInspect) {
    let custom;
    try { custom = value[customInspectSymbol]; } catch (_) { /* a throwing getter */ }
    const isOwnPrototype = value.constructor && value.constructor.prototype === value;
    if (typeof custom === 'function' && custom !== inspect && !isOwnPrototype) {
      const options = { ...ctx.userOptions, depth: ctx.depth === Infinity ? null : ctx.depth - depth, stylize: (s) => s };
      const result = custom.call(value, options.depth, options, inspect);
      if (result !== value) {
        if (typeof result !== 'string') return formatValue(ctx, result, depth);
        return result.replace(/\n/g, `\n${' '.repeat(ctx.indentation)}`);
      }
    }
  }
  if (ctx.seen.includes(value)) return '[Circular *1]';
  if (typeof value === 'function' && ownKeys(ctx, value, false).filter((k) => !ctx.showHidden || !['length', 'name', 'prototype'].includes(k)).length === 0) {
    return functionLabel(value);
  }
  if (isDate(value)) return isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (isRegExp(value)) return String(value);
  if (isError(value)) return formatError(ctx, value, depth);
  if (isBuffer(value)) {
    const extra = ownKeys(ctx, value, true);
    return `<Buffer${value.length ? ` ${hex(value, INSPECT_MAX_BYTES)}` : ''}${extra.length ? ', ...' : ''}>`;
  }

  const tag = tagOf(value);
  let braces;
  let entries;
  let keys;
  let empty = false;
  if (Array.isArray(value)) {
    const prefix = constructorName(value) === 'Array' ? '' : prefixOf(value, 'Array');
    braces = [`${prefix}[`, ']'];
    keys = ownKeys(ctx, value, true);
    empty = value.length === 0 && keys.length === 0;
    entries = (c, d) => arrayEntries(c, value, d);
  } else if (TYPED_ARRAY_TAGS.has(tag)) {
    braces = [`${prefixOf(value, tag).trimEnd()}(${value.length}) [`, ']'];
    keys = ownKeys(ctx, value, true);
    empty = value.length === 0 && keys.length === 0;
    entries = (c) => {
      const shown = Math.min(value.length, c.maxArrayLength);
      const out = [];
      for (let i = 0; i < shown; i++) out.push(formatPrimitive(c, value[i]));
      if (value.length > shown) out.push(`... ${value.length - shown} more item${value.length - shown > 1 ? 's' : ''}`);
      return out;
    };
  } else if (isMap(value)) {
    braces = [`${prefixOf(value, 'Map').trimEnd()}(${value.size}) {`, '}'];
    keys = ownKeys(ctx, value, false);
    empty = value.size === 0 && keys.length === 0;
    entries = (c, d) => Array.from(value, ([k, v]) => `${formatValue(c, k, d + 1)} => ${formatValue(c, v, d + 1)}`);
  } else if (isSet(value)) {
    braces = [`${prefixOf(value, 'Set').trimEnd()}(${value.size}) {`, '}'];
    keys = ownKeys(ctx, value, false);
    empty = value.size === 0 && keys.length === 0;
    entries = (c, d) => Array.from(value, (v) => formatValue(c, v, d + 1));
  } else if (tag === 'ArrayBuffer' || tag === 'SharedArrayBuffer') {
    keys = [];
    braces = [`${prefixOf(value, tag)}{`, '}'];
    entries = () => [`[Uint8Contents]: <${hex(new Uint8Array(value), INSPECT_MAX_BYTES)}>`, `byteLength: ${value.byteLength}`];
  } else if (tag === 'WeakMap' || tag === 'WeakSet' || tag === 'WeakRef') {
    return `${prefixOf(value, tag)}{ <items unknown> }`;
  } else if (tag === 'Promise') {
    keys = ownKeys(ctx, value, false);
    braces = [`${prefixOf(value, 'Promise')}{`, '}'];
    entries = () => ['<pending>'];
  } else if (tag === 'Arguments') {
    keys = ownKeys(ctx, value, false);
    braces = ['[Arguments] [', ']'];
    empty = keys.length === 0;
    entries = (c, d) => Array.from(value, (v) => formatValue(c, v, d + 1));
    keys = [];
  } else if (['String', 'Number', 'Boolean', 'BigInt', 'Symbol'].includes(tag) && typeof value === 'object') {
    const primitive = formatPrimitive(ctx, value.valueOf());
    keys = ownKeys(ctx, value, tag === 'String');
    const base = `[${tag}${constructorName(value) !== tag ? ` (${constructorName(value)})` : ''}: ${primitive}]`;
    if (keys.length === 0) return base;
    braces = [`${base} {`, '}'];
    entries = () => [];
  } else {
    keys = ownKeys(ctx, value, false);
    if (typeof value === 'function') {
      braces = [`${functionLabel(value)} {`, '}'];
      if (ctx.showHidden) keys = keys.filter((k) => !['length', 'name', 'prototype', 'arguments', 'caller'].includes(k));
    } else {
      const proto = Object.getPrototypeOf(value);
      const prefix = proto === null ? prefixOf(value, 'Object')
        : constructorName(value) === 'Object' && !(typeof value[Symbol.toStringTag] === 'string' && value[Symbol.toStringTag] !== '')
          ? '' : prefixOf(value, 'Object');
      braces = [`${prefix}{`, '}'];
    }
    empty = keys.length === 0;
    entries = () => [];
  }
  if (empty) return `${braces[0]}${braces[1] === ']' ? ']' : '}'}`;
  if (depth > ctx.depth) {
    if (Array.isArray(value)) return '[Array]';
    const name = constructorName(value);
    return `[${name || (typeof value === 'function' ? 'Function' : 'Object')}]`;
  }
  ctx.seen.push(value);
  ctx.currentDepth = depth;
  ctx.indentation += 2;
  const output = entries(ctx, depth);
  for (const key of keys) {
    output.push(formatProperty(ctx, value, key, depth, !isEnumerable(value, key)));
  }
  ctx.indentation -= 2;
  ctx.seen.pop();
  let grouped = false;
  if ((Array.isArray(value) || TYPED_ARRAY_TAGS.has(tag)) && output.length > 6 && ctx.compact >= 1) {
    const before = output.length;
    const regrouped = groupArrayElements(ctx, output, Array.isArray(value) ? value : undefined);
    grouped = regrouped.length !== before;
    output.splice(0, output.length, ...regrouped);
  }
  return joinEntries(ctx, output, braces, depth, grouped);
}

function arrayEntries(ctx, value, depth) {
  const output = [];
  const shown = Math.min(value.length, ctx.maxArrayLength);
  let holes = 0;
  for (let i = 0; i < shown; i++) {
    if (!(i in value)) { holes++; continue; }
    if (holes) { output.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`); holes = 0; }
    output.push(formatValue(ctx, value[i], depth + 1));
  }
  if (holes) output.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`);
  if (value.length > shown) output.push(`... ${value.length - shown} more item${value.length - shown > 1 ? 's' : ''}`);
  return output;
}

function contextFor(options) {
  const opts = options && typeof options === 'object' ? options : {};
  const depth = opts.depth === null ? Infinity : typeof opts.depth === 'number' ? opts.depth : 2;
  return {
    seen: [],
    indentation: 0,
    currentDepth: 0,
    depth,
    customInspect: opts.customInspect !== false,
    showHidden: Boolean(opts.showHidden),
    breakLength: typeof opts.breakLength === 'number' ? opts.breakLength : BREAK_LENGTH,
    compact: typeof opts.compact === 'number' ? opts.compact : opts.compact === false ? 0 : 3,
    maxArrayLength: opts.maxArrayLength === null ? Infinity : typeof opts.maxArrayLength === 'number' ? opts.maxArrayLength : MAX_ARRAY_LENGTH,
    maxStringLength: opts.maxStringLength === null ? Infinity : typeof opts.maxStringLength === 'number' ? opts.maxStringLength : MAX_STRING_LENGTH,
    userOptions: opts,
  };
}

/**
 * Formats a value the way Node's util.inspect does: options `depth` (2; null for no limit),
 * `showHidden`, `customInspect`, `breakLength`, `compact`, `maxArrayLength`,
 * `maxStringLength`; a legacy `(value, showHidden, depth)` call works too.
 */
export function inspect(value, options, legacyDepth) {
  if (typeof options === 'boolean') options = { showHidden: options, depth: legacyDepth };
  return formatValue(contextFor(options), value, 0);
}
inspect.custom = customInspectSymbol;

// Node's `%s` inspects objects unless they bring their own toString.
const BUILT_IN_CONSTRUCTORS = new Set(['Object', 'Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError',
  'EvalError', 'URIError', 'AggregateError', 'Date', 'Array', 'RegExp', 'Map', 'Set', 'WeakMap', 'WeakSet', 'Promise',
  'Function', 'Number', 'String', 'Boolean', 'Symbol', 'BigInt', 'ArrayBuffer', 'DataView', ...TYPED_ARRAY_TAGS]);

function hasBuiltInToString(value) {
  if (typeof value.toString !== 'function') return true;
  if (Object.prototype.hasOwnProperty.call(value, 'toString')) return false;
  let pointer = value;
  do { pointer = Object.getPrototypeOf(pointer); } while (pointer !== null && !Object.prototype.hasOwnProperty.call(pointer, 'toString'));
  if (pointer === null) return true;
  const descriptor = Object.getOwnPropertyDescriptor(pointer, 'constructor');
  return descriptor !== undefined && typeof descriptor.value === 'function' && BUILT_IN_CONSTRUCTORS.has(descriptor.value.name);
}

function formatNumberArg(value, integer) {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol' || (typeof value === 'object' && value !== null)) return 'NaN';
  const n = integer ? parseInt(value) : Number(value);
  return Object.is(n, -0) ? '-0' : String(n);
}

/** Formats console arguments like Node's util.format (incl. %s %d %i %f %j %o %O %c %%). */
export function formatArgs(args, inspectOptions) {
  const show = (a) => (typeof a === 'string' ? a : inspect(a, inspectOptions));
  if (typeof args[0] === 'string' && args.length > 1 && args[0].includes('%')) {
    let index = 1;
    const head = args[0].replace(/%([sdifjoOc%])/g, (match, spec) => {
      if (spec === '%') return '%';
      if (index >= args.length) return match;
      const arg = args[index++];
      switch (spec) {
        case 's':
          if (typeof arg === 'number') return Object.is(arg, -0) ? '-0' : String(arg);
          if (typeof arg === 'bigint') return `${arg}n`;
          if (typeof arg !== 'object' || arg === null || !hasBuiltInToString(arg)) return String(arg);
          return inspect(arg, { ...inspectOptions, depth: 0 });
        case 'd': return formatNumberArg(arg, false);
        case 'i': return formatNumberArg(arg, true);
        case 'f': return typeof arg === 'symbol' ? 'NaN' : String(parseFloat(arg));
        case 'j': try { return JSON.stringify(arg); } catch (e) { return '[Circular]'; }
        case 'c': return '';
        case 'o': return inspect(arg, { ...inspectOptions, showHidden: true, depth: 4 });
        default: return inspect(arg, inspectOptions);
      }
    });
    return [head, ...args.slice(index).map(show)].join(' ');
  }
  return args.map(show).join(' ');
}

/** Prints a raw line through the host console, as Node adaptors do. */
export function print(level, ...args) {
  printLine(level, formatArgs(args));
}
