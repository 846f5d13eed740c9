// fetch, Headers, Request, Response and FormData as Node's (undici's) have them, sending
// through bolt's HTTP host: undici's default request headers, `redirect` modes, gzip/
// deflate/brotli decoding, AbortSignal (which abandons the host request), `data:` URLs,
// and "TypeError: fetch failed" with the network error as its `cause`.

import { invalidArgType, missingArgs } from 'bolt:node/internal/errors';
import { host, toBinary } from 'bolt:node/internal/host';
import { encodeUtf8, decodeUtf8 } from 'bolt:node/internal/encoding';
import { URL, URLSearchParams, parseUrlencoded } from 'bolt:node/internal/url';
import { Blob, File, blobBytes } from 'bolt:node/internal/blob';
import { ReadableStream, WritableStream, isDisturbed } from 'bolt:node/internal/webstreams';
import { exchange, ABORTED, STATUS_CODES } from 'bolt:node/internal/http_host';
import { customInspectSymbol, inspect } from '@openfn/language-common/internal/inspect';

// ---- Headers ------------------------------------------------------------------------------

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const kList = Symbol('headers list');
const kGuard = Symbol('guard');

function normalizeValue(value) {
  return String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
}

function validate(method, name, value) {
  if (!TOKEN.test(name)) throw new TypeError(`Headers.${method}: "${name}" is an invalid header name.`);
  if (value !== undefined && /[\0\r\n]/.test(value)) {
    throw new TypeError(`Headers.${method}: "${value}" is an invalid header value.`);
  }
}

export class Headers {
  constructor(init = undefined) {
    // Entries keep the name as given (it goes on the wire that way), compared lower-cased.
    this[kList] = [];
    this[kGuard] = 'none';
    if (init === undefined || init === null) return;
    if (typeof init !== 'object' && typeof init !== 'function') {
      throw new TypeError("Headers constructor: Expected init to be an object, a sequence of sequences or a record.");
    }
    if (init instanceof Headers) {
      for (const [name, value] of init[kList]) this.append(name, value);
    } else if (typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        const items = typeof pair === 'string' ? null : [...pair];
        if (!items || items.length !== 2) {
          throw new TypeError('Headers constructor: expected name/value pair to be length 2, found ' + (items ? items.length : 1) + '.');
        }
        this.append(items[0], items[1]);
      }
    } else {
      for (const key of Reflect.ownKeys(init)) {
        if (typeof key !== 'string' || !Object.prototype.propertyIsEnumerable.call(init, key)) continue;
        this.append(key, init[key]);
      }
    }
  }

  #mutable(method) {
    if (this[kGuard] === 'immutable') throw new TypeError(`Headers.${method}: immutable`);
  }

  append(name, value) {
    if (arguments.length < 2) throw missingArgs('name', 'value');
    this.#mutable('append');
    name = String(name);
    value = normalizeValue(value);
    validate('append', name, value);
    this[kList].push([name, value]);
  }

  delete(name) {
    if (arguments.length < 1) throw missingArgs('name');
    this.#mutable('delete');
    name = String(name);
    validate('delete', name);
    const lower = name.toLowerCase();
    this[kList] = this[kList].filter(([n]) => n.toLowerCase() !== lower);
  }

  get(name) {
    if (arguments.length < 1) throw missingArgs('name');
    name = String(name);
    validate('get', name);
    const lower = name.toLowerCase();
    const values = this[kList].filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
    return values.length ? values.join(', ') : null;
  }

  getSetCookie() {
    return this[kList].filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v);
  }

  has(name) {
    if (arguments.length < 1) throw missingArgs('name');
    name = String(name);
    validate('has', name);
    const lower = name.toLowerCase();
    return this[kList].some(([n]) => n.toLowerCase() === lower);
  }

  set(name, value) {
    if (arguments.length < 2) throw missingArgs('name', 'value');
    this.#mutable('set');
    name = String(name);
    value = normalizeValue(value);
    validate('set', name, value);
    const lower = name.toLowerCase();
    const at = this[kList].findIndex(([n]) => n.toLowerCase() === lower);
    if (at < 0) {
      this[kList].push([name, value]);
      return;
    }
    this[kList][at] = [this[kList][at][0], value];
    this[kList] = this[kList].filter(([n], i) => i <= at || n.toLowerCase() !== lower);
  }

  // Sorted, combined (except set-cookie), lower-cased: what iteration shows.
  #sorted() {
    const names = [...new Set(this[kList].map(([n]) => n.toLowerCase()))].sort();
    const out = [];
    for (const name of names) {
      if (name === 'set-cookie') {
        for (const value of this.getSetCookie()) out.push([name, value]);
      } else {
        out.push([name, this.get(name)]);
      }
    }
    return out;
  }

  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
    for (const [name, value] of this.#sorted()) callback.call(thisArg, value, name, this);
  }

  *entries() { yield* this.#sorted(); }
  *keys() { for (const [name] of this.#sorted()) yield name; }
  *values() { for (const [, value] of this.#sorted()) yield value; }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return 'Headers'; }

  [customInspectSymbol]() {
    const entries = this.#sorted();
    if (entries.length === 0) return 'Headers {}';
    const shown = Object.create({ constructor: Headers });
    for (const [name, value] of entries) shown[name] = shown[name] === undefined ? value : `${shown[name]}, ${value}`;
    return inspect(shown);
  }

  /** The entries as given (names in their original case), for the wire. */
  __raw() { return this[kList].map(([n, v]) => [n, v]); }
}

function fill(headers, init) {
  return init instanceof Headers ? new Headers(init) : new Headers(init);
}

// ---- FormData -----------------------------------------------------------------------------

const kEntries = Symbol('entries');

function formEntry(name, value, filename) {
  name = String(name);
  if (value instanceof Blob) {
    if (!(value instanceof File) || filename !== undefined) {
      value = new File([value], filename !== undefined ? String(filename) : value instanceof File ? value.name : 'blob', { type: value.type });
    }
    return [name, value];
  }
  if (filename !== undefined) {
    throw new TypeError("Failed to execute 'append' on 'FormData': parameter 2 is not of type 'Blob'.");
  }
  return [name, String(value)];
}

export class FormData {
  constructor(form = undefined) {
    if (form !== undefined) {
      throw new TypeError("FormData constructor: Argument 1 could not be converted to: undefined.");
    }
    this[kEntries] = [];
  }
  append(name, value, filename = undefined) {
    if (arguments.length < 2) throw missingArgs('name', 'value');
    this[kEntries].push(formEntry(name, value, filename));
  }
  delete(name) {
    name = String(name);
    this[kEntries] = this[kEntries].filter(([n]) => n !== name);
  }
  get(name) {
    name = String(name);
    const found = this[kEntries].find(([n]) => n === name);
    return found ? found[1] : null;
  }
  getAll(name) {
    name = String(name);
    return this[kEntries].filter(([n]) => n === name).map(([, v]) => v);
  }
  has(name) {
    name = String(name);
    return this[kEntries].some(([n]) => n === name);
  }
  set(name, value, filename = undefined) {
    if (arguments.length < 2) throw missingArgs('name', 'value');
    const entry = formEntry(name, value, filename);
    const at = this[kEntries].findIndex(([n]) => n === entry[0]);
    if (at < 0) this[kEntries].push(entry);
    else {
      this[kEntries][at] = entry;
      this[kEntries] = this[kEntries].filter(([n], i) => i <= at || n !== entry[0]);
    }
  }
  forEach(callback, thisArg = undefined) {
    for (const [name, value] of this[kEntries].slice()) callback.call(thisArg, value, name, this);
  }
  *entries() { for (const [n, v] of this[kEntries]) yield [n, v]; }
  *keys() { for (const [n] of this[kEntries]) yield n; }
  *values() { for (const [, v] of this[kEntries]) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return 'FormData'; }
}

/** multipart/form-data as undici writes it: its boundary format, CRLF line breaks. */
export function encodeFormData(form) {
  const digits = String(Math.floor(Math.random() * 1e11)).padStart(11, '0');
  const boundary = `----formdata-undici-0${digits}`;
  const prefix = `--${boundary}\r\nContent-Disposition: form-data`;
  const escape = (str) => str.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
  const normalize = (value) => value.replace(/\r?\n|\r/g, '\r\n');
  const parts = [];
  for (const [name, value] of form[kEntries]) {
    if (typeof value === 'string') {
      parts.push(encodeUtf8(`${prefix}; name="${escape(normalize(name))}"\r\n\r\n${normalize(value)}\r\n`));
    } else {
      parts.push(encodeUtf8(`${prefix}; name="${escape(normalize(name))}"${value.name ? `; filename="${escape(value.name)}"` : ''}\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`));
      parts.push(blobBytes(value));
      parts.push(encodeUtf8('\r\n'));
    }
  }
  parts.push(encodeUtf8(`--${boundary}--\r\n`));
  return { bytes: concatBytes(parts), type: `multipart/form-data; boundary=${boundary}` };
}

export function isFormData(value) {
  return value instanceof FormData;
}

function concatBytes(parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- bodies -------------------------------------------------------------------------------

const kBody = Symbol('body');

/** `{bytes | stream, type}` for a BodyInit (fetch's "extract a body"). */
export function extractBody(body) {
  if (body === null || body === undefined) return null;
  if (typeof body === 'string') return { bytes: encodeUtf8(body), type: 'text/plain;charset=UTF-8' };
  if (body instanceof URLSearchParams) {
    return { bytes: encodeUtf8(body.toString()), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  if (body instanceof ArrayBuffer) return { bytes: new Uint8Array(body.slice(0)), type: null };
  if (ArrayBuffer.isView(body)) {
    return { bytes: new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)), type: null };
  }
  if (body instanceof Blob) return { bytes: blobBytes(body), type: body.type || null };
  if (body instanceof FormData) {
    const { bytes, type } = encodeFormData(body);
    return { bytes, type };
  }
  if (body instanceof ReadableStream) {
    if (body.locked || isDisturbed(body)) throw new TypeError('Response body object should not be disturbed or locked');
    return { stream: body, type: null };
  }
  if (typeof body[Symbol.asyncIterator] === 'function') {
    return { stream: ReadableStream.from(body), type: null };
  }
  return { bytes: encodeUtf8(String(body)), type: 'text/plain;charset=UTF-8' };
}

function bytesStream(bytes) {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (!sent && bytes.length) controller.enqueue(bytes);
      sent = true;
      controller.close();
    },
  });
}

async function readAll(stream) {
  const reader = stream.getReader();
  const parts = [];
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    if (typeof value === 'string') parts.push(encodeUtf8(value));
    else if (value instanceof Uint8Array) parts.push(value);
    else if (ArrayBuffer.isView(value)) parts.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    else if (value instanceof ArrayBuffer) parts.push(new Uint8Array(value));
    else throw new TypeError('Received non-Uint8Array chunk');
  }
  return concatBytes(parts);
}

/** The body's bytes, for sending (a stream is read to its end). */
export async function bodyBytes(body) {
  if (!body) return null;
  if (body.bytes) return body.bytes;
  return readAll(body.stream);
}

function unusable() {
  return new TypeError('Body is unusable: Body has already been read');
}

// The Body mixin of Request and Response.
const BodyMixin = {
  get body() {
    const b = this[kBody];
    if (!b) return null;
    if (!b.stream) b.stream = bytesStream(b.bytes);
    return b.stream;
  },
  get bodyUsed() {
    const b = this[kBody];
    return !!b && (b.used || (b.stream ? isDisturbed(b.stream) : false));
  },
  async arrayBuffer() {
    const bytes = await consume(this);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  },
  async bytes() {
    return (await consume(this)).slice();
  },
  async blob() {
    const bytes = await consume(this);
    return new Blob([bytes], { type: serializeMime(this.headers.get('content-type')) });
  },
  async text() {
    return decodeUtf8(await consume(this));
  },
  async json() {
    return JSON.parse(decodeUtf8(await consume(this)));
  },
  async formData() {
    const type = this.headers.get('content-type') || '';
    const bytes = await consume(this);
    if (/^application\/x-www-form-urlencoded/i.test(type)) {
      const form = new FormData();
      for (const [name, value] of parseUrlencoded(decodeUtf8(bytes))) form.append(name, value);
      return form;
    }
    const boundary = /^multipart\/form-data.*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
    if (boundary) return parseMultipart(bytes, boundary[1] || boundary[2]);
    throw new TypeError('Content-Type was not one of "multipart/form-data" or "application/x-www-form-urlencoded".');
  },
};

async function consume(message) {
  const b = message[kBody];
  if (!b) return new Uint8Array(0);
  if (message.bodyUsed) throw unusable();
  if (b.stream) {
    if (b.stream.locked) throw unusable();
    const bytes = await readAll(b.stream);
    b.used = true;
    return bytes;
  }
  b.used = true;
  return b.bytes;
}

function parseMultipart(bytes, boundary) {
  const form = new FormData();
  const text = String.fromCharCode.apply(null, Array.from(bytes));
  const delimiter = `--${boundary}`;
  for (const part of text.split(delimiter).slice(1)) {
    if (part.startsWith('--')) break;
    const body = part.replace(/^\r\n/, '').replace(/\r\n$/, '');
    const split = body.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = body.slice(0, split);
    const content = body.slice(split + 4);
    const disposition = /content-disposition:[^\r\n]*/i.exec(head);
    const name = disposition && /name="([^"]*)"/i.exec(disposition[0].replace(/filename="[^"]*"/i, ''));
    if (!name) continue;
    const filename = disposition && /filename="([^"]*)"/i.exec(disposition[0]);
    const contentType = /content-type:\s*([^\r\n]*)/i.exec(head);
    const contentBytes = Uint8Array.from(content, (c) => c.charCodeAt(0));
    if (filename) {
      form.append(name[1], new File([contentBytes], filename[1], { type: contentType ? contentType[1] : '' }));
    } else {
      form.append(name[1], decodeUtf8(contentBytes));
    }
  }
  return form;
}

function mixBody(Class) {
  for (const key of Object.keys(Object.getOwnPropertyDescriptors(BodyMixin))) {
    Object.defineProperty(Class.prototype, key, { ...Object.getOwnPropertyDescriptor(BodyMixin, key), enumerable: false });
  }
}

// ---- Request ------------------------------------------------------------------------------

const kRequest = Symbol('request');
const FORBIDDEN_METHODS = ['CONNECT', 'TRACE', 'TRACK'];
const NORMALIZED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'];

export class Request {
  constructor(input, init = {}) {
    if (arguments.length < 1) throw new TypeError("Request constructor: At least 1 argument required, but only 0 present.");
    init = init === null || init === undefined ? {} : init;
    let state;
    if (input instanceof Request) {
      const from = input[kRequest];
      state = { ...from, headers: new Headers(input.headers) };
      if (!('body' in init) && input[kBody]) {
        if (input.bodyUsed) throw new TypeError('Cannot construct a Request with a Request object that has already been used.');
        this[kBody] = input[kBody];
      }
    } else {
      let url;
      try {
        url = new URL(String(input));
      } catch (cause) {
        throw new TypeError(`Failed to parse URL from ${input}`, { cause });
      }
      if (url.username || url.password) {
        throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${input}`);
      }
      state = {
        url: url.href, method: 'GET', headers: new Headers(), redirect: 'follow', signal: null,
        credentials: 'same-origin', mode: 'cors', cache: 'default', referrer: 'about:client',
        referrerPolicy: '', integrity: '', keepalive: false, duplex: 'half', dispatcher: undefined,
      };
    }
    if (init.method !== undefined) {
      const method = String(init.method);
      if (!TOKEN.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
      const upper = method.toUpperCase();
      if (FORBIDDEN_METHODS.includes(upper)) throw new TypeError(`'${method}' HTTP method is unsupported.`);
      state.method = NORMALIZED_METHODS.includes(upper) ? upper : method;
    }
    if (init.headers !== undefined) state.headers = fill(state.headers, init.headers);
    for (const key of ['redirect', 'credentials', 'mode', 'cache', 'referrerPolicy', 'integrity']) {
      if (init[key] !== undefined) state[key] = String(init[key]);
    }
    if (!['follow', 'error', 'manual'].includes(state.redirect)) {
      throw new TypeError(`Request constructor: ${state.redirect} is not an accepted type. Expected one of follow, manual, error.`);
    }
    if (init.keepalive !== undefined) state.keepalive = Boolean(init.keepalive);
    if (init.signal !== undefined) {
      if (init.signal !== null && (typeof init.signal !== 'object' || !('aborted' in init.signal))) {
        throw new TypeError("Request constructor: Expected signal (\"" + String(init.signal) + "\") to be an instance of AbortSignal.");
      }
      state.signal = init.signal;
    }
    if (init.dispatcher !== undefined) state.dispatcher = init.dispatcher;
    if ('body' in init && init.body !== undefined && init.body !== null) {
      if (state.method === 'GET' || state.method === 'HEAD') {
        throw new TypeError('Request with GET/HEAD method cannot have body.');
      }
      const extracted = extractBody(init.body);
      if (extracted.stream && init.duplex !== 'half') {
        throw new TypeError('RequestInit: duplex option is required when sending a body.');
      }
      this[kBody] = extracted;
      if (extracted.type && !state.headers.has('content-type')) state.headers.append('content-type', extracted.type);
    } else if ('body' in init && (init.body === null)) {
      this[kBody] = null;
    }
    if (this[kBody] === undefined) this[kBody] = null;
    this[kRequest] = state;
  }
  get method() { return this[kRequest].method; }
  get url() { return this[kRequest].url; }
  get headers() { return this[kRequest].headers; }
  get redirect() { return this[kRequest].redirect; }
  get signal() { return this[kRequest].signal; }
  get credentials() { return this[kRequest].credentials; }
  get mode() { return this[kRequest].mode; }
  get cache() { return this[kRequest].cache; }
  get referrer() { return this[kRequest].referrer; }
  get referrerPolicy() { return this[kRequest].referrerPolicy; }
  get integrity() { return this[kRequest].integrity; }
  get keepalive() { return this[kRequest].keepalive; }
  get destination() { return ''; }
  get duplex() { return 'half'; }
  clone() {
    if (this.bodyUsed) throw new TypeError('Request.clone: Body has already been consumed.');
    const copy = new Request(this);
    copy[kBody] = cloneBody(this);
    return copy;
  }
  get [Symbol.toStringTag]() { return 'Request'; }
}
mixBody(Request);

function cloneBody(message) {
  const b = message[kBody];
  if (!b) return null;
  if (b.stream) {
    const [left, right] = b.stream.tee();
    b.stream = left;
    return { stream: right, type: b.type };
  }
  return { bytes: b.bytes, type: b.type };
}

// ---- Response -----------------------------------------------------------------------------

const kResponse = Symbol('response');
const NULL_BODY_STATUS = [101, 103, 204, 205, 304];
const REDIRECT_STATUS = [301, 302, 303, 307, 308];

export class Response {
  constructor(body = null, init = {}) {
    init = init === null || init === undefined ? {} : init;
    const status = init.status !== undefined ? Number(init.status) : 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive.`);
    }
    const statusText = init.statusText !== undefined ? String(init.statusText) : '';
    if (/[^\t\x20-\x7e\x80-\xff]/.test(statusText)) throw new TypeError('Invalid statusText');
    this[kResponse] = { status, statusText, type: 'default', url: '', redirected: false, headers: fill(null, init.headers) };
    this[kBody] = null;
    if (body !== null && body !== undefined) {
      if (NULL_BODY_STATUS.includes(status)) {
        throw new TypeError(`Response constructor: Invalid response status code ${status}`);
      }
      const extracted = extractBody(body);
      this[kBody] = extracted;
      if (extracted.type && !this[kResponse].headers.has('content-type')) {
        this[kResponse].headers.append('content-type', extracted.type);
      }
    }
  }
  get type() { return this[kResponse].type; }
  get url() { return this[kResponse].url; }
  get redirected() { return this[kResponse].redirected; }
  get status() { return this[kResponse].status; }
  get ok() { return this[kResponse].status >= 200 && this[kResponse].status <= 299; }
  get statusText() { return this[kResponse].statusText; }
  get headers() { return this[kResponse].headers; }
  clone() {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    const copy = new Response(null, { status: this.status === 0 ? 200 : this.status, statusText: this.statusText, headers: this.headers });
    copy[kResponse] = { ...this[kResponse], headers: new Headers(this.headers) };
    copy[kBody] = cloneBody(this);
    return copy;
  }
  static error() {
    const response = new Response(null, { status: 200 });
    response[kResponse] = { status: 0, statusText: '', type: 'error', url: '', redirected: false, headers: new Headers() };
    response[kResponse].headers[kGuard] = 'immutable';
    return response;
  }
  static json(data, init = {}) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('Value is not JSON serializable');
    const response = new Response(text, init);
    response.headers.set('content-type', 'application/json');
    return response;
  }
  static redirect(url, status = 302) {
    let parsed;
    try {
      parsed = new URL(String(url));
    } catch (cause) {
      throw new TypeError(`Failed to parse URL from ${url}`, { cause });
    }
    if (!REDIRECT_STATUS.includes(status)) throw new RangeError(`Invalid status code ${status}`);
    const response = new Response(null, { status });
    response.headers.set('location', parsed.href);
    response.headers[kGuard] = 'immutable';
    return response;
  }
  get [Symbol.toStringTag]() { return 'Response'; }
  [customInspectSymbol]() {
    const shown = Object.create({ constructor: Response });
    Object.assign(shown, {
      status: this.status, statusText: this.statusText, headers: this.headers, body: this.body,
      bodyUsed: this.bodyUsed, ok: this.ok, redirected: this.redirected, type: this.type, url: this.url,
    });
    return inspect(shown);
  }
}
mixBody(Response);

// ---- fetch --------------------------------------------------------------------------------

function abortReason(signal) {
  return signal.reason !== undefined ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

function fetchFailed(cause) {
  return new TypeError('fetch failed', { cause });
}

function dataUrlResponse(url) {
  const match = /^data:([^,]*?),(.*)$/is.exec(url);
  if (!match) throw fetchFailed(new TypeError('invalid data: URL'));
  let mime = match[1];
  const base64 = /;\s*base64$/i.test(mime);
  if (base64) mime = mime.replace(/;\s*base64$/i, '');
  const data = decodeURIComponent(match[2].replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
  let bytes;
  if (base64) {
    bytes = base64Bytes(data.replace(/\s/g, ''));
  } else {
    bytes = Uint8Array.from(match[2].replace(/%([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), (c) => c.charCodeAt(0) & 255);
  }
  const response = new Response(bytes, { status: 200, statusText: 'OK', headers: { 'content-type': mime.trim() || 'text/plain;charset=US-ASCII' } });
  response[kResponse].url = url;
  response[kResponse].type = 'basic';
  response.headers[kGuard] = 'immutable';
  return response;
}

function base64Bytes(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const out = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    if (c === '=') break;
    const v = alphabet.indexOf(c);
    if (v < 0) throw fetchFailed(new TypeError('invalid base64 in data: URL'));
    value = ((value << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 255);
    }
  }
  return Uint8Array.from(out);
}

// The fetch standard's blocked ports (undici refuses them with "bad port").
const BAD_PORTS = new Set([1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
  103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526,
  530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190,
  5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080]);

// MIME types as fetch serializes them (`text/plain; charset=UTF-8` → `text/plain;charset=UTF-8`).
function serializeMime(value) {
  if (!value) return '';
  const [essence, ...params] = String(value).split(';');
  const type = essence.trim().toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(type)) return '';
  const kept = [];
  for (const param of params) {
    const at = param.indexOf('=');
    if (at < 0) continue;
    const name = param.slice(0, at).trim().toLowerCase();
    let val = param.slice(at + 1).trim();
    if (!name || kept.some(([n]) => n === name)) continue;
    if (val.startsWith('"')) val = val.slice(1, val.indexOf('"', 1) > 0 ? val.indexOf('"', 1) : undefined);
    kept.push([name, val]);
  }
  const quote = (v) => (/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v) ? v : `"${v.replace(/(["\\])/g, '\\$1')}"`);
  return `${type}${kept.map(([n, v]) => `;${n}=${quote(v)}`).join('')}`;
}

// undici's default request headers, in the order it adds them after the caller's.
const DEFAULT_HEADERS = [
  ['accept', '*/*'],
  ['accept-language', '*'],
  ['sec-fetch-mode', 'cors'],
  ['user-agent', 'node'],
  ['accept-encoding', 'gzip, deflate'],
];

/** Decodes a response body per its content-encoding (gzip, deflate, br), as fetch does. */
export function decodeContent(bytes, encoding) {
  const codings = String(encoding || '').toLowerCase().split(',').map((c) => c.trim()).filter(Boolean).reverse();
  let out = bytes;
  for (const coding of codings) {
    const mode = coding === 'gzip' || coding === 'x-gzip' ? 'gunzip' : coding === 'deflate' ? 'unzip' : coding === 'br' ? 'brotliDecompress' : null;
    if (!mode) break;
    out = new Uint8Array(host().zlib(mode, toBinary(out), undefined, true));
  }
  return out;
}

/** How fetch reaches the network: the dispatcher (undici's Agent…) may carry TLS options. */
function dispatcherTls(dispatcher) {
  return dispatcher && typeof dispatcher.__boltTls === 'function' ? dispatcher.__boltTls() : undefined;
}

export async function fetch(input, init = undefined) {
  if (arguments.length < 1) throw new TypeError("fetch: At least 1 argument required, but only 0 present.");
  const request = new Request(input, init);
  const state = request[kRequest];
  const signal = state.signal;
  if (signal && signal.aborted) throw abortReason(signal);
  const url = state.url;
  const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
  if (scheme === 'data:') return dataUrlResponse(url);
  if (scheme === 'about:') throw fetchFailed(new TypeError('about: URLs are not fetchable'));
  if (scheme === 'blob:' || scheme === 'file:') throw fetchFailed(new Error('not implemented... yet...'));
  if (scheme !== 'http:' && scheme !== 'https:') throw fetchFailed(new TypeError('unknown scheme'));
  const port = new URL(url).port;
  if (port && BAD_PORTS.has(Number(port))) throw fetchFailed(new Error('bad port'));

  const headers = request.headers.__raw();
  const present = new Set(headers.map(([n]) => n.toLowerCase()));
  for (const [name, value] of DEFAULT_HEADERS) if (!present.has(name)) headers.push([name, value]);
  const body = await bodyBytes(request[kBody]);
  if (signal && signal.aborted) throw abortReason(signal);

  const maxRedirections = state.redirect === 'follow' ? 20 : 0;
  const call = exchange({
    method: state.method, url, headers, body, maxRedirections, tls: dispatcherTls(state.dispatcher),
  });
  let onAbort;
  const aborted = new Promise((_, reject) => {
    if (!signal) return;
    onAbort = () => {
      call.cancel();
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  let answer;
  try {
    answer = await Promise.race([call.promise, aborted]);
  } catch (error) {
    if (error === ABORTED) throw abortReason(signal);
    if (signal && signal.aborted && error === signal.reason) throw error;
    throw fetchFailed(error);
  } finally {
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
  }
  if (state.redirect === 'error' && REDIRECT_STATUS.includes(answer.status)) {
    throw fetchFailed(new TypeError('unexpected redirect'));
  }
  if (maxRedirections && REDIRECT_STATUS.includes(answer.status) && answer.headers.some(([n]) => n === 'location')) {
    throw fetchFailed(new TypeError('redirect count exceeded'));
  }
  const responseHeaders = new Headers();
  for (const [name, value] of answer.headers) responseHeaders.append(name, value);
  const encoding = responseHeaders.get('content-encoding');
  let bytes = answer.body;
  if (encoding && state.method !== 'HEAD' && !NULL_BODY_STATUS.includes(answer.status)) {
    try {
      bytes = decodeContent(bytes, encoding);
    } catch (error) {
      throw fetchFailed(error);
    }
  }
  const response = new Response(null, { status: 200 });
  response[kResponse] = {
    status: answer.status,
    statusText: STATUS_CODES[answer.status] || '',
    type: 'basic',
    url: answer.url,
    redirected: answer.url !== url,
    headers: responseHeaders,
  };
  responseHeaders[kGuard] = 'immutable';
  const nullBody = state.method === 'HEAD' || NULL_BODY_STATUS.includes(answer.status);
  response[kBody] = nullBody ? null : { bytes, type: null };
  return response;
}

// ---- CompressionStream / DecompressionStream (whole-body, through the host's zlib) --------

const FORMATS = { gzip: ['gzip', 'gunzip'], deflate: ['deflate', 'inflate'], 'deflate-raw': ['deflateRaw', 'inflateRaw'] };

function compressionPair(format, index) {
  const modes = FORMATS[format];
  if (!modes) {
    throw new TypeError(`The provided value '${format}' is not a valid enum value of type CompressionFormat.`);
  }
  const chunks = [];
  let readableController;
  const readable = new ReadableStream({ start(c) { readableController = c; } });
  const writable = new WritableStream({
    write(chunk) {
      chunks.push(chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk.buffer || chunk));
    },
    close() {
      try {
        const out = new Uint8Array(host().zlib(modes[index], toBinary(concatBytes(chunks)), undefined, false));
        if (out.length) readableController.enqueue(out);
        readableController.close();
      } catch (error) {
        readableController.error(error);
        throw error;
      }
    },
    abort(reason) { readableController.error(reason); },
  });
  return { readable, writable };
}

export class CompressionStream {
  #pair;
  constructor(format) { this.#pair = compressionPair(format, 0); }
  get readable() { return this.#pair.readable; }
  get writable() { return this.#pair.writable; }
  get [Symbol.toStringTag]() { return 'CompressionStream'; }
}

export class DecompressionStream {
  #pair;
  constructor(format) { this.#pair = compressionPair(format, 1); }
  get readable() { return this.#pair.readable; }
  get writable() { return this.#pair.writable; }
  get [Symbol.toStringTag]() { return 'DecompressionStream'; }
}

