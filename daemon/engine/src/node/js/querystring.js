// node:querystring: parse/stringify/escape/unescape with Node's rules (`+` is a space when
// parsing, malformed percent sequences stay as written, repeated keys become arrays,
// results have a null prototype).

import { Buffer } from 'node:buffer';
import { nodeError } from 'bolt:node/internal/errors';

const HEX = '0123456789ABCDEF';
const UNRESERVED = /[A-Za-z0-9\-_.!~*'()]/;

export function escape(str) {
  if (typeof str !== 'string') {
    if (typeof str === 'object') str = String(str);
    else str += '';
  }
  let out = '';
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x80) {
      out += UNRESERVED.test(str[i]) ? str[i] : `%${HEX[c >> 4]}${HEX[c & 15]}`;
      continue;
    }
    let cp = c;
    if (c >= 0xd800 && c < 0xe000) {
      const next = str.charCodeAt(i + 1);
      if (c >= 0xdc00 || !(next >= 0xdc00 && next < 0xe000)) {
        throw nodeError(URIError, 'ERR_INVALID_URI', 'URI malformed');
      }
      cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
      i++;
    }
    for (const b of Buffer.from(String.fromCodePoint(cp))) out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

function unescapeBuffer(s, decodeSpaces) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '+' && decodeSpaces) { out.push(32); continue; }
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
      continue;
    }
    const code = s.codePointAt(i);
    if (code > 0xffff) i++;
    for (const b of Buffer.from(String.fromCodePoint(code))) out.push(b);
  }
  return Buffer.from(out);
}

export function unescape(s, decodeSpaces) {
  try {
    return decodeURIComponent(s);
  } catch (_) {
    return unescapeBuffer(s, decodeSpaces).toString();
  }
}

function stringifyPrimitive(v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return `${v}`;
  if (typeof v === 'bigint') return `${v}`;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return '';
}

export function stringify(obj, sep = '&', eq = '=', options) {
  sep = sep || '&';
  eq = eq || '=';
  const encode = options && typeof options.encodeURIComponent === 'function' ? options.encodeURIComponent : escape;
  if (obj === null || typeof obj !== 'object') return '';
  const parts = [];
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    const ks = `${encode(stringifyPrimitive(key))}${eq}`;
    if (Array.isArray(value)) {
      for (const item of value) parts.push(ks + encode(stringifyPrimitive(item)));
    } else {
      parts.push(ks + encode(stringifyPrimitive(value)));
    }
  }
  return parts.join(sep);
}

function decodeComponent(s, decode) {
  const spaced = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (decode !== unescape) {
    try { return decode(spaced); } catch (_) { return unescape(spaced, true); }
  }
  return unescape(spaced, true);
}

export function parse(qs, sep = '&', eq = '=', options) {
  const obj = Object.create(null);
  if (typeof qs !== 'string' || qs.length === 0) return obj;
  sep = sep || '&';
  eq = eq || '=';
  const maxKeys = options && typeof options.maxKeys === 'number' ? options.maxKeys : 1000;
  const decode = options && typeof options.decodeURIComponent === 'function' ? options.decodeURIComponent : unescape;
  let pairs = qs.split(sep);
  if (maxKeys > 0) pairs = pairs.slice(0, maxKeys);
  for (const pair of pairs) {
    if (pair.length === 0) continue;
    const at = pair.indexOf(eq);
    const rawKey = at >= 0 ? pair.slice(0, at) : pair;
    const rawValue = at >= 0 ? pair.slice(at + eq.length) : '';
    const key = decodeComponent(rawKey, decode);
    const value = decodeComponent(rawValue, decode);
    if (!(key in obj)) obj[key] = value;
    else if (Array.isArray(obj[key])) obj[key].push(value);
    else obj[key] = [obj[key], value];
  }
  return obj;
}

export const decode = parse;
export const encode = stringify;

export default { parse, stringify, escape, unescape, decode, encode, unescapeBuffer };
export { unescapeBuffer };
