// Node-style formatting for adaptor output: util.inspect / util.format, and print(), which
// sends a formatted line to the host console. Internal to bolt's adaptor modules.

import { isDate, isError, isMap, isRegExp, isSet, printLine, tagOf } from '@openfn/language-common/internal/helpers';

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
export function inspect(value) {
  return formatValue({ seen: [], indentation: 0, currentDepth: 0 }, value, 0);
}

/** Formats console arguments like Node's util.format (incl. %s %d %i %f %j %o %O %%). */
export function formatArgs(args) {
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
export function print(level, ...args) {
  printLine(level, formatArgs(args));
}
