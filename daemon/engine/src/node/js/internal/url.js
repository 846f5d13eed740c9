// WHATWG URL and URLSearchParams. Parsing and the setters are the `url` crate's (host
// functions), which implements the URL Standard Node follows; the query list is kept here.

import { nodeError, missingArgs, invalidArgType, invalidThis } from 'bolt:node/internal/errors';
import { host } from 'bolt:node/internal/host';
import { encodeUtf8, decodeUtf8 } from 'bolt:node/internal/encoding';
import { customInspectSymbol, inspect } from '@openfn/language-common/internal/inspect';

const HREF = 0;
const ORIGIN = 1;
const PROTOCOL = 2;
const USERNAME = 3;
const PASSWORD = 4;
const HOST = 5;
const HOSTNAME = 6;
const PORT = 7;
const PATHNAME = 8;
const SEARCH = 9;
const HASH = 10;

function invalidUrl(input, base) {
  const error = nodeError(TypeError, 'ERR_INVALID_URL', 'Invalid URL');
  error.input = input;
  if (base !== undefined) error.base = base;
  return error;
}

// ---- application/x-www-form-urlencoded ---------------------------------------------------

function percentDecode(text) {
  if (!text.includes('%')) return text;
  const bytes = encodeUtf8(text);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  const hexValue = (b) => (b >= 48 && b <= 57 ? b - 48 : b >= 65 && b <= 70 ? b - 55 : b >= 97 && b <= 102 ? b - 87 : -1);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 37 && i + 2 < bytes.length) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[n++] = bytes[i];
  }
  return decodeUtf8(out.subarray(0, n));
}

export function parseUrlencoded(input) {
  const list = [];
  for (const sequence of input.split('&')) {
    if (sequence === '') continue;
    const at = sequence.indexOf('=');
    const name = at >= 0 ? sequence.slice(0, at) : sequence;
    const value = at >= 0 ? sequence.slice(at + 1) : '';
    list.push([percentDecode(name.replace(/\+/g, ' ')), percentDecode(value.replace(/\+/g, ' '))]);
  }
  return list;
}

const HEX = '0123456789ABCDEF';
function serializeComponent(text) {
  let out = '';
  const bytes = encodeUtf8(toUSV(text));
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
        b === 0x2a || b === 0x2d || b === 0x2e || b === 0x5f) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) {
      out += '+';
    } else {
      out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
    }
  }
  return out;
}

function toUSV(value) {
  return String(value).replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

export function serializeUrlencoded(list) {
  return list.map(([name, value]) => `${serializeComponent(name)}=${serializeComponent(value)}`).join('&');
}

// ---- URLSearchParams ---------------------------------------------------------------------

const kList = Symbol('query');
const kUrl = Symbol('url');

export class URLSearchParams {
  constructor(init = undefined) {
    this[kList] = [];
    this[kUrl] = null;
    if (init === undefined || init === null) return;
    if (typeof init === 'object' || typeof init === 'function') {
      if (typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          if ((typeof pair !== 'object' && typeof pair !== 'function') || pair === null || typeof pair[Symbol.iterator] !== 'function') {
            throw nodeError(TypeError, 'ERR_INVALID_TUPLE', 'Each query pair must be an iterable [name, value] tuple');
          }
          const items = [...pair];
          if (items.length !== 2) {
            throw nodeError(TypeError, 'ERR_INVALID_TUPLE', 'Each query pair must be an iterable [name, value] tuple');
          }
          this[kList].push([toUSV(items[0]), toUSV(items[1])]);
        }
      } else {
        for (const key of Reflect.ownKeys(init)) {
          if (typeof key !== 'string' || !Object.prototype.propertyIsEnumerable.call(init, key)) continue;
          this[kList].push([toUSV(key), toUSV(init[key])]);
        }
      }
      return;
    }
    let text = toUSV(init);
    if (text.startsWith('?')) text = text.slice(1);
    this[kList] = parseUrlencoded(text);
  }

  #update() {
    const url = this[kUrl];
    if (url) url.__setSearchFromParams(serializeUrlencoded(this[kList]));
  }

  get size() { return this[kList].length; }

  append(name, value) {
    if (arguments.length < 2) throw missingArgs('name', 'value');
    this[kList].push([toUSV(name), toUSV(value)]);
    this.#update();
  }

  delete(name, value) {
    if (arguments.length < 1) throw missingArgs('name');
    name = toUSV(name);
    const hasValue = value !== undefined;
    if (hasValue) value = toUSV(value);
    this[kList] = this[kList].filter(([n, v]) => !(n === name && (!hasValue || v === value)));
    this.#update();
  }

  get(name) {
    if (arguments.length < 1) throw missingArgs('name');
    name = toUSV(name);
    const found = this[kList].find(([n]) => n === name);
    return found ? found[1] : null;
  }

  getAll(name) {
    if (arguments.length < 1) throw missingArgs('name');
    name = toUSV(name);
    return this[kList].filter(([n]) => n === name).map(([, v]) => v);
  }

  has(name, value) {
    if (arguments.length < 1) throw missingArgs('name');
    name = toUSV(name);
    const hasValue = value !== undefined;
    if (hasValue) value = toUSV(value);
    return this[kList].some(([n, v]) => n === name && (!hasValue || v === value));
  }

  set(name, value) {
    if (arguments.length < 2) throw missingArgs('name', 'value');
    name = toUSV(name);
    value = toUSV(value);
    const list = this[kList];
    const first = list.findIndex(([n]) => n === name);
    if (first < 0) list.push([name, value]);
    else {
      list[first][1] = value;
      this[kList] = list.filter(([n], i) => i <= first || n !== name);
    }
    this.#update();
  }

  sort() {
    const indexed = this[kList].map((pair, i) => [pair, i]);
    indexed.sort(([a, i], [b, j]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : i - j));
    this[kList] = indexed.map(([pair]) => pair);
    this.#update();
  }

  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
    for (let i = 0; i < this[kList].length; i++) {
      const [name, value] = this[kList][i];
      callback.call(thisArg, value, name, this);
    }
  }

  *entries() { for (let i = 0; i < this[kList].length; i++) yield [...this[kList][i]]; }
  *keys() { for (let i = 0; i < this[kList].length; i++) yield this[kList][i][0]; }
  *values() { for (let i = 0; i < this[kList].length; i++) yield this[kList][i][1]; }
  [Symbol.iterator]() { return this.entries(); }

  toString() {
    if (!(this instanceof URLSearchParams)) throw invalidThis('URLSearchParams');
    return serializeUrlencoded(this[kList]);
  }

  get [Symbol.toStringTag]() { return 'URLSearchParams'; }

  [customInspectSymbol](depth, options) {
    if (this[kList].length === 0) return 'URLSearchParams {}';
    const entries = this[kList].map(([n, v]) => `${inspect(n)} => ${inspect(v)}`);
    const oneLine = `URLSearchParams { ${entries.join(', ')} }`;
    return oneLine.length <= 80 ? oneLine : `URLSearchParams {\n  ${entries.join(',\n  ')} }`;
  }

  /** For URL: replaces the list from a new query string, without writing back. */
  __replace(query) {
    this[kList] = parseUrlencoded(query);
  }
}

// ---- URL ---------------------------------------------------------------------------------

export class URL {
  #parts;
  #searchParams = null;

  constructor(input, base = undefined) {
    if (arguments.length === 0) throw missingArgs('url');
    input = `${input}`;
    if (base !== undefined) base = `${base}`;
    const parts = host().url.parse(input, base);
    if (parts === null || parts === undefined) throw invalidUrl(input, base);
    this.#parts = parts;
  }

  static canParse(input, base = undefined) {
    if (arguments.length === 0) throw missingArgs('url');
    const parts = host().url.parse(`${input}`, base === undefined ? undefined : `${base}`);
    return parts !== null && parts !== undefined;
  }

  static parse(input, base = undefined) {
    try { return new URL(input, base); } catch (_) { return null; }
  }

  static createObjectURL(blob) { return createObjectURL(blob); }
  static revokeObjectURL(url) { objectUrls.delete(`${url}`); }

  #set(part, value) {
    const parts = host().url.set(this.#parts[HREF], part, `${value}`);
    if (parts === null || parts === undefined) {
      if (part === 'href') throw invalidUrl(`${value}`);
      return;
    }
    this.#parts = parts;
    if (this.#searchParams && (part === 'href' || part === 'search')) {
      this.#searchParams.__replace(this.#parts[SEARCH].slice(1));
    }
  }

  /** For URLSearchParams: the query changed. */
  __setSearchFromParams(query) {
    // An empty list drops the `?` (the url crate's setter does that for "").
    const parts = host().url.set(this.#parts[HREF], 'search', query);
    if (parts) this.#parts = parts;
  }

  get href() { return this.#parts[HREF]; }
  set href(value) { this.#set('href', value); }
  get origin() { return this.#parts[ORIGIN]; }
  get protocol() { return this.#parts[PROTOCOL]; }
  set protocol(value) { this.#set('protocol', value); }
  get username() { return this.#parts[USERNAME]; }
  set username(value) { this.#set('username', value); }
  get password() { return this.#parts[PASSWORD]; }
  set password(value) { this.#set('password', value); }
  get host() { return this.#parts[HOST]; }
  set host(value) { this.#set('host', value); }
  get hostname() { return this.#parts[HOSTNAME]; }
  set hostname(value) { this.#set('hostname', value); }
  get port() { return this.#parts[PORT]; }
  set port(value) { this.#set('port', value); }
  get pathname() { return this.#parts[PATHNAME]; }
  set pathname(value) { this.#set('pathname', value); }
  get search() { return this.#parts[SEARCH]; }
  set search(value) { this.#set('search', value); }
  get hash() { return this.#parts[HASH]; }
  set hash(value) { this.#set('hash', value); }
  get searchParams() {
    if (this.#searchParams === null) {
      this.#searchParams = new URLSearchParams(this.#parts[SEARCH]);
      this.#searchParams[kUrl] = this;
    }
    return this.#searchParams;
  }

  toString() { return this.#parts[HREF]; }
  toJSON() { return this.#parts[HREF]; }
  get [Symbol.toStringTag]() { return 'URL'; }

  [customInspectSymbol](depth, options, inspectFn = inspect) {
    const shown = Object.create({ constructor: URL });
    for (const key of ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port',
      'pathname', 'search', 'searchParams', 'hash']) {
      shown[key] = this[key];
    }
    return inspectFn(shown, options);
  }
}

// ---- blob: URLs (URL.createObjectURL) ----------------------------------------------------

const objectUrls = new Map();
let objectUrlCounter = 0;

function createObjectURL(blob) {
  if (!blob || typeof blob.arrayBuffer !== 'function' || typeof blob.size !== 'number') {
    throw invalidArgType('obj', 'an instance of Blob', blob);
  }
  objectUrlCounter += 1;
  const hex = objectUrlCounter.toString(16).padStart(12, '0');
  const id = `blob:nodedata:00000000-0000-4000-8000-${hex}`;
  objectUrls.set(id, blob);
  return id;
}

/** The Blob a `blob:` URL names (node:buffer's resolveObjectURL). */
export function resolveObjectURL(url) {
  return objectUrls.get(`${url}`);
}

export function domainToASCII(domain) {
  if (arguments.length === 0) throw missingArgs('domain');
  return host().url.toAscii(`${domain}`);
}

export function domainToUnicode(domain) {
  if (arguments.length === 0) throw missingArgs('domain');
  return host().url.toUnicode(`${domain}`);
}
