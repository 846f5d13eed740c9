// language-common's util helpers (base64, uuid, errors, URLs) and the HTTP engine shared by
// both `http` namespaces, language-http and validate(). Internal to bolt's adaptor modules.

import { host, isBinary, isError, tagOf } from '@openfn/language-common/internal/helpers';
import { base64ToBytes, bytesToBase64, utf8Decode, utf8Encode } from '@openfn/language-common/internal/bytes';
import { print } from '@openfn/language-common/internal/inspect';

export function encode(data, options = { parseJson: true }) {
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

export function decode(base64Data, options = { parseJson: true }) {
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

export function uuid() {
  const hex = [];
  for (let i = 0; i < 16; i++) hex.push(Math.floor(Math.random() * 256));
  hex[6] = (hex[6] & 0x0f) | 0x40;
  hex[8] = (hex[8] & 0x3f) | 0x80;
  const s = hex.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

export function throwError(code, { description, fix, ...extras } = {}) {
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

export const ERROR_ABSOLUTE_URL = 'Absolute URLs not supported';
export const ERROR_URL_MISMATCH = 'Target origin does not match baseUrl origin';

export function assertRelativeUrl(path) {
  if (/https?:\/\//.test(path)) {
    const e = new Error('UNEXPECTED_ABSOLUTE_URL');
    e.code = 'UNEXPECTED_ABSOLUTE_URL';
    e.description = 'An absolute URL was provided (https://...) but only a path (/a/b/c) is supported';
    e.url = path;
    e.fix = 'Remove the protocol, domain and origin from the provided URL. Maybe you need to use the generic HTTP helper functions instead?';
    throw e;
  }
}

export function parseUrl(pathOrUrl = '', baseUrl) {
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

export function makeBasicAuthHeader(username, password) {
  return { Authorization: `Basic ${encode(`${username}:${password}`)}` };
}

export function logResponse(response) {
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

export function encodeFormBody(data) {
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
export async function request(method, fullUrlOrPath, options = {}) {
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
