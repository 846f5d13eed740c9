// node:zlib over the host's flate2/brotli: gzip/gunzip, deflate/inflate (zlib and raw),
// unzip (either), brotli decompression; each in its sync, callback and stream form, with
// zlib's error messages and codes. Streams gather their input and convert it when it ends
// (responses arrive whole from bolt's HTTP host anyway). Brotli compression is refused.

import { Buffer } from 'node:buffer';
import { Transform } from 'node:stream';
import { nextTick } from 'node:timers';
import { invalidArgType, refusing, validateFunction } from 'bolt:node/internal/errors';
import { host, toBinary } from 'bolt:node/internal/host';

export const constants = Object.freeze({
  Z_NO_FLUSH: 0, Z_PARTIAL_FLUSH: 1, Z_SYNC_FLUSH: 2, Z_FULL_FLUSH: 3, Z_FINISH: 4, Z_BLOCK: 5,
  Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3,
  Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6, Z_NO_COMPRESSION: 0, Z_BEST_SPEED: 1,
  Z_BEST_COMPRESSION: 9, Z_DEFAULT_COMPRESSION: -1, Z_FILTERED: 1, Z_HUFFMAN_ONLY: 2, Z_RLE: 3, Z_FIXED: 4,
  Z_DEFAULT_STRATEGY: 0, ZLIB_VERNUM: 4865, DEFLATE: 1, INFLATE: 2, GZIP: 3, GUNZIP: 4, DEFLATERAW: 5,
  INFLATERAW: 6, UNZIP: 7, BROTLI_DECODE: 8, BROTLI_ENCODE: 9, Z_MIN_WINDOWBITS: 8, Z_MAX_WINDOWBITS: 15,
  Z_DEFAULT_WINDOWBITS: 15, Z_MIN_CHUNK: 64, Z_MAX_CHUNK: Infinity, Z_DEFAULT_CHUNK: 16384, Z_MIN_MEMLEVEL: 1,
  Z_MAX_MEMLEVEL: 9, Z_DEFAULT_MEMLEVEL: 8, Z_MIN_LEVEL: -1, Z_MAX_LEVEL: 9, Z_DEFAULT_LEVEL: -1,
  BROTLI_OPERATION_PROCESS: 0, BROTLI_OPERATION_FLUSH: 1, BROTLI_OPERATION_FINISH: 2,
  BROTLI_OPERATION_EMIT_METADATA: 3, BROTLI_PARAM_MODE: 0, BROTLI_MODE_GENERIC: 0, BROTLI_MODE_TEXT: 1,
  BROTLI_MODE_FONT: 2, BROTLI_DEFAULT_MODE: 0, BROTLI_PARAM_QUALITY: 1, BROTLI_MIN_QUALITY: 0,
  BROTLI_MAX_QUALITY: 11, BROTLI_DEFAULT_QUALITY: 11, BROTLI_PARAM_LGWIN: 2, BROTLI_MIN_WINDOW_BITS: 10,
  BROTLI_MAX_WINDOW_BITS: 24, BROTLI_DEFAULT_WINDOW: 22, BROTLI_PARAM_SIZE_HINT: 5,
  BROTLI_DECODER_RESULT_ERROR: 0, BROTLI_DECODER_RESULT_SUCCESS: 1,
});

const WHY_BROTLI = 'bolt decompresses brotli but does not compress it';

function inputBytes(buffer) {
  if (typeof buffer === 'string') return Buffer.from(buffer);
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  throw invalidArgType('buffer', 'of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer', buffer);
}

// Whether a decompression keeps what it has when the input stops early (Z_SYNC_FLUSH).
function keepsPartial(options) {
  return !!options && options.finishFlush !== undefined && options.finishFlush !== constants.Z_FINISH;
}

function convert(mode, bytes, options) {
  const level = options && typeof options.level === 'number' && options.level >= 0 ? options.level : undefined;
  const out = Buffer.from(new Uint8Array(host().zlib(mode, toBinary(bytes), level, keepsPartial(options))));
  if (options && typeof options.maxOutputLength === 'number' && out.length > options.maxOutputLength) {
    const error = new RangeError(`Cannot create a Buffer larger than ${options.maxOutputLength} bytes`);
    error.code = 'ERR_BUFFER_TOO_LARGE';
    throw error;
  }
  return out;
}

function syncForm(mode) {
  return function zlibSync(buffer, options) {
    const out = convert(mode, inputBytes(buffer), options);
    return options && options.info ? { buffer: out, engine: undefined } : out;
  };
}

function callbackForm(mode) {
  return function zlibCallback(buffer, options, callback) {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    validateFunction(callback, 'callback');
    let out;
    try {
      out = convert(mode, inputBytes(buffer), options);
    } catch (error) {
      nextTick(callback, error);
      return;
    }
    nextTick(callback, null, out);
  };
}

// The stream classes: a Transform that converts everything written when it ends.
export function Zlib(mode, options) {
  Transform.call(this, { ...options, objectMode: false });
  this._mode = mode;
  this._options = options || {};
  this._chunks = [];
  this.bytesWritten = 0;
  this._handle = {};
  this._closed = false;
}
Object.setPrototypeOf(Zlib.prototype, Transform.prototype);
Object.setPrototypeOf(Zlib, Transform);

Zlib.prototype._transform = function (chunk, encoding, callback) {
  const bytes = inputBytes(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
  this._chunks.push(Buffer.from(bytes));
  this.bytesWritten += bytes.length;
  callback();
};

Zlib.prototype._flush = function (callback) {
  let out;
  try {
    out = convert(this._mode, Buffer.concat(this._chunks), this._options);
  } catch (error) {
    callback(error);
    return;
  }
  this._chunks = [];
  const size = this._options.chunkSize || 16 * 1024;
  for (let at = 0; at < out.length; at += size) this.push(out.subarray(at, at + size));
  callback();
};

Zlib.prototype.flush = function (kind, callback) {
  if (typeof kind === 'function') callback = kind;
  if (typeof callback === 'function') nextTick(callback);
};
Zlib.prototype.params = function (level, strategy, callback) {
  this._options.level = level;
  if (typeof callback === 'function') nextTick(callback);
};
Zlib.prototype.reset = function () { this._chunks = []; };
Zlib.prototype.close = function (callback) {
  this._closed = true;
  if (typeof callback === 'function') this.once('close', callback);
  this.destroy();
};

function streamClass(name, mode) {
  const holder = {
    [name]: function (options) {
      if (!(this instanceof holder[name])) return new holder[name](options);
      Zlib.call(this, mode, options);
    },
  };
  const Class = holder[name];
  Object.setPrototypeOf(Class.prototype, Zlib.prototype);
  Object.setPrototypeOf(Class, Zlib);
  return Class;
}

export const Gzip = streamClass('Gzip', 'gzip');
export const Gunzip = streamClass('Gunzip', 'gunzip');
export const Deflate = streamClass('Deflate', 'deflate');
export const Inflate = streamClass('Inflate', 'inflate');
export const DeflateRaw = streamClass('DeflateRaw', 'deflateRaw');
export const InflateRaw = streamClass('InflateRaw', 'inflateRaw');
export const Unzip = streamClass('Unzip', 'unzip');
export const BrotliDecompress = streamClass('BrotliDecompress', 'brotliDecompress');
export const BrotliCompress = refusing('zlib.BrotliCompress', WHY_BROTLI);

export const createGzip = (options) => new Gzip(options);
export const createGunzip = (options) => new Gunzip(options);
export const createDeflate = (options) => new Deflate(options);
export const createInflate = (options) => new Inflate(options);
export const createDeflateRaw = (options) => new DeflateRaw(options);
export const createInflateRaw = (options) => new InflateRaw(options);
export const createUnzip = (options) => new Unzip(options);
export const createBrotliDecompress = (options) => new BrotliDecompress(options);
export const createBrotliCompress = refusing('zlib.createBrotliCompress', WHY_BROTLI);

export const gzipSync = syncForm('gzip');
export const gunzipSync = syncForm('gunzip');
export const deflateSync = syncForm('deflate');
export const inflateSync = syncForm('inflate');
export const deflateRawSync = syncForm('deflateRaw');
export const inflateRawSync = syncForm('inflateRaw');
export const unzipSync = syncForm('unzip');
export const brotliDecompressSync = syncForm('brotliDecompress');
export const brotliCompressSync = refusing('zlib.brotliCompressSync', WHY_BROTLI);

export const gzip = callbackForm('gzip');
export const gunzip = callbackForm('gunzip');
export const deflate = callbackForm('deflate');
export const inflate = callbackForm('inflate');
export const deflateRaw = callbackForm('deflateRaw');
export const inflateRaw = callbackForm('inflateRaw');
export const unzip = callbackForm('unzip');
export const brotliDecompress = callbackForm('brotliDecompress');
export const brotliCompress = refusing('zlib.brotliCompress', WHY_BROTLI);

export function crc32(data, value = 0) {
  const bytes = inputBytes(data);
  let crc = ~value >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i];
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

const zlib = {
  constants, Zlib, Gzip, Gunzip, Deflate, Inflate, DeflateRaw, InflateRaw, Unzip, BrotliDecompress, BrotliCompress,
  createGzip, createGunzip, createDeflate, createInflate, createDeflateRaw, createInflateRaw, createUnzip,
  createBrotliDecompress, createBrotliCompress, gzipSync, gunzipSync, deflateSync, inflateSync, deflateRawSync,
  inflateRawSync, unzipSync, brotliDecompressSync, brotliCompressSync, gzip, gunzip, deflate, inflate, deflateRaw,
  inflateRaw, unzip, brotliDecompress, brotliCompress, crc32,
};
// Node also puts the Z_* constants on the module itself.
for (const key of Object.keys(constants)) if (key.startsWith('Z_')) zlib[key] = constants[key];
export default zlib;
