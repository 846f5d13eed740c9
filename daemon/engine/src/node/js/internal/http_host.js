// One HTTP exchange through bolt's host (the client, TLS, timeouts and schemes jobs
// already have), for fetch, undici, http/https and the clients built on them.

import { host, toBinary } from 'bolt:node/internal/host';

function pem(value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return String.fromCharCode.apply(null, value);
  return String(value);
}

/** Node's TLS options (`rejectUnauthorized`, `ca`, `cert`, `key`) in the host's terms. */
export function tlsOptions(options = {}) {
  const ca = options.ca === undefined || options.ca === null ? [] : (Array.isArray(options.ca) ? options.ca : [options.ca]).map(pem);
  return {
    rejectUnauthorized: options.rejectUnauthorized !== false,
    tls: { ca, cert: pem(options.cert), key: pem(options.key) },
  };
}

/** An Error shaped like the one Node/undici raises, from the host's error description. */
export function hostError(description) {
  const Kind = description.name === 'TypeError' ? TypeError : Error;
  const error = new Kind(description.message);
  if (description.name && description.name !== Kind.name) {
    Object.defineProperty(error, 'name', { value: description.name, writable: true, configurable: true });
  }
  for (const key of Object.keys(description)) {
    if (key !== 'name' && key !== 'message') error[key] = description[key];
  }
  return error;
}

export const ABORTED = Symbol('aborted');

/**
 * Sends `{method, url, headers: [[name, value]], body?: Uint8Array, timeoutMs?,
 * maxRedirections?, tls?: {rejectUnauthorized, ca, cert, key}}`. Returns `{promise,
 * cancel}`: the promise resolves with `{status, headers, url, body: Uint8Array}`, rejects
 * with a Node-style network error, or with `ABORTED` once `cancel()` was called.
 */
export function exchange({ method, url, headers = [], body, timeoutMs, maxRedirections = 0, tls }) {
  const h = host();
  const id = h.newId();
  const request = { method, url, headers, maxRedirections };
  if (timeoutMs !== undefined && timeoutMs !== null && Number.isFinite(timeoutMs) && timeoutMs > 0) {
    request.timeoutMs = Math.ceil(timeoutMs);
  } else if (timeoutMs === 0) {
    // 0 disables the timeout in Node and undici: a day stands for "none" (the step's own
    // deadline still bounds it).
    request.timeoutMs = 86400000;
  }
  if (tls) {
    const options = tlsOptions(tls);
    request.rejectUnauthorized = options.rejectUnauthorized;
    request.tls = options.tls;
  }
  const binary = body && body.length ? toBinary(body) : undefined;
  let cancelled = false;
  const promise = h.http(JSON.stringify(request), binary, id).then((answer) => {
    if (cancelled || answer.aborted) throw ABORTED;
    if (!answer.ok) throw hostError(answer.error || { name: 'Error', message: 'HTTP request failed' });
    return {
      status: answer.status,
      headers: answer.headers,
      url: answer.url,
      body: answer.body ? new Uint8Array(answer.body) : new Uint8Array(0),
    };
  });
  return {
    promise,
    cancel() {
      if (cancelled) return;
      cancelled = true;
      h.cancel(id);
    },
  };
}

export const STATUS_CODES = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints', 200: 'OK', 201: 'Created',
  202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content', 205: 'Reset Content',
  206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used', 300: 'Multiple Choices',
  301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 305: 'Use Proxy',
  307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized',
  402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone',
  411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed', 418: "I'm a Teapot",
  421: 'Misdirected Request', 422: 'Unprocessable Entity', 423: 'Locked', 424: 'Failed Dependency',
  425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates', 507: 'Insufficient Storage',
  508: 'Loop Detected', 509: 'Bandwidth Limit Exceeded', 510: 'Not Extended',
  511: 'Network Authentication Required',
};
