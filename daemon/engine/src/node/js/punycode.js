// node:punycode (deprecated in Node, still required by some packages): RFC 3492.

import { nodeError } from 'bolt:node/internal/errors';

const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 128;

const rangeError = (type) => nodeError(RangeError, 'ERR_PUNYCODE', {
  overflow: 'Overflow: input needs wider integers to process',
  'not-basic': 'Illegal input >= 0x80 (not a basic code point)',
  'invalid-input': 'Invalid input',
}[type]);

function ucs2decode(text) {
  const out = [];
  for (let i = 0; i < text.length; i++) {
    const value = text.charCodeAt(i);
    if (value >= 0xd800 && value <= 0xdbff && i + 1 < text.length) {
      const extra = text.charCodeAt(i + 1);
      if ((extra & 0xfc00) === 0xdc00) {
        out.push(((value & 0x3ff) << 10) + (extra & 0x3ff) + 0x10000);
        i++;
        continue;
      }
    }
    out.push(value);
  }
  return out;
}
const ucs2encode = (codePoints) => String.fromCodePoint(...codePoints);

const digitToBasic = (digit) => digit + 22 + 75 * (digit < 26);
function basicToDigit(code) {
  if (code >= 0x30 && code < 0x3a) return 26 + (code - 0x30);
  if (code >= 0x41 && code < 0x5b) return code - 0x41;
  if (code >= 0x61 && code < 0x7b) return code - 0x61;
  return BASE;
}

function adapt(delta, numPoints, firstTime) {
  let k = 0;
  delta = firstTime ? Math.floor(delta / DAMP) : delta >> 1;
  delta += Math.floor(delta / numPoints);
  for (; delta > ((BASE - T_MIN) * T_MAX) >> 1; k += BASE) delta = Math.floor(delta / (BASE - T_MIN));
  return Math.floor(k + ((BASE - T_MIN + 1) * delta) / (delta + SKEW));
}

export function decode(input) {
  const output = [];
  let basic = input.lastIndexOf('-');
  if (basic < 0) basic = 0;
  for (let j = 0; j < basic; ++j) {
    if (input.charCodeAt(j) >= 0x80) throw rangeError('not-basic');
    output.push(input.charCodeAt(j));
  }
  let i = 0;
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  for (let index = basic > 0 ? basic + 1 : 0; index < input.length;) {
    const oldi = i;
    for (let w = 1, k = BASE; ; k += BASE) {
      if (index >= input.length) throw rangeError('invalid-input');
      const digit = basicToDigit(input.charCodeAt(index++));
      if (digit >= BASE) throw rangeError('invalid-input');
      i += digit * w;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < t) break;
      w *= BASE - t;
    }
    const out = output.length + 1;
    bias = adapt(i - oldi, out, oldi === 0);
    n += Math.floor(i / out);
    i %= out;
    output.splice(i++, 0, n);
  }
  return String.fromCodePoint(...output);
}

export function encode(input) {
  const output = [];
  const codePoints = ucs2decode(input);
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  for (const c of codePoints) if (c < 0x80) output.push(String.fromCharCode(c));
  const basicLength = output.length;
  let handled = basicLength;
  if (basicLength) output.push('-');
  while (handled < codePoints.length) {
    let m = Infinity;
    for (const c of codePoints) if (c >= n && c < m) m = c;
    delta += (m - n) * (handled + 1);
    n = m;
    for (const c of codePoints) {
      if (c < n) ++delta;
      if (c === n) {
        let q = delta;
        for (let k = BASE; ; k += BASE) {
          const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
          if (q < t) break;
          const qMinusT = q - t;
          const baseMinusT = BASE - t;
          output.push(String.fromCharCode(digitToBasic(t + (qMinusT % baseMinusT))));
          q = Math.floor(qMinusT / baseMinusT);
        }
        output.push(String.fromCharCode(digitToBasic(q)));
        bias = adapt(delta, handled + 1, handled === basicLength);
        delta = 0;
        ++handled;
      }
    }
    ++delta;
    ++n;
  }
  return output.join('');
}

const mapDomain = (domain, fn) => {
  const at = domain.lastIndexOf('@');
  const prefix = at >= 0 ? domain.slice(0, at + 1) : '';
  const rest = (at >= 0 ? domain.slice(at + 1) : domain).replace(/[\x2E\u3002\uFF0E\uFF61]/g, '.');
  return prefix + rest.split('.').map(fn).join('.');
};

export const toUnicode = (input) => mapDomain(input, (label) => (/^xn--/.test(label) ? decode(label.slice(4).toLowerCase()) : label));
export const toASCII = (input) => mapDomain(input, (label) => (/[^\0-\x7F]/.test(label) ? `xn--${encode(label)}` : label));
export const ucs2 = { decode: ucs2decode, encode: ucs2encode };
export const version = '2.1.0';

export default { decode, encode, toASCII, toUnicode, ucs2, version };
