// node:tls: loads, but bolt's sandbox opens no raw TLS sockets (HTTPS goes through the host).

import { refusing } from 'bolt:node/internal/errors';

const WHY = "opens raw TLS sockets, which bolt's sandbox does not allow (HTTPS requests go through bolt's HTTP client)";

export const TLSSocket = refusing('tls.TLSSocket', WHY);
export const Server = refusing('tls.Server', WHY);
export const connect = refusing('tls.connect', WHY);
export const createServer = refusing('tls.createServer', WHY);
export const createSecureContext = refusing('tls.createSecureContext', WHY);
export const createSecurePair = refusing('tls.createSecurePair', WHY);
export const SecureContext = refusing('tls.SecureContext', WHY);
export const checkServerIdentity = refusing('tls.checkServerIdentity', WHY);
export const getCiphers = () => [];
export const rootCertificates = Object.freeze([]);
export const DEFAULT_ECDH_CURVE = 'auto';
export const DEFAULT_MIN_VERSION = 'TLSv1.2';
export const DEFAULT_MAX_VERSION = 'TLSv1.3';
export const DEFAULT_CIPHERS = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';
export const CLIENT_RENEG_LIMIT = 3;
export const CLIENT_RENEG_WINDOW = 600;

export default {
  TLSSocket, Server, connect, createServer, createSecureContext, createSecurePair, SecureContext,
  checkServerIdentity, getCiphers, rootCertificates, DEFAULT_ECDH_CURVE, DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION,
  DEFAULT_CIPHERS, CLIENT_RENEG_LIMIT, CLIENT_RENEG_WINDOW,
};
