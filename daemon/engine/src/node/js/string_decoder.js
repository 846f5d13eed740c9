// node:string_decoder: decodes byte chunks to strings without splitting characters.

import { Buffer } from 'node:buffer';
import { nodeError, invalidArgType } from 'bolt:node/internal/errors';

function normalize(encoding) {
  const e = String(encoding === undefined || encoding === null ? 'utf8' : encoding).toLowerCase();
  switch (e) {
    case 'utf8': case 'utf-8': case '': return 'utf8';
    case 'ucs2': case 'ucs-2': case 'utf16le': case 'utf-16le': return 'utf16le';
    case 'latin1': case 'binary': return 'latin1';
    case 'base64': case 'base64url': case 'hex': case 'ascii': return e;
    default: return undefined;
  }
}

function toBuffer(chunk) {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw invalidArgType('buf', 'an instance of Buffer, TypedArray, or DataView', chunk);
}

// How many bytes at the end of a UTF-8 chunk belong to a character that isn't complete yet.
function utf8Incomplete(buf) {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back];
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

export function StringDecoder(encoding) {
  const normal = normalize(encoding);
  if (normal === undefined) throw nodeError(TypeError, 'ERR_UNKNOWN_ENCODING', `Unknown encoding: ${encoding}`);
  this.encoding = normal;
  this.lastNeed = 0;
  this.lastTotal = 0;
  this.lastChar = Buffer.alloc(4);
  this._pending = Buffer.alloc(0);
}

StringDecoder.prototype.write = function write(chunk) {
  const buf = toBuffer(chunk);
  if (typeof buf === 'string') return buf;
  if (buf.length === 0) return '';
  let bytes = this._pending.length ? Buffer.concat([this._pending, buf]) : buf;
  let keep = 0;
  switch (this.encoding) {
    case 'utf8': keep = utf8Incomplete(bytes); break;
    case 'utf16le': {
      keep = bytes.length % 2;
      if (bytes.length - keep >= 2) {
        const unit = bytes[bytes.length - keep - 2] | (bytes[bytes.length - keep - 1] << 8);
        if (unit >= 0xd800 && unit < 0xdc00) keep += 2;
      }
      break;
    }
    case 'base64': case 'base64url': keep = bytes.length % 3; break;
    default: keep = 0;
  }
  this._pending = keep ? Buffer.from(bytes.subarray(bytes.length - keep)) : Buffer.alloc(0);
  this.lastNeed = keep ? (this.encoding === 'utf8' ? needed(this._pending) - keep : this.encoding === 'utf16le' ? 2 - (keep % 2 || 2) : 3 - keep) : 0;
  this.lastTotal = keep + this.lastNeed;
  bytes = bytes.subarray(0, bytes.length - keep);
  return bytes.toString(this.encoding);
};

function needed(pending) {
  const b = pending[0];
  return b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
}

StringDecoder.prototype.end = function end(chunk) {
  let out = chunk !== undefined ? this.write(chunk) : '';
  if (this._pending.length) {
    out += this.encoding === 'utf8' ? '\ufffd' : this._pending.toString(this.encoding);
    this._pending = Buffer.alloc(0);
  }
  this.lastNeed = 0;
  this.lastTotal = 0;
  return out;
};

StringDecoder.prototype.text = function text(buf, offset) {
  return this.write(buf.subarray(offset));
};

export default { StringDecoder };
