// bolt's `undici`: the npm package's API (what language-common 2.x/3.x, language-http,
// language-fhir and language-collections call) over bolt's HTTP host. `request`, and
// `Client`/`Pool`/`Agent` with `request`, `dispatch` (the handler API interceptors use) and
// `compose`; the `redirect`, `decompress`, `responseError` and `dump` interceptors;
// `setGlobalDispatcher`; undici's error classes; fetch and the web classes. A response
// body is a Readable with `text()`, `json()`, `arrayBuffer()`, `blob()`, `bytes()`, `dump()`.
// Both undici 5 (`maxRedirections` and `throwOnError` per request) and undici 7
// (interceptors) are served. Proxies, HTTP/2, WebSockets and mocks are refused.

import EE from 'node:events';
import { Readable } from 'node:stream';
import { Buffer } from 'node:buffer';
import querystring from 'node:querystring';
import { URL, URLSearchParams } from 'bolt:node/internal/url';
import { Blob, File } from 'bolt:node/internal/blob';
import { ReadableStream } from 'bolt:node/internal/webstreams';
import {
  fetch as webFetch, Headers, Request, Response, FormData, encodeFormData, isFormData, decodeContent,
} from 'bolt:node/internal/fetch';
import { exchange, ABORTED, STATUS_CODES } from 'bolt:node/internal/http_host';
import { decodeUtf8 } from 'bolt:node/internal/encoding';

// ---- errors -------------------------------------------------------------------------------

export class UndiciError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'UndiciError';
    this.code = 'UND_ERR';
  }
}

function undiciError(name, code, defaultMessage, Base = UndiciError) {
  const holder = {
    [name]: class extends Base {
      constructor(message, ...rest) {
        super(message || defaultMessage, ...rest);
        this.name = name;
        this.message = message || defaultMessage;
        this.code = code;
      }
    },
  };
  return holder[name];
}

export const ConnectTimeoutError = undiciError('ConnectTimeoutError', 'UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error');
export const HeadersTimeoutError = undiciError('HeadersTimeoutError', 'UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error');
export const HeadersOverflowError = undiciError('HeadersOverflowError', 'UND_ERR_HEADERS_OVERFLOW', 'Headers Overflow Error');
export const BodyTimeoutError = undiciError('BodyTimeoutError', 'UND_ERR_BODY_TIMEOUT', 'Body Timeout Error');
export const InvalidArgumentError = undiciError('InvalidArgumentError', 'UND_ERR_INVALID_ARG', 'Invalid Argument Error');
export const InvalidReturnValueError = undiciError('InvalidReturnValueError', 'UND_ERR_INVALID_RETURN_VALUE', 'Invalid Return Value Error');
export const InformationalError = undiciError('InformationalError', 'UND_ERR_INFO', 'Request information');
export const RequestContentLengthMismatchError = undiciError('RequestContentLengthMismatchError', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'Request body length does not match content-length header');
export const ResponseContentLengthMismatchError = undiciError('ResponseContentLengthMismatchError', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'Response body length does not match content-length header');
export const ClientDestroyedError = undiciError('ClientDestroyedError', 'UND_ERR_DESTROYED', 'The client is destroyed');
export const ClientClosedError = undiciError('ClientClosedError', 'UND_ERR_CLOSED', 'The client is closed');
export const NotSupportedError = undiciError('NotSupportedError', 'UND_ERR_NOT_SUPPORTED', 'Not supported error');
export const BalancedPoolMissingUpstreamError = undiciError('MissingUpstreamError', 'UND_ERR_BPL_MISSING_UPSTREAM', 'No upstream has been added to the BalancedPool');
export const ResponseExceededMaxSizeError = undiciError('ResponseExceededMaxSizeError', 'UND_ERR_RES_EXCEEDED_MAX_SIZE', 'Response content exceeded max size');
export const SecureProxyConnectionError = undiciError('SecureProxyConnectionError', 'UND_ERR_PRX_TLS', 'Secure Proxy Connection failed');

export class SocketError extends UndiciError {
  constructor(message, socket) {
    super(message || 'Socket error');
    this.name = 'SocketError';
    this.code = 'UND_ERR_SOCKET';
    this.socket = socket || null;
  }
}

export class AbortError extends UndiciError {
  constructor(message) {
    super(message || 'The operation was aborted');
    this.name = 'AbortError';
    this.message = message || 'The operation was aborted';
  }
}

export class RequestAbortedError extends AbortError {
  constructor(message) {
    super(message || 'Request aborted');
    this.name = 'AbortError';
    this.message = message || 'Request aborted';
    this.code = 'UND_ERR_ABORTED';
  }
}

export class ResponseStatusCodeError extends UndiciError {
  constructor(message, statusCode, headers, body) {
    super(message || 'Response Status Code Error');
    this.name = 'ResponseStatusCodeError';
    this.message = message || 'Response Status Code Error';
    this.code = 'UND_ERR_RESPONSE_STATUS_CODE';
    this.body = body;
    this.status = statusCode;
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

export class ResponseError extends UndiciError {
  constructor(message, code, { headers, body } = {}) {
    super(message);
    this.name = 'ResponseError';
    this.message = message || 'Response error';
    this.code = 'UND_ERR_RESPONSE';
    this.statusCode = code;
    this.body = body;
    this.headers = headers;
  }
}

export class RequestRetryError extends UndiciError {
  constructor(message, code, { headers, data } = {}) {
    super(message);
    this.name = 'RequestRetryError';
    this.message = message || 'Request retry error';
    this.code = 'UND_ERR_REQ_RETRY';
    this.statusCode = code;
    this.data = data;
    this.headers = headers;
  }
}

export class HTTPParserError extends Error {
  constructor(message, code, data) {
    super(message);
    this.name = 'HTTPParserError';
    this.code = code ? `HPE_${code}` : undefined;
    this.data = data ? data.toString() : undefined;
  }
}

export const errors = {
  UndiciError, ConnectTimeoutError, HeadersTimeoutError, HeadersOverflowError, BodyTimeoutError,
  ResponseStatusCodeError, InvalidArgumentError, InvalidReturnValueError, AbortError, RequestAbortedError,
  InformationalError, RequestContentLengthMismatchError, ResponseContentLengthMismatchError, ClientDestroyedError,
  ClientClosedError, SocketError, NotSupportedError, BalancedPoolMissingUpstreamError, ResponseExceededMaxSizeError,
  RequestRetryError, ResponseError, SecureProxyConnectionError, HTTPParserError,
};

// The host describes undici failures by class name; give them undici's classes.
function asUndiciError(error) {
  if (!error || typeof error !== 'object') return error;
  const Class = {
    HeadersTimeoutError, BodyTimeoutError, ConnectTimeoutError, InvalidArgumentError, SocketError,
  }[error.name];
  if (!Class) return error;
  const converted = new Class(error.message);
  for (const key of Object.keys(error)) {
    if (!['name', 'message', 'code'].includes(key)) converted[key] = error[key];
  }
  return converted;
}

const refuse = (what, why) => new NotSupportedError(`bolt: undici ${what} is not available: ${why}`);

// ---- request options ----------------------------------------------------------------------

function buildPath(path, query) {
  if (!query || Object.keys(query).length === 0) return path;
  if (path.includes('?') || path.includes('#')) {
    throw new Error('Query params cannot be passed when url already contains "?" or "#".');
  }
  const stringified = querystring.stringify(query);
  return stringified ? `${path}?${stringified}` : path;
}

function headerPairs(headers) {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers)) {
    if (headers.length % 2 !== 0) throw new InvalidArgumentError('headers array must be even');
    const out = [];
    for (let i = 0; i < headers.length; i += 2) out.push([String(headers[i]), headers[i + 1]]);
    return flattenValues(out);
  }
  if (headers instanceof Headers) return [...headers];
  if (typeof headers[Symbol.iterator] === 'function' && typeof headers !== 'string') {
    return flattenValues([...headers].map(([k, v]) => [String(k), v]));
  }
  if (typeof headers !== 'object') throw new InvalidArgumentError('headers must be an object or an array');
  return flattenValues(Object.keys(headers).map((key) => [key, headers[key]]));
}

function flattenValues(pairs) {
  const out = [];
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push([name, `${v}`]);
    else out.push([name, `${value}`]);
  }
  return out;
}

// The request body as bytes, and the content-type undici adds for it (FormData, Blob).
async function bodyOf(body) {
  if (body === undefined || body === null) return { bytes: null };
  if (typeof body === 'string') return { bytes: Buffer.from(body) };
  if (body instanceof Uint8Array) return { bytes: body };
  if (body instanceof ArrayBuffer) return { bytes: new Uint8Array(body) };
  if (ArrayBuffer.isView(body)) return { bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  if (isFormData(body)) {
    const { bytes, type } = encodeFormData(body);
    return { bytes, type };
  }
  if (body instanceof Blob) return { bytes: new Uint8Array(await body.arrayBuffer()), type: body.type || undefined };
  if (body instanceof URLSearchParams) return { bytes: Buffer.from(String(body)) };
  if (body instanceof ReadableStream) {
    const chunks = [];
    for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return { bytes: Buffer.concat(chunks) };
  }
  if (typeof body[Symbol.asyncIterator] === 'function' || typeof body[Symbol.iterator] === 'function') {
    const chunks = [];
    for await (const chunk of body) {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) chunks.push(chunk);
      else if (ArrayBuffer.isView(chunk)) chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      else throw new InvalidArgumentError('body must be a string, a Buffer, a Readable stream, an iterable, or an async iterable');
    }
    return { bytes: Buffer.concat(chunks) };
  }
  throw new InvalidArgumentError('body must be a string, a Buffer, a Readable stream, an iterable, or an async iterable');
}

function originOf(origin) {
  if (origin === undefined || origin === null) throw new InvalidArgumentError('invalid origin');
  if (origin instanceof URL) return origin.origin;
  if (typeof origin === 'object' && origin.origin) return originOf(origin.origin);
  let url;
  try {
    url = new URL(String(origin));
  } catch (_) {
    throw new InvalidArgumentError('Invalid URL: The URL argument must be a non-null object.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError('Invalid URL protocol: the URL must start with `http:` or `https:`.');
  }
  return url.origin;
}

// ---- dispatch: the handler API ------------------------------------------------------------

function rawHeadersOf(pairs) {
  const raw = [];
  for (const [name, value] of pairs) raw.push(Buffer.from(name), Buffer.from(value));
  return raw;
}

/** undici's parseHeaders: lower-case names; a repeated header becomes an array. */
export function parseHeaders(pairs, obj = {}) {
  for (const [rawName, rawValue] of pairs) {
    const name = String(rawName).toLowerCase();
    const value = String(rawValue);
    const existing = obj[name];
    if (existing === undefined) obj[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else obj[name] = [existing, value];
  }
  return obj;
}

// Delivers one host answer to a handler, in either undici handler dialect.
class Delivery {
  constructor(handler) {
    this.handler = handler;
    this.aborted = false;
    this.reason = null;
    this.paused = false;
    this.controller = {
      abort: (reason) => this.abort(reason),
      pause: () => { this.paused = true; },
      resume: () => { this.paused = false; },
      get aborted() { return false; },
      get paused() { return false; },
      get reason() { return null; },
      rawHeaders: null,
      rawTrailers: null,
    };
    this.cancel = null;
    this.modern = typeof handler.onResponseStart === 'function' || typeof handler.onRequestStart === 'function';
  }
  abort(reason) {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason || new RequestAbortedError();
    if (this.cancel) this.cancel();
    this.error(this.reason);
  }
  start(context) {
    const h = this.handler;
    if (this.modern && typeof h.onRequestStart === 'function') h.onRequestStart(this.controller, context);
    else if (typeof h.onConnect === 'function') h.onConnect((reason) => this.abort(reason), context);
  }
  deliver(answer) {
    if (this.aborted) return;
    const h = this.handler;
    const statusText = STATUS_CODES[answer.status] || '';
    const raw = rawHeadersOf(answer.headers);
    if (this.modern && typeof h.onResponseStart === 'function') {
      this.controller.rawHeaders = raw;
      h.onResponseStart(this.controller, answer.status, parseHeaders(answer.headers), statusText);
      if (this.aborted) return;
      if (answer.body.length && typeof h.onResponseData === 'function') h.onResponseData(this.controller, Buffer.from(answer.body));
      if (this.aborted) return;
      if (typeof h.onResponseEnd === 'function') h.onResponseEnd(this.controller, {});
    } else {
      if (typeof h.onHeaders === 'function') h.onHeaders(answer.status, raw, () => {}, statusText);
      if (this.aborted) return;
      if (answer.body.length && typeof h.onData === 'function') h.onData(Buffer.from(answer.body));
      if (this.aborted) return;
      if (typeof h.onComplete === 'function') h.onComplete([]);
    }
  }
  error(error) {
    const h = this.handler;
    if (this.modern && typeof h.onResponseError === 'function') h.onResponseError(this.controller, error);
    else if (typeof h.onError === 'function') h.onError(error);
  }
}

// ---- Dispatcher ---------------------------------------------------------------------------

const kOptions = Symbol('options');
const kClosed = Symbol('closed');

export class Dispatcher extends EE {
  dispatch() {
    throw new Error('not implemented');
  }

  close(callback) {
    this[kClosed] = true;
    const done = Promise.resolve();
    if (typeof callback === 'function') {
      done.then(() => callback(null, null));
      return undefined;
    }
    return done;
  }

  destroy(err, callback) {
    if (typeof err === 'function') {
      callback = err;
      err = null;
    }
    this[kClosed] = true;
    const done = Promise.resolve();
    if (typeof callback === 'function') {
      done.then(() => callback(null, null));
      return undefined;
    }
    return done;
  }

  compose(...args) {
    const interceptors = Array.isArray(args[0]) ? args[0] : args;
    let dispatch = this.dispatch.bind(this);
    for (const interceptor of interceptors) {
      if (interceptor == null) continue;
      if (typeof interceptor !== 'function') {
        throw new TypeError(`invalid interceptor, expected function received ${typeof interceptor}`);
      }
      dispatch = interceptor(dispatch);
      if (dispatch == null || typeof dispatch !== 'function' || dispatch.length !== 2) {
        throw new TypeError('invalid interceptor');
      }
    }
    return new ComposedDispatcher(this, dispatch);
  }

  request(opts, callback) {
    if (typeof callback === 'function') {
      this.request(opts).then((data) => callback(null, data), (err) => callback(err));
      return undefined;
    }
    return requestThrough(this, opts);
  }

  stream() { return Promise.reject(refuse('Dispatcher.stream', 'use request() and read its body')); }
  pipeline() { throw refuse('Dispatcher.pipeline', 'use request() and read its body'); }
  connect() { return Promise.reject(refuse('Dispatcher.connect', "bolt's sandbox opens no raw tunnels")); }
  upgrade() { return Promise.reject(refuse('Dispatcher.upgrade', "bolt's sandbox opens no raw sockets")); }
}

class ComposedDispatcher extends Dispatcher {
  #base;
  #dispatch;
  constructor(base, dispatch) {
    super();
    this.#base = base;
    this.#dispatch = dispatch;
  }
  dispatch(opts, handler) { return this.#dispatch(opts, handler); }
  close(...args) { return this.#base.close(...args); }
  destroy(...args) { return this.#base.destroy(...args); }
  /** The TLS options fetch needs when this dispatcher is its `dispatcher`. */
  __boltTls() { return this.#base.__boltTls ? this.#base.__boltTls() : undefined; }
}

/**
 * The dispatcher every bolt undici class shares: sends `opts` (origin, path, method,
 * headers, body, query, timeouts, maxRedirections) through the host.
 */
class HostDispatcher extends Dispatcher {
  constructor(options = {}) {
    super();
    if (options !== null && typeof options !== 'object') throw new InvalidArgumentError('Invalid options');
    this[kOptions] = { ...options };
    this[kClosed] = false;
  }

  __boltTls() {
    const connect = this[kOptions].connect;
    return connect && typeof connect === 'object' ? connect : undefined;
  }

  __origin(opts) {
    return originOf(opts.origin);
  }

  dispatch(opts, handler) {
    if (!handler || typeof handler !== 'object') throw new InvalidArgumentError('handler must be an object');
    const delivery = new Delivery(handler);
    if (this[kClosed]) {
      queueError(delivery, this instanceof Client ? new ClientClosedError() : new ClientDestroyedError());
      return false;
    }
    const options = this[kOptions];
    let origin;
    let path;
    try {
      origin = this.__origin(opts);
      if (typeof opts.path !== 'string') throw new InvalidArgumentError('path must be a string');
      if (opts.path[0] !== '/' && !(opts.path.startsWith('http://') || opts.path.startsWith('https://')) && opts.method !== 'CONNECT') {
        throw new InvalidArgumentError('path must be an absolute URL or start with a slash');
      }
      if (typeof opts.method !== 'string') throw new InvalidArgumentError('method must be a string');
      path = buildPath(opts.path, opts.query);
    } catch (error) {
      queueError(delivery, error);
      return false;
    }
    const url = /^https?:\/\//.test(path) ? path : `${origin}${path}`;
    const headersTimeout = opts.headersTimeout ?? options.headersTimeout;
    const bodyTimeout = opts.bodyTimeout ?? options.bodyTimeout;
    const timeouts = [headersTimeout, bodyTimeout].filter((t) => t !== undefined && t !== null);
    const timeoutMs = timeouts.length === 0 ? undefined : timeouts.includes(0) ? Math.max(...timeouts) || 0 : Math.max(...timeouts);
    const maxRedirections = opts.__boltRedirections ?? opts.maxRedirections ?? options.maxRedirections ?? 0;
    const signal = opts.signal;
    let onAbort;
    if (signal) {
      if (signal.aborted) {
        queueError(delivery, signal.reason instanceof Error ? signal.reason : new RequestAbortedError());
        return false;
      }
      onAbort = () => delivery.abort(signal.reason instanceof Error ? signal.reason : new RequestAbortedError());
      if (typeof signal.addEventListener === 'function') signal.addEventListener('abort', onAbort, { once: true });
      else if (typeof signal.once === 'function') signal.once('abort', onAbort);
    }
    delivery.start(opts.context || {});
    (async () => {
      const { bytes, type } = await bodyOf(opts.body);
      const headers = headerPairs(opts.headers);
      if (type && !headers.some(([n]) => n.toLowerCase() === 'content-type')) headers.push(['content-type', type]);
      if (delivery.aborted) return;
      const call = exchange({
        method: opts.method, url, headers, body: bytes, timeoutMs, maxRedirections: Number(maxRedirections) || 0,
        tls: this.__boltTls(),
      });
      delivery.cancel = () => call.cancel();
      let answer;
      try {
        answer = await call.promise;
      } catch (error) {
        if (error === ABORTED || delivery.aborted) return;
        throw asUndiciError(error);
      }
      delivery.deliver(answer);
    })().catch((error) => {
      if (!delivery.aborted) delivery.error(error);
    }).finally(() => {
      if (signal && onAbort) {
        if (typeof signal.removeEventListener === 'function') signal.removeEventListener('abort', onAbort);
        else if (typeof signal.removeListener === 'function') signal.removeListener('abort', onAbort);
      }
    });
    return true;
  }
}

function queueError(delivery, error) {
  Promise.resolve().then(() => delivery.error(error));
}

export class Agent extends HostDispatcher {
  constructor(options = {}) {
    super(options);
    if (options && options.factory !== undefined && typeof options.factory !== 'function') {
      throw new InvalidArgumentError('factory must be a function.');
    }
  }
}

export class Client extends HostDispatcher {
  #origin;
  constructor(url, options = {}) {
    super(options);
    this.#origin = originOf(url);
  }
  __origin() { return this.#origin; }
}

export class Pool extends Client {}
export class BalancedPool extends Dispatcher {
  constructor() {
    super();
    throw refuse('BalancedPool', 'use an Agent or a Pool');
  }
}
export class RoundRobinPool extends BalancedPool {}
export class H2CClient extends BalancedPool {}

export class ProxyAgent extends Dispatcher {
  constructor(options) {
    super();
    this.options = options;
  }
  dispatch(opts, handler) {
    queueError(new Delivery(handler), refuse('ProxyAgent', "bolt's HTTP client does not send requests through proxies"));
    return false;
  }
}
export class EnvHttpProxyAgent extends Agent {}
export class Socks5ProxyAgent extends ProxyAgent {}

export class RetryAgent extends Dispatcher {
  #agent;
  constructor(agent) {
    super();
    this.#agent = agent;
  }
  dispatch(opts, handler) { return this.#agent.dispatch(opts, handler); }
}

function mockRefused() {
  return refuse('MockAgent', 'it is for adaptor tests; bolt runs adaptors against real servers');
}
export class MockAgent extends Dispatcher {
  constructor() {
    super();
    throw mockRefused();
  }
}
export class MockClient extends MockAgent {}
export class MockPool extends MockAgent {}
export class MockCallHistory extends MockAgent {}
export class MockCallHistoryLog extends MockAgent {}
export class SnapshotAgent extends MockAgent {}
export const mockErrors = { MockNotMatchedError: class MockNotMatchedError extends UndiciError {} };

// ---- request(): the promise of {statusCode, headers, trailers, opaque, body, context} -----

/** A response body: a Readable with the fetch-style consumers undici gives it. */
const kContentType = Symbol('content type');
const kConsumed = Symbol('consumed');
const kWeb = Symbol('web stream');

export class BodyReadable extends Readable {
  constructor(options = {}) {
    super({ autoDestroy: true, read: options.resume || (() => {}), highWaterMark: 64 * 1024 });
    this[kContentType] = options.contentType || '';
    this[kConsumed] = false;
    this[kWeb] = undefined;
  }
  get bodyUsed() {
    return this[kConsumed] || this._readableState.dataEmitted || this._readableState.endEmitted || this.destroyed;
  }
  get body() {
    if (!this[kWeb]) {
      const source = this;
      this[kWeb] = new ReadableStream({
        async start(controller) {
          try {
            for await (const chunk of source) controller.enqueue(new Uint8Array(chunk));
            controller.close();
          } catch (error) {
            controller.error(error);
          }
        },
      });
    }
    return this[kWeb];
  }
  async text() { return decodeUtf8(await consume(this)); }
  async json() { return parseJson(decodeUtf8(await consume(this))); }
  async arrayBuffer() {
    const bytes = await consume(this);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }
  async bytes() { return new Uint8Array(await consume(this)); }
  async blob() { return new Blob([await consume(this)], { type: this[kContentType] }); }
  async formData() { throw new NotSupportedError(); }
  async dump(opts = {}) {
    const limit = Number.isFinite(opts.limit) ? opts.limit : 128 * 1024;
    if (this.closed) return null;
    let size = 0;
    for await (const chunk of this) {
      size += chunk.length;
      if (size > limit) break;
    }
    this.destroy();
    return null;
  }
}

async function consume(body) {
  if (body.bodyUsed) throw new TypeError('unusable');
  body[kConsumed] = true;
  const chunks = [];
  for await (const chunk of body) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** JSON.parse with V8's wording (QuickJS adds "(line l column c)"). */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) {
      if (text === '') error.message = 'Unexpected end of JSON input';
      else error.message = error.message.replace(/ \(line \d+ column \d+\)$/, '');
    }
    throw error;
  }
}

function requestThrough(dispatcher, opts) {
  if (!opts || typeof opts !== 'object') return Promise.reject(new InvalidArgumentError('invalid opts'));
  const { signal, method, opaque = null, throwOnError, highWaterMark } = opts;
  if (method === 'CONNECT') return Promise.reject(new InvalidArgumentError('invalid method'));
  if (highWaterMark !== undefined && (typeof highWaterMark !== 'number' || highWaterMark < 0)) {
    return Promise.reject(new InvalidArgumentError('invalid highWaterMark'));
  }
  if (signal && typeof signal.on !== 'function' && typeof signal.addEventListener !== 'function') {
    return Promise.reject(new InvalidArgumentError('signal must be an EventEmitter or EventTarget'));
  }
  return new Promise((resolve, reject) => {
    let body = null;
    let settled = false;
    let context = null;
    const handler = {
      onConnect(abort, ctx) { context = ctx; },
      onHeaders(statusCode, rawHeaders, resume, statusText) {
        const pairs = [];
        for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([String(rawHeaders[i]), String(rawHeaders[i + 1])]);
        const headers = parseHeaders(pairs);
        const contentType = headers['content-type'];
        body = new BodyReadable({ contentType });
        const result = { statusCode, statusText, headers, trailers: {}, opaque, body, context };
        if (throwOnError && statusCode >= 400) {
          settled = true;
          consume(body).then((bytes) => {
            let payload = decodeUtf8(bytes);
            if (String(contentType || '').startsWith('application/json')) {
              try { payload = JSON.parse(payload); } catch (_) { /* keep the text */ }
            }
            reject(new ResponseStatusCodeError(`Response status code ${statusCode}${statusText ? `: ${statusText}` : ''}`, statusCode, headers, payload));
          }, reject);
          return true;
        }
        settled = true;
        resolve(result);
        return true;
      },
      onData(chunk) {
        return body ? body.push(chunk) : true;
      },
      onComplete(trailers) {
        if (body) body.push(null);
      },
      onError(error) {
        if (!settled) {
          settled = true;
          reject(error);
        } else if (body) {
          body.destroy(error);
        }
      },
    };
    try {
      dispatcher.dispatch({ ...opts, signal }, handler);
    } catch (error) {
      if (!settled) {
        settled = true;
        reject(error);
      }
    }
  });
}

// ---- interceptors -------------------------------------------------------------------------

function redirectInterceptor({ maxRedirections: defaultMax } = {}) {
  return (dispatch) => function intercept(opts, handler) {
    const { maxRedirections = defaultMax, ...rest } = opts;
    if (maxRedirections == null || maxRedirections === 0) return dispatch(rest, handler);
    if (!Number.isInteger(maxRedirections) || maxRedirections < 0) {
      throw new InvalidArgumentError('maxRedirections must be a positive number');
    }
    return dispatch({ ...rest, __boltRedirections: maxRedirections }, handler);
  };
}

// Wraps a handler: whole responses are decoded per content-encoding (not 204/304, not >= 400).
function decompressInterceptor({ skipStatusCodes = [204, 304], skipErrorResponses = true } = {}) {
  return (dispatch) => function intercept(opts, handler) {
    let encoding = null;
    let chunks = [];
    let started = null;
    const wrapped = {
      ...handlerMethods(handler),
      onHeaders(statusCode, rawHeaders, resume, statusText) {
        const pairs = [];
        for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([String(rawHeaders[i]), String(rawHeaders[i + 1])]);
        const value = pairs.find(([n]) => n.toLowerCase() === 'content-encoding');
        const skip = !value || skipStatusCodes.includes(statusCode) || (skipErrorResponses && statusCode >= 400) || opts.method === 'HEAD';
        if (skip) return handler.onHeaders(statusCode, rawHeaders, resume, statusText);
        encoding = value[1];
        const kept = pairs.filter(([n]) => !['content-encoding', 'content-length'].includes(n.toLowerCase()));
        started = () => handler.onHeaders(statusCode, rawHeadersOf(kept), resume, statusText);
        return true;
      },
      onData(chunk) {
        if (encoding === null) return handler.onData(chunk);
        chunks.push(chunk);
        return true;
      },
      onComplete(trailers) {
        if (encoding !== null) {
          let decoded;
          try {
            decoded = decodeContent(Buffer.concat(chunks), encoding);
          } catch (error) {
            chunks = [];
            return handler.onError(error);
          }
          chunks = [];
          started();
          if (decoded.length) handler.onData(Buffer.from(decoded));
        }
        return handler.onComplete(trailers);
      },
    };
    return dispatch(opts, wrapped);
  };
}

function responseErrorInterceptor() {
  return (dispatch) => function intercept(opts, handler) {
    if (!opts.throwOnError) return dispatch(opts, handler);
    return dispatch(opts, handler);
  };
}

function dumpInterceptor({ maxSize = 1024 * 1024 } = {}) {
  return (dispatch) => function intercept(opts, handler) {
    const limit = opts.dumpMaxSize ?? maxSize;
    let size = 0;
    return dispatch(opts, {
      ...handlerMethods(handler),
      onData(chunk) {
        size += chunk.length;
        if (size > limit) return handler.onError(new RequestAbortedError(`Response size (${size}) larger than maxSize (${limit})`));
        return true;
      },
    });
  };
}

function passThroughInterceptor() {
  return (dispatch) => function intercept(opts, handler) { return dispatch(opts, handler); };
}

// A handler's methods as an object of bound functions (interceptors wrap some of them).
function handlerMethods(handler) {
  const out = {};
  for (const name of ['onConnect', 'onHeaders', 'onData', 'onComplete', 'onError', 'onUpgrade', 'onBodySent',
    'onRequestSent', 'onRequestStart', 'onResponseStart', 'onResponseData', 'onResponseEnd', 'onResponseError']) {
    if (typeof handler[name] === 'function') out[name] = handler[name].bind(handler);
  }
  return out;
}

export const interceptors = {
  redirect: redirectInterceptor,
  decompress: decompressInterceptor,
  responseError: responseErrorInterceptor,
  dump: dumpInterceptor,
  retry: passThroughInterceptor,
  dns: passThroughInterceptor,
  cache: passThroughInterceptor,
  deduplicate: passThroughInterceptor,
};

export function DecoratorHandler(handler) {
  if (!(this instanceof DecoratorHandler)) return new DecoratorHandler(handler);
  Object.assign(this, handlerMethods(handler));
}
export class RedirectHandler {
  constructor() { throw refuse('RedirectHandler', 'use the redirect interceptor or maxRedirections'); }
}
export class RetryHandler {
  constructor() { throw refuse('RetryHandler', 'retry in the job instead'); }
}

// ---- the global dispatcher and top-level API ----------------------------------------------

let globalDispatcher = new Agent();

export function setGlobalDispatcher(agent) {
  if (!agent || typeof agent.dispatch !== 'function') {
    throw new InvalidArgumentError('Argument agent must implement Agent');
  }
  globalDispatcher = agent;
}

export function getGlobalDispatcher() {
  return globalDispatcher;
}

let globalOrigin;
export function setGlobalOrigin(origin) {
  globalOrigin = origin === undefined ? undefined : new URL(origin);
}
export function getGlobalOrigin() {
  return globalOrigin;
}

/** undici.request(url, options): through `options.dispatcher` or the global dispatcher. */
export function request(url, opts = {}, callback) {
  if (typeof opts === 'function') {
    callback = opts;
    opts = {};
  }
  let origin;
  let path;
  try {
    if (typeof url === 'string' || url instanceof URL) {
      const parsed = new URL(String(url));
      origin = parsed.origin;
      path = `${parsed.pathname}${parsed.search}`;
    } else if (url && typeof url === 'object') {
      origin = url.origin || `${url.protocol || 'http:'}//${url.hostname}${url.port ? `:${url.port}` : ''}`;
      path = url.path || `${url.pathname || '/'}${url.search || ''}`;
    } else {
      throw new InvalidArgumentError('invalid url');
    }
  } catch (error) {
    if (typeof callback === 'function') {
      Promise.resolve().then(() => callback(error));
      return undefined;
    }
    return Promise.reject(error instanceof InvalidArgumentError ? error : new InvalidArgumentError('invalid url'));
  }
  const { agent, dispatcher = getGlobalDispatcher(), ...rest } = opts || {};
  if (agent) return Promise.reject(new InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?'));
  const method = rest.method || (rest.body ? 'PUT' : 'GET');
  return dispatcher.request({ ...rest, origin, path, method }, callback);
}

export function fetch(input, init = undefined) {
  return webFetch(input, init);
}

export const stream = () => Promise.reject(refuse('stream', 'use request() and read its body'));
export const pipeline = () => { throw refuse('pipeline', 'use request() and read its body'); };
export const connect = () => Promise.reject(refuse('connect', "bolt's sandbox opens no raw tunnels"));
export const upgrade = () => Promise.reject(refuse('upgrade', "bolt's sandbox opens no raw sockets"));
export const buildConnector = () => { throw refuse('buildConnector', "bolt's sandbox opens no raw sockets"); };

export class WebSocket extends EE {
  constructor() {
    super();
    throw refuse('WebSocket', "bolt's sandbox opens no WebSocket connections");
  }
}
export class EventSource extends WebSocket {}
export class CloseEvent {}
export class ErrorEvent {}
export class MessageEvent {}

export function getCookies(headers) {
  const cookie = headers.get('cookie');
  const out = {};
  if (!cookie) return out;
  for (const piece of cookie.split(';')) {
    const [name, ...value] = piece.split('=');
    out[name.trim()] = value.join('=');
  }
  return out;
}
export function getSetCookies(headers) {
  return headers.getSetCookie().map((line) => {
    const [pair, ...attributes] = line.split(';');
    const at = pair.indexOf('=');
    const cookie = { name: pair.slice(0, at).trim(), value: pair.slice(at + 1) };
    for (const attribute of attributes) {
      const [key, ...value] = attribute.split('=');
      const name = key.trim().toLowerCase();
      const text = value.join('=').trim();
      if (name === 'expires') cookie.expires = new Date(text);
      else if (name === 'max-age') cookie.maxAge = Number(text);
      else if (name === 'domain') cookie.domain = text;
      else if (name === 'path') cookie.path = text;
      else if (name === 'secure') cookie.secure = true;
      else if (name === 'httponly') cookie.httpOnly = true;
      else if (name === 'samesite') cookie.sameSite = text;
    }
    return cookie;
  });
}
export function setCookie(headers, cookie) {
  let line = `${cookie.name}=${cookie.value}`;
  if (cookie.expires) line += `; Expires=${new Date(cookie.expires).toUTCString()}`;
  if (cookie.maxAge !== undefined) line += `; Max-Age=${cookie.maxAge}`;
  if (cookie.domain) line += `; Domain=${cookie.domain}`;
  if (cookie.path) line += `; Path=${cookie.path}`;
  if (cookie.secure) line += '; Secure';
  if (cookie.httpOnly) line += '; HttpOnly';
  if (cookie.sameSite) line += `; SameSite=${cookie.sameSite}`;
  headers.append('set-cookie', line);
}
export function deleteCookie(headers, name, attributes = {}) {
  setCookie(headers, { name, value: '', expires: new Date(0), ...attributes });
}

export const util = {
  parseHeaders(headers, obj = {}) {
    const pairs = [];
    for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([String(headers[i]), String(headers[i + 1])]);
    return parseHeaders(pairs, obj);
  },
  headerNameToString: (value) => String(value).toLowerCase(),
};

export const caches = undefined;
export const cacheStores = {};

export { Headers, Request, Response, FormData, File };


const undici = {
  Dispatcher, Client, Pool, BalancedPool, RoundRobinPool, Agent, ProxyAgent, EnvHttpProxyAgent, Socks5ProxyAgent,
  RetryAgent, H2CClient, RetryHandler, DecoratorHandler, RedirectHandler, interceptors, cacheStores, buildConnector,
  errors, util, setGlobalDispatcher, getGlobalDispatcher, setGlobalOrigin, getGlobalOrigin, fetch, Headers,
  Response, Request, FormData, File, caches, deleteCookie, getCookies, getSetCookies, setCookie, WebSocket, CloseEvent,
  ErrorEvent, MessageEvent, EventSource, request, stream, pipeline, connect, upgrade, MockClient, MockCallHistory,
  MockCallHistoryLog, MockPool, MockAgent, SnapshotAgent, mockErrors,
};
export default undici;
