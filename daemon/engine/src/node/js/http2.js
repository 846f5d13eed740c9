// node:http2: loads (axios imports it at the top of its Node build) with its constants, but
// bolt's sandbox opens no raw HTTP/2 sessions: connecting or serving throws.

import { refusing } from 'bolt:node/internal/errors';

const WHY = "opens raw HTTP/2 sessions, which bolt's sandbox does not allow (HTTP/1.1 requests go through bolt's HTTP client)";

const HEADERS = ['status', 'method', 'authority', 'scheme', 'path', 'protocol', 'accept-encoding', 'accept-language',
  'accept-ranges', 'accept', 'access-control-allow-credentials', 'access-control-allow-headers',
  'access-control-allow-methods', 'access-control-allow-origin', 'access-control-expose-headers',
  'access-control-request-headers', 'access-control-request-method', 'age', 'authorization', 'cache-control',
  'connection', 'content-disposition', 'content-encoding', 'content-length', 'content-type', 'cookie', 'date', 'etag',
  'forwarded', 'host', 'if-modified-since', 'if-none-match', 'if-range', 'last-modified', 'link', 'location', 'range',
  'referer', 'server', 'set-cookie', 'strict-transport-security', 'transfer-encoding', 'te', 'upgrade', 'user-agent',
  'vary', 'x-content-type-options', 'x-frame-options', 'keep-alive', 'proxy-connection', 'x-xss-protection',
  'alt-svc', 'content-security-policy', 'early-data', 'expect-ct', 'origin', 'purpose', 'timing-allow-origin',
  'x-forwarded-for', 'priority', 'accept-charset', 'access-control-max-age', 'allow', 'content-language',
  'content-location', 'content-md5', 'content-range', 'dnt', 'expect', 'expires', 'from', 'if-match',
  'if-unmodified-since', 'max-forwards', 'prefer', 'proxy-authenticate', 'proxy-authorization', 'refresh',
  'retry-after', 'trailer', 'tk', 'via', 'warning', 'www-authenticate', 'http2-settings'];
const PSEUDO = new Set(['status', 'method', 'authority', 'scheme', 'path', 'protocol']);

export const constants = Object.freeze({
  NGHTTP2_SESSION_SERVER: 0, NGHTTP2_SESSION_CLIENT: 1, NGHTTP2_NO_ERROR: 0, NGHTTP2_PROTOCOL_ERROR: 1,
  NGHTTP2_INTERNAL_ERROR: 2, NGHTTP2_FLOW_CONTROL_ERROR: 3, NGHTTP2_SETTINGS_TIMEOUT: 4, NGHTTP2_STREAM_CLOSED: 5,
  NGHTTP2_FRAME_SIZE_ERROR: 6, NGHTTP2_REFUSED_STREAM: 7, NGHTTP2_CANCEL: 8, NGHTTP2_COMPRESSION_ERROR: 9,
  NGHTTP2_CONNECT_ERROR: 10, NGHTTP2_ENHANCE_YOUR_CALM: 11, NGHTTP2_INADEQUATE_SECURITY: 12,
  NGHTTP2_HTTP_1_1_REQUIRED: 13, NGHTTP2_DEFAULT_WEIGHT: 16, DEFAULT_SETTINGS_HEADER_TABLE_SIZE: 4096,
  DEFAULT_SETTINGS_ENABLE_PUSH: 1, DEFAULT_SETTINGS_MAX_CONCURRENT_STREAMS: 4294967295,
  DEFAULT_SETTINGS_INITIAL_WINDOW_SIZE: 65535, DEFAULT_SETTINGS_MAX_FRAME_SIZE: 16384,
  DEFAULT_SETTINGS_MAX_HEADER_LIST_SIZE: 65535, MAX_MAX_FRAME_SIZE: 16777215, MIN_MAX_FRAME_SIZE: 16384,
  MAX_INITIAL_WINDOW_SIZE: 2147483647,
  ...Object.fromEntries(HEADERS.map((h) => [`HTTP2_HEADER_${h.toUpperCase().replace(/-/g, '_')}`, PSEUDO.has(h) ? `:${h}` : h])),
  HTTP2_METHOD_GET: 'GET', HTTP2_METHOD_POST: 'POST', HTTP2_METHOD_PUT: 'PUT', HTTP2_METHOD_DELETE: 'DELETE',
  HTTP2_METHOD_PATCH: 'PATCH', HTTP2_METHOD_HEAD: 'HEAD', HTTP2_METHOD_OPTIONS: 'OPTIONS',
  HTTP2_METHOD_CONNECT: 'CONNECT', HTTP2_METHOD_TRACE: 'TRACE', HTTP_STATUS_OK: 200, HTTP_STATUS_CREATED: 201,
  HTTP_STATUS_NO_CONTENT: 204, HTTP_STATUS_MOVED_PERMANENTLY: 301, HTTP_STATUS_FOUND: 302,
  HTTP_STATUS_NOT_MODIFIED: 304, HTTP_STATUS_BAD_REQUEST: 400, HTTP_STATUS_UNAUTHORIZED: 401,
  HTTP_STATUS_FORBIDDEN: 403, HTTP_STATUS_NOT_FOUND: 404, HTTP_STATUS_INTERNAL_SERVER_ERROR: 500,
});

export const connect = refusing('http2.connect', WHY);
export const createServer = refusing('http2.createServer', WHY);
export const createSecureServer = refusing('http2.createSecureServer', WHY);
export const getDefaultSettings = () => ({
  headerTableSize: 4096, enablePush: true, initialWindowSize: 65535, maxFrameSize: 16384,
  maxConcurrentStreams: 4294967295, maxHeaderListSize: 65535, enableConnectProtocol: false,
});
export const getPackedSettings = refusing('http2.getPackedSettings', WHY);
export const getUnpackedSettings = refusing('http2.getUnpackedSettings', WHY);
export const sensitiveHeaders = Symbol('nodejs.http2.sensitiveHeaders');
export const Http2ServerRequest = refusing('http2.Http2ServerRequest', WHY);
export const Http2ServerResponse = refusing('http2.Http2ServerResponse', WHY);

export default {
  constants, connect, createServer, createSecureServer, getDefaultSettings, getPackedSettings,
  getUnpackedSettings, sensitiveHeaders, Http2ServerRequest, Http2ServerResponse,
};
