// node:crypto: digests (md5, sha1, sha224/256/384/512), HMAC, PBKDF2 and randomness from
// the host (Rust); web crypto's getRandomValues, randomUUID and subtle.digest. Ciphers,
// signatures and key generation are refused with an error naming the function.

import { Buffer } from 'node:buffer';
import { Transform } from 'node:stream';
import { nextTick } from 'node:timers';
import { nodeError, invalidArgType, outOfRange, refusing, validateFunction, validateInteger } from 'bolt:node/internal/errors';
import { host, toBinary } from 'bolt:node/internal/host';

const HASHES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
const ALIASES = {
  'rsa-md5': 'md5', 'rsa-sha1': 'sha1', 'sha-1': 'sha1', 'rsa-sha224': 'sha224', 'sha-224': 'sha224',
  'rsa-sha256': 'sha256', 'sha-256': 'sha256', 'rsa-sha384': 'sha384', 'sha-384': 'sha384',
  'rsa-sha512': 'sha512', 'sha-512': 'sha512',
};
const WHY_CIPHERS = "bolt's sandbox implements digests, HMAC, PBKDF2 and random values only";

function algorithmName(algorithm) {
  const lower = String(algorithm).toLowerCase();
  const name = ALIASES[lower] || lower;
  return HASHES.includes(name) ? name : undefined;
}

function toBytes(data, encoding, name = 'data') {
  if (typeof data === 'string') return Buffer.from(data, encoding === 'buffer' ? 'utf8' : encoding);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw invalidArgType(name, 'of type string or an instance of Buffer, TypedArray, or DataView', data);
}

function output(bytes, encoding) {
  const buf = Buffer.from(bytes);
  return encoding === undefined || encoding === 'buffer' ? buf : buf.toString(encoding);
}

const kChunks = Symbol('chunks');
const kAlgorithm = Symbol('algorithm');
const kFinal = Symbol('finalized');
const kKey = Symbol('key');

function concat(chunks) {
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

// Hash and Hmac are streams too (write data, read the digest), as in Node.
export class Hash extends Transform {
  constructor(algorithm, options) {
    super(options);
    const name = algorithmName(algorithm);
    if (name === undefined) throw new Error('Digest method not supported');
    this[kAlgorithm] = name;
    this[kChunks] = [];
    this[kFinal] = false;
  }
  update(data, encoding) {
    if (this[kFinal]) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    this[kChunks].push(Buffer.from(toBytes(data, encoding)));
    return this;
  }
  digest(encoding) {
    if (this[kFinal]) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    this[kFinal] = true;
    const bytes = new Uint8Array(host().hash(this[kAlgorithm], toBinary(concat(this[kChunks]))));
    this[kChunks] = [];
    return output(bytes, encoding);
  }
  copy(options) {
    if (this[kFinal]) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    const copy = new Hash(this[kAlgorithm], options);
    copy[kChunks] = this[kChunks].slice();
    return copy;
  }
  _transform(chunk, encoding, callback) {
    this.update(chunk, encoding);
    callback();
  }
  _flush(callback) {
    this.push(this.digest());
    callback();
  }
}

export class Hmac extends Transform {
  constructor(algorithm, key, options) {
    super(options);
    const name = algorithmName(algorithm);
    if (name === undefined) throw nodeError(TypeError, 'ERR_CRYPTO_INVALID_DIGEST', `Invalid digest: ${algorithm}`);
    this[kAlgorithm] = name;
    this[kKey] = Buffer.from(keyBytes(key, options && options.encoding));
    this[kChunks] = [];
    this[kFinal] = false;
  }
  update(data, encoding) {
    if (this[kFinal]) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    this[kChunks].push(Buffer.from(toBytes(data, encoding)));
    return this;
  }
  digest(encoding) {
    if (this[kFinal]) return output(new Uint8Array(0), encoding);
    this[kFinal] = true;
    const bytes = new Uint8Array(host().hmac(this[kAlgorithm], toBinary(this[kKey]), toBinary(concat(this[kChunks]))));
    this[kChunks] = [];
    return output(bytes, encoding);
  }
  _transform(chunk, encoding, callback) {
    this.update(chunk, encoding);
    callback();
  }
  _flush(callback) {
    this.push(this.digest());
    callback();
  }
}

export class KeyObject {
  constructor(type, bytes) {
    this.type = type;
    this[kKey] = bytes;
  }
  get symmetricKeySize() { return this.type === 'secret' ? this[kKey].length : undefined; }
  export() { return Buffer.from(this[kKey]); }
  equals(other) { return other instanceof KeyObject && timingSafeEqual(this[kKey], other[kKey]); }
}

function keyBytes(key, encoding) {
  if (key instanceof KeyObject) return key[kKey];
  if (typeof key === 'string') return Buffer.from(key, encoding || 'utf8');
  if (key instanceof ArrayBuffer) return new Uint8Array(key);
  if (ArrayBuffer.isView(key)) return toBytes(key);
  throw invalidArgType('key', 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey', key);
}

export function createSecretKey(key, encoding) {
  return new KeyObject('secret', Buffer.from(keyBytes(key, encoding)));
}

export function createHash(algorithm, options) { return new Hash(algorithm, options); }
export function createHmac(algorithm, key, options) { return new Hmac(algorithm, key, options); }

/** crypto.hash(algorithm, data, outputEncoding = 'hex'). */
export function hash(algorithm, data, outputEncoding = 'hex') {
  return createHash(algorithm).update(data).digest(outputEncoding);
}

export function getHashes() {
  return ['RSA-MD5', 'RSA-SHA1', 'RSA-SHA224', 'RSA-SHA256', 'RSA-SHA384', 'RSA-SHA512', 'md5', 'sha1', 'sha224',
    'sha256', 'sha384', 'sha512'];
}

export function getCiphers() { return []; }
export function getCurves() { return []; }

// ---- randomness ---------------------------------------------------------------------------

function random(size) {
  return new Uint8Array(host().randomBytes(size));
}

export function randomBytes(size, callback) {
  validateInteger(size, 'size', 0, 2 ** 31 - 1);
  const bytes = Buffer.from(random(size));
  if (callback === undefined) return bytes;
  validateFunction(callback, 'callback');
  nextTick(callback, null, bytes);
  return undefined;
}
export const pseudoRandomBytes = randomBytes;
export const prng = randomBytes;
export const rng = randomBytes;

export function randomFillSync(buffer, offset = 0, size) {
  if (!ArrayBuffer.isView(buffer) && !(buffer instanceof ArrayBuffer)) {
    throw invalidArgType('buf', 'an instance of ArrayBuffer or ArrayBufferView', buffer);
  }
  const view = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (size === undefined) size = view.length - offset;
  if (offset < 0 || offset > view.length) throw outOfRange('offset', `>= 0 && <= ${view.length}`, offset);
  if (size < 0 || offset + size > view.length) throw outOfRange('size + offset', `<= ${view.length}`, size + offset);
  view.set(random(size), offset);
  return buffer;
}

export function randomFill(buffer, offset, size, callback) {
  if (typeof offset === 'function') { callback = offset; offset = 0; size = undefined; }
  else if (typeof size === 'function') { callback = size; size = undefined; }
  validateFunction(callback, 'callback');
  randomFillSync(buffer, offset, size);
  nextTick(callback, null, buffer);
}

export function randomInt(min, max, callback) {
  if (typeof max === 'function' || max === undefined) {
    callback = max;
    max = min;
    min = 0;
  }
  if (!Number.isSafeInteger(min)) throw invalidArgType('min', 'a safe integer', min);
  if (!Number.isSafeInteger(max)) throw invalidArgType('max', 'a safe integer', max);
  if (max <= min) {
    throw outOfRange('max', `greater than the value of "min" (${min})`, max);
  }
  const range = max - min;
  // Rejection sampling over 48 random bits, as Node does.
  const limit = 2 ** 48 - (2 ** 48 % range);
  let value;
  do {
    const b = random(6);
    value = ((b[0] * 2 ** 40) + (b[1] * 2 ** 32) + (b[2] * 2 ** 24) + (b[3] * 2 ** 16) + (b[4] * 2 ** 8) + b[5]);
  } while (value >= limit);
  const result = min + (value % range);
  if (typeof callback === 'function') {
    nextTick(callback, null, result);
    return undefined;
  }
  return result;
}

export function randomUUID(options) {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw invalidArgType('options', 'of type object', options);
  }
  const b = random(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function getRandomValues(array) {
  const integer = array instanceof Int8Array || array instanceof Uint8Array || array instanceof Uint8ClampedArray ||
    array instanceof Int16Array || array instanceof Uint16Array || array instanceof Int32Array ||
    array instanceof Uint32Array || (typeof BigInt64Array !== 'undefined' && (array instanceof BigInt64Array || array instanceof BigUint64Array));
  if (!integer) {
    throw new DOMException('The data argument must be an integer-type TypedArray', 'TypeMismatchError');
  }
  if (array.byteLength > 65536) {
    throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`, 'QuotaExceededError');
  }
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(random(array.byteLength));
  return array;
}

export function timingSafeEqual(a, b) {
  if (!ArrayBuffer.isView(a) && !(a instanceof ArrayBuffer)) {
    throw invalidArgType('buf1', 'an instance of ArrayBuffer, Buffer, TypedArray, or DataView', a);
  }
  if (!ArrayBuffer.isView(b) && !(b instanceof ArrayBuffer)) {
    throw invalidArgType('buf2', 'an instance of ArrayBuffer, Buffer, TypedArray, or DataView', b);
  }
  const x = a instanceof ArrayBuffer ? new Uint8Array(a) : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) {
    throw nodeError(RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
  }
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

// ---- PBKDF2 -------------------------------------------------------------------------------

export function pbkdf2Sync(password, salt, iterations, keylen, digest) {
  const name = algorithmName(digest);
  if (name === undefined) throw nodeError(TypeError, 'ERR_CRYPTO_INVALID_DIGEST', `Invalid digest: ${digest}`);
  validateInteger(iterations, 'iterations', 1, 2 ** 31 - 1);
  validateInteger(keylen, 'keylen', 0, 2 ** 31 - 1);
  const key = host().pbkdf2(name, toBinary(keyBytes(password)), toBinary(keyBytes(salt)), iterations, keylen);
  return Buffer.from(new Uint8Array(key));
}

export function pbkdf2(password, salt, iterations, keylen, digest, callback) {
  if (typeof digest === 'function') {
    callback = digest;
    digest = undefined;
  }
  validateFunction(callback, 'callback');
  let key;
  try {
    key = pbkdf2Sync(password, salt, iterations, keylen, digest);
  } catch (error) {
    if (error.code === 'ERR_INVALID_ARG_TYPE' || error.code === 'ERR_OUT_OF_RANGE' || error.code === 'ERR_CRYPTO_INVALID_DIGEST') throw error;
    nextTick(callback, error);
    return;
  }
  nextTick(callback, null, key);
}

// ---- web crypto ---------------------------------------------------------------------------

const SUBTLE_DIGESTS = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

export const subtle = {
  async digest(algorithm, data) {
    const name = typeof algorithm === 'string' ? algorithm : algorithm && algorithm.name;
    const hashName = SUBTLE_DIGESTS[String(name).toUpperCase()];
    if (!hashName) throw new DOMException('Unrecognized algorithm name', 'NotSupportedError');
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : toBytes(data);
    const digest = new Uint8Array(host().hash(hashName, toBinary(bytes)));
    return digest.buffer;
  },
};
for (const method of ['encrypt', 'decrypt', 'sign', 'verify', 'generateKey', 'deriveKey', 'deriveBits', 'importKey',
  'exportKey', 'wrapKey', 'unwrapKey']) {
  subtle[method] = async () => refusing(`crypto.subtle.${method}`, WHY_CIPHERS)();
}

export const webcrypto = { getRandomValues, randomUUID, subtle };

// ---- refused: ciphers, signatures, key pairs ----------------------------------------------

export const createCipheriv = refusing('crypto.createCipheriv', WHY_CIPHERS);
export const createDecipheriv = refusing('crypto.createDecipheriv', WHY_CIPHERS);
export const createSign = refusing('crypto.createSign', WHY_CIPHERS);
export const createVerify = refusing('crypto.createVerify', WHY_CIPHERS);
export const sign = refusing('crypto.sign', WHY_CIPHERS);
export const verify = refusing('crypto.verify', WHY_CIPHERS);
export const createPrivateKey = refusing('crypto.createPrivateKey', WHY_CIPHERS);
export const createPublicKey = refusing('crypto.createPublicKey', WHY_CIPHERS);
export const generateKeyPair = refusing('crypto.generateKeyPair', WHY_CIPHERS);
export const generateKeyPairSync = refusing('crypto.generateKeyPairSync', WHY_CIPHERS);
export const generateKey = refusing('crypto.generateKey', WHY_CIPHERS);
export const generateKeySync = refusing('crypto.generateKeySync', WHY_CIPHERS);
export const publicEncrypt = refusing('crypto.publicEncrypt', WHY_CIPHERS);
export const privateDecrypt = refusing('crypto.privateDecrypt', WHY_CIPHERS);
export const privateEncrypt = refusing('crypto.privateEncrypt', WHY_CIPHERS);
export const publicDecrypt = refusing('crypto.publicDecrypt', WHY_CIPHERS);
export const createDiffieHellman = refusing('crypto.createDiffieHellman', WHY_CIPHERS);
export const createECDH = refusing('crypto.createECDH', WHY_CIPHERS);
export const scrypt = refusing('crypto.scrypt', WHY_CIPHERS);
export const scryptSync = refusing('crypto.scryptSync', WHY_CIPHERS);
export const hkdf = refusing('crypto.hkdf', WHY_CIPHERS);
export const hkdfSync = refusing('crypto.hkdfSync', WHY_CIPHERS);

export const constants = Object.freeze({
  RSA_PKCS1_PADDING: 1, RSA_NO_PADDING: 3, RSA_PKCS1_OAEP_PADDING: 4, RSA_PKCS1_PSS_PADDING: 6,
  RSA_PSS_SALTLEN_DIGEST: -1, RSA_PSS_SALTLEN_MAX_SIGN: -2, RSA_PSS_SALTLEN_AUTO: -2,
  POINT_CONVERSION_COMPRESSED: 2, POINT_CONVERSION_UNCOMPRESSED: 4, POINT_CONVERSION_HYBRID: 6,
});

export default {
  Hash, Hmac, KeyObject, createHash, createHmac, createSecretKey, hash, getHashes, getCiphers, getCurves,
  randomBytes, pseudoRandomBytes, prng, rng, randomFillSync, randomFill, randomInt, randomUUID, getRandomValues,
  timingSafeEqual, pbkdf2, pbkdf2Sync, subtle, webcrypto, createCipheriv, createDecipheriv, createSign, createVerify,
  sign, verify, createPrivateKey, createPublicKey, generateKeyPair, generateKeyPairSync, generateKey, generateKeySync,
  publicEncrypt, privateDecrypt, privateEncrypt, publicDecrypt, createDiffieHellman, createECDH, scrypt, scryptSync,
  hkdf, hkdfSync, constants,
};
