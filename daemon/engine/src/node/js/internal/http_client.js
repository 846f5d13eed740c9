// The HTTP client behind node:http and node:https, over bolt's HTTP host.
// `request`/`get` give a ClientRequest (a Writable: write the body, `end()` sends it) that
// emits 'socket', then 'response' with an IncomingMessage (a Readable of the body, with
// Node's statusCode/statusMessage/headers/rawHeaders), or 'error' with Node's network
// errors. Agents are accepted (their TLS options are used; the host pools connections
// itself). Servers are refused: nothing listens in bolt's sandbox.

import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { Buffer } from 'node:buffer';
import { nextTick, setTimeout as nodeSetTimeout } from 'node:timers';
import { URL, urlToHttpOptions } from 'node:url';
import { nodeError, invalidArgType, refusing } from 'bolt:node/internal/errors';
import { exchange, ABORTED, STATUS_CODES } from 'bolt:node/internal/http_host';

export { STATUS_CODES };
export const METHODS = ['ACL', 'BIND', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK',
  'M-SEARCH', 'MERGE', 'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST',
  'PROPFIND', 'PROPPATCH', 'PURGE', 'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE',
  'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE'];
export const maxHeaderSize = 16384;
const WHY_SERVER = "nothing can listen for connections in bolt's sandbox";
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;

export function validateHeaderName(name, label = 'Header name') {
  if (typeof name !== 'string' || !name || !TOKEN.test(name)) {
    throw nodeError(TypeError, 'ERR_INVALID_HTTP_TOKEN', `${label} must be a valid HTTP token ["${name}"]`);
  }
}

export function validateHeaderValue(name, value) {
  if (value === undefined) {
    throw nodeError(TypeError, 'ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "${value}" for header "${name}"`);
  }
  if (/[^\t\x20-\x7e\x80-\xff]/.test(String(value))) {
    throw nodeError(TypeError, 'ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
  }
}

// ---- Agent --------------------------------------------------------------------------------

export function Agent(options) {
  if (!(this instanceof Agent)) return new Agent(options);
  EventEmitter.call(this);
  this.defaultPort = 80;
  this.protocol = 'http:';
  this.options = { path: null, ...options };
  this.keepAlive = Boolean(this.options.keepAlive);
  this.keepAliveMsecs = this.options.keepAliveMsecs || 1000;
  this.maxSockets = this.options.maxSockets || Infinity;
  this.maxFreeSockets = this.options.maxFreeSockets || 256;
  this.maxTotalSockets = this.options.maxTotalSockets || Infinity;
  this.scheduling = this.options.scheduling || 'lifo';
  this.requests = Object.create(null);
  this.sockets = Object.create(null);
  this.freeSockets = Object.create(null);
  this.totalSocketCount = 0;
}
Object.setPrototypeOf(Agent.prototype, EventEmitter.prototype);
Object.setPrototypeOf(Agent, EventEmitter);
Agent.defaultMaxSockets = Infinity;
Agent.prototype.createConnection = refusing('http.Agent.createConnection', 'bolt sends HTTP through its host; agents cannot open sockets');
Agent.prototype.getName = function getName(options = {}) {
  let name = options.host || 'localhost';
  name += ':';
  if (options.port) name += options.port;
  name += ':';
  if (options.localAddress) name += options.localAddress;
  if (options.family === 4 || options.family === 6) name += `:${options.family}`;
  return name;
};
Agent.prototype.keepSocketAlive = () => true;
Agent.prototype.reuseSocket = () => {};
Agent.prototype.destroy = function destroy() {};
Agent.prototype.addRequest = refusing('http.Agent.addRequest', 'bolt sends HTTP through its host; agents cannot open sockets');

export const globalAgent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });

// ---- the fake socket requests expose ------------------------------------------------------

// Clients listen on `req.socket` (timeouts, keep-alive); bolt has no socket, so this one
// takes the calls and never emits anything but 'close'.
function makeSocket(req, secure) {
  const socket = new EventEmitter();
  Object.assign(socket, {
    connecting: false,
    destroyed: false,
    readable: true,
    writable: true,
    encrypted: secure || undefined,
    authorized: secure ? true : undefined,
    remoteAddress: req.host,
    remotePort: Number(req._port),
    remoteFamily: 'IPv4',
    localAddress: '127.0.0.1',
    localPort: 0,
    bytesRead: 0,
    bytesWritten: 0,
    setTimeout(ms, cb) {
      if (typeof cb === 'function') socket.once('timeout', cb);
      return socket;
    },
    setKeepAlive() { return socket; },
    setNoDelay() { return socket; },
    ref() { return socket; },
    unref() { return socket; },
    address() { return { address: '127.0.0.1', family: 'IPv4', port: 0 }; },
    destroy(err) {
      if (!socket.destroyed) {
        socket.destroyed = true;
        req.destroy(err);
        nextTick(() => socket.emit('close', Boolean(err)));
      }
      return socket;
    },
    end() { return socket; },
    write: refusing('socket.write', 'bolt sends HTTP through its host; requests have no raw socket'),
    getPeerCertificate: () => ({}),
    getCipher: () => ({}),
    getProtocol: () => (secure ? 'TLSv1.3' : null),
  });
  return socket;
}

// ---- IncomingMessage ----------------------------------------------------------------------

// How Node folds repeated response headers: a few keep the first value, set-cookie keeps
// them all, the rest are joined.
const FIRST_WINS = new Set(['age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from',
  'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent']);

function foldHeaders(pairs) {
  const headers = {};
  const distinct = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    (distinct[key] || (distinct[key] = [])).push(value);
    if (headers[key] === undefined) {
      headers[key] = key === 'set-cookie' ? [value] : value;
    } else if (key === 'set-cookie') {
      headers[key].push(value);
    } else if (!FIRST_WINS.has(key)) {
      headers[key] += key === 'cookie' ? `; ${value}` : `, ${value}`;
    }
  }
  return { headers, distinct };
}

export function IncomingMessage(socket) {
  Readable.call(this);
  this.socket = socket;
  this.httpVersionMajor = 1;
  this.httpVersionMinor = 1;
  this.httpVersion = '1.1';
  this.complete = false;
  this.rawHeaders = [];
  this.rawTrailers = [];
  this.headers = {};
  this.headersDistinct = {};
  this.trailers = {};
  this.trailersDistinct = {};
  this.aborted = false;
  this.upgrade = false;
  this.url = '';
  this.method = null;
  this.statusCode = null;
  this.statusMessage = null;
  this.client = socket;
  this._body = null;
}
Object.setPrototypeOf(IncomingMessage.prototype, Readable.prototype);
Object.setPrototypeOf(IncomingMessage, Readable);
Object.defineProperty(IncomingMessage.prototype, 'connection', { get() { return this.socket; } });

IncomingMessage.prototype._read = function _read() {
  if (this._body === null) return;
  const body = this._body;
  this._body = null;
  const CHUNK = 65536;
  for (let at = 0; at < body.length; at += CHUNK) this.push(Buffer.from(body.buffer, body.byteOffset + at, Math.min(CHUNK, body.length - at)));
  this.complete = true;
  this.push(null);
};

IncomingMessage.prototype.setTimeout = function setTimeout(ms, cb) {
  if (typeof cb === 'function') this.once('timeout', cb);
  return this;
};

IncomingMessage.prototype._destroy = function _destroy(err, cb) {
  if (!this.readableEnded || !this.complete) this.aborted = true;
  cb(err);
};

// ---- ClientRequest ------------------------------------------------------------------------

function headerArray(headers) {
  if (!headers) return [];
  if (Array.isArray(headers)) {
    const out = [];
    if (headers.length && Array.isArray(headers[0])) return headers.map(([k, v]) => [String(k), v]);
    for (let i = 0; i + 1 < headers.length; i += 2) out.push([String(headers[i]), headers[i + 1]]);
    return out;
  }
  return Object.keys(headers).map((k) => [k, headers[k]]);
}

export function ClientRequest(input, options, cb) {
  if (!(this instanceof ClientRequest)) return new ClientRequest(input, options, cb);
  // The request ends when its response has (not when its body is sent), so it is closed
  // by hand, not by the stream machinery.
  Writable.call(this, { autoDestroy: false });
  if (typeof input === 'string') {
    input = urlToHttpOptions(new URL(input));
  } else if (input instanceof URL) {
    input = urlToHttpOptions(input);
  } else {
    cb = options;
    options = input;
    input = null;
  }
  if (typeof options === 'function') {
    cb = options;
    options = input || {};
  } else {
    options = { ...input, ...options };
  }
  const defaultAgent = options._defaultAgent || globalAgent;
  let agent = options.agent;
  if (agent === false) agent = new defaultAgent.constructor();
  else if (agent === null || agent === undefined) {
    agent = typeof options.createConnection === 'function' ? undefined : defaultAgent;
  }
  this.agent = agent;
  const protocol = options.protocol || (agent && agent.protocol) || defaultAgent.protocol;
  const expected = defaultAgent.protocol;
  if (protocol !== expected) {
    throw nodeError(TypeError, 'ERR_INVALID_PROTOCOL', `Protocol "${protocol}" not supported. Expected "${expected}"`);
  }
  const defaultPort = options.defaultPort || (agent && agent.defaultPort) || defaultAgent.defaultPort;
  this._port = options.port || defaultPort || 80;
  const host = options.host ? String(options.host).replace(/:\d+$/, '') : undefined;
  this.host = options.hostname || host || 'localhost';
  this.protocol = protocol;
  let method = options.method;
  if (method !== undefined && method !== null && typeof method !== 'string') {
    throw invalidArgType('options.method', 'of type string', method);
  }
  method = (method || 'GET').toUpperCase();
  if (!TOKEN.test(method)) throw nodeError(TypeError, 'ERR_INVALID_HTTP_TOKEN', `Method must be a valid HTTP token ["${method}"]`);
  this.method = method;
  const path = options.path || '/';
  if (/[\u0000-\u0020]/.test(path)) {
    throw nodeError(TypeError, 'ERR_UNESCAPED_CHARACTERS', 'Request path contains unescaped characters');
  }
  this.path = path;
  this.timeout = options.timeout;
  this.aborted = false;
  this.reusedSocket = false;
  this.maxHeadersCount = null;
  this.finished = false;
  this.headersSent = false;
  this.res = null;
  this._headers = new Map();
  this._chunks = [];
  this._secure = protocol === 'https:';
  this._tls = this._secure ? {
    ...(agent && agent.options ? agent.options : {}),
    ...['rejectUnauthorized', 'ca', 'cert', 'key'].reduce((o, k) => (options[k] !== undefined ? { ...o, [k]: options[k] } : o), {}),
  } : undefined;
  this._call = null;
  for (const [name, value] of headerArray(options.headers)) this.setHeader(name, value);
  if (options.auth && !this.hasHeader('authorization')) {
    this.setHeader('Authorization', `Basic ${Buffer.from(options.auth).toString('base64')}`);
  }
  if (options.signal) {
    const signal = options.signal;
    const onAbort = () => this.destroy(new AbortErrorLike(signal.reason));
    if (signal.aborted) nextTick(onAbort);
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      this.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }
  if (typeof cb === 'function') this.once('response', cb);
  this.socket = makeSocket(this, this._secure);
  this.connection = this.socket;
  nextTick(() => {
    if (!this.destroyed) this.emit('socket', this.socket);
  });
  if (this.timeout) this.setTimeout(this.timeout);
}
Object.setPrototypeOf(ClientRequest.prototype, Writable.prototype);
Object.setPrototypeOf(ClientRequest, Writable);

class AbortErrorLike extends Error {
  constructor(cause) {
    super('The operation was aborted', { cause });
    this.code = 'ABORT_ERR';
    this.name = 'AbortError';
  }
}

ClientRequest.prototype.setHeader = function setHeader(name, value) {
  if (this.headersSent) {
    throw nodeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot set headers after they are sent to the client');
  }
  validateHeaderName(name);
  validateHeaderValue(name, value);
  this._headers.set(name.toLowerCase(), [name, value]);
  return this;
};
ClientRequest.prototype.appendHeader = function appendHeader(name, value) {
  const existing = this.getHeader(name);
  if (existing === undefined) return this.setHeader(name, value);
  const values = [].concat(existing, value);
  return this.setHeader(name, values);
};
ClientRequest.prototype.getHeader = function getHeader(name) {
  const entry = this._headers.get(String(name).toLowerCase());
  return entry ? entry[1] : undefined;
};
ClientRequest.prototype.getHeaders = function getHeaders() {
  const out = Object.create(null);
  for (const [key, [, value]] of this._headers) out[key] = value;
  return out;
};
ClientRequest.prototype.getHeaderNames = function getHeaderNames() { return [...this._headers.keys()]; };
ClientRequest.prototype.getRawHeaderNames = function getRawHeaderNames() { return [...this._headers.values()].map(([n]) => n); };
ClientRequest.prototype.hasHeader = function hasHeader(name) { return this._headers.has(String(name).toLowerCase()); };
ClientRequest.prototype.removeHeader = function removeHeader(name) {
  if (this.headersSent) throw nodeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot remove headers after they are sent to the client');
  this._headers.delete(String(name).toLowerCase());
};
ClientRequest.prototype.flushHeaders = function flushHeaders() {};
ClientRequest.prototype.setNoDelay = function setNoDelay() {};
ClientRequest.prototype.setSocketKeepAlive = function setSocketKeepAlive() {};

ClientRequest.prototype.setTimeout = function setTimeout(ms, callback) {
  if (typeof callback === 'function') this.once('timeout', callback);
  if (this._timer) this._timer.close();
  this._timer = null;
  if (ms > 0) {
    this._timer = nodeSetTimeout(() => {
      this._timer = null;
      if (!this.destroyed && !this.res) {
        this.emit('timeout');
        this.socket.emit('timeout');
      }
    }, ms);
  }
  return this;
};

ClientRequest.prototype._write = function _write(chunk, encoding, callback) {
  this._chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding));
  callback();
};

ClientRequest.prototype._final = function _final(callback) {
  this.headersSent = true;
  this.finished = true;
  const headers = [];
  for (const [, [name, value]] of this._headers) {
    if (Array.isArray(value)) for (const v of value) headers.push([name, String(v)]);
    else headers.push([name, String(value)]);
  }
  const host = this.host.includes(':') && !this.host.startsWith('[') ? `[${this.host}]` : this.host;
  const url = `${this.protocol}//${host}:${this._port}${this.path}`;
  const body = this._chunks.length ? Buffer.concat(this._chunks) : null;
  this._chunks = [];
  const call = exchange({ method: this.method, url, headers, body, tls: this._tls });
  this._call = call;
  callback();
  call.promise.then((answer) => {
    if (this._timer) {
      this._timer.close();
      this._timer = null;
    }
    if (this.destroyed) return;
    const res = new IncomingMessage(this.socket);
    res.req = this;
    res.statusCode = answer.status;
    res.statusMessage = STATUS_CODES[answer.status] || 'unknown';
    const { headers: folded, distinct } = foldHeaders(answer.headers);
    res.headers = folded;
    res.headersDistinct = distinct;
    res.rawHeaders = answer.headers.flat();
    res._body = this.method === 'HEAD' ? new Uint8Array(0) : answer.body;
    this.res = res;
    res.on('end', () => nextTick(() => this.destroy()));
    if (!this.emit('response', res)) res.resume();
  }, (error) => {
    if (error === ABORTED || this.destroyed) return;
    this.destroy(error);
  });
};

ClientRequest.prototype._destroy = function _destroy(err, callback) {
  if (this._timer) {
    this._timer.close();
    this._timer = null;
  }
  if (this._call) this._call.cancel();
  if (this.res && !this.res.complete) this.res.destroy(err);
  callback(err);
};

ClientRequest.prototype.abort = function abort() {
  if (this.aborted) return;
  this.aborted = true;
  nextTick(() => this.emit('abort'));
  this.destroy();
};

export function request(url, options, cb) {
  return new ClientRequest(url, options, cb);
}

export function get(url, options, cb) {
  const req = request(url, options, cb);
  req.end();
  return req;
}

export const OutgoingMessage = Writable;
export const Server = refusing('http.Server', WHY_SERVER);
export const ServerResponse = refusing('http.ServerResponse', WHY_SERVER);
export const createServer = refusing('http.createServer', WHY_SERVER);
export function setMaxIdleHTTPParsers() {}

/** node:https: the same client, for `https:` URLs, honouring TLS options. */
export function makeHttps() {
  function HttpsAgent(options) {
    if (!(this instanceof HttpsAgent)) return new HttpsAgent(options);
    Agent.call(this, options);
    this.defaultPort = 443;
    this.protocol = 'https:';
    this.maxCachedSessions = this.options.maxCachedSessions ?? 100;
  }
  Object.setPrototypeOf(HttpsAgent.prototype, Agent.prototype);
  Object.setPrototypeOf(HttpsAgent, Agent);
  Object.defineProperty(HttpsAgent, 'name', { value: 'Agent' });
  const httpsGlobalAgent = new HttpsAgent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });
  const withDefaults = (url, options, cb) => {
    if (typeof url === 'string' || url instanceof URL) {
      if (typeof options === 'function') return [url, { _defaultAgent: httpsGlobalAgent }, options];
      return [url, { ...options, _defaultAgent: httpsGlobalAgent }, cb];
    }
    return [{ ...url, _defaultAgent: httpsGlobalAgent }, options, cb];
  };
  const httpsRequest = (url, options, cb) => new ClientRequest(...withDefaults(url, options, cb));
  const httpsGet = (url, options, cb) => {
    const req = httpsRequest(url, options, cb);
    req.end();
    return req;
  };
  return {
    Agent: HttpsAgent,
    globalAgent: httpsGlobalAgent,
    request: httpsRequest,
    get: httpsGet,
    Server: refusing('https.Server', WHY_SERVER),
    createServer: refusing('https.createServer', WHY_SERVER),
  };
}


