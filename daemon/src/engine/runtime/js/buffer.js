// A small Node-compatible `Buffer` (the subset OpenFn jobs use): Buffer.from/alloc/concat/
// isBuffer/byteLength, toString with utf8/base64/base64url/hex/latin1/ascii, toJSON.
// Calling the constructor directly throws, like OpenFn's SafeBuffer.
//
// The prelude loads this module the first time a job reads `Buffer` (most never do), so the
// default export is a factory: the prelude passes the built-ins the class is defined with as
// they were when the sandbox was set up, before any job code ran.
export default ({ Uint8Array: Base, Map: MapClass, species }) => {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const B64_INDEX = new MapClass([...B64].map((c, i) => [c, i]));
  B64_INDEX.set('-', 62);
  B64_INDEX.set('_', 63);

  function utf8Encode(text) {
    const out = [];
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) {
        out.push(c);
      } else if (c < 0x800) {
        out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length &&
                 (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
        out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
      } else {
        if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
        out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
    }
    return out;
  }

  function utf8Decode(bytes) {
    let out = '';
    for (let i = 0; i < bytes.length;) {
      const b = bytes[i];
      let cp = 0xfffd;
      let len = 1;
      if (b < 0x80) { cp = b; }
      else if (b >= 0xc2 && b < 0xe0 && (bytes[i + 1] & 0xc0) === 0x80) {
        cp = ((b & 31) << 6) | (bytes[i + 1] & 63); len = 2;
      } else if (b >= 0xe0 && b < 0xf0 && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80) {
        cp = ((b & 15) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63); len = 3;
        if (cp < 0x800) cp = 0xfffd;
      } else if (b >= 0xf0 && b < 0xf5 && (bytes[i + 1] & 0xc0) === 0x80 &&
                 (bytes[i + 2] & 0xc0) === 0x80 && (bytes[i + 3] & 0xc0) === 0x80) {
        cp = ((b & 7) << 18) | ((bytes[i + 1] & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63);
        len = 4;
        if (cp < 0x10000 || cp > 0x10ffff) cp = 0xfffd;
      }
      out += String.fromCodePoint(cp);
      i += len;
    }
    return out;
  }

  function base64Decode(text) {
    const out = [];
    let bits = 0;
    let value = 0;
    for (const c of text) {
      const v = B64_INDEX.get(c);
      if (v === undefined) continue;
      value = (value << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push((value >> bits) & 255);
      }
    }
    return out;
  }

  function base64Encode(bytes, url) {
    let out = '';
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : (url ? '' : '=');
      out += i + 2 < bytes.length ? B64[n & 63] : (url ? '' : '=');
    }
    return url ? out.replace(/\+/g, '-').replace(/\//g, '_') : out;
  }

  function encodeString(text, encoding) {
    switch (String(encoding || 'utf8').toLowerCase()) {
      case 'base64': case 'base64url': return base64Decode(text);
      case 'hex': {
        const out = [];
        for (let i = 0; i + 1 < text.length; i += 2) {
          const v = parseInt(text.slice(i, i + 2), 16);
          if (Number.isNaN(v)) break;
          out.push(v);
        }
        return out;
      }
      case 'latin1': case 'binary': case 'ascii':
        return Array.from(text, (c) => c.charCodeAt(0) & 255);
      default: return utf8Encode(text);
    }
  }

  let constructing = false;
  class Buffer extends Base {
    constructor(...args) {
      if (!constructing) {
        throw new Error('Do not call Buffer() constructor directly, use Buffer.from() or Buffer.alloc()');
      }
      super(...args);
    }
    static get [species]() { return Uint8Array; }
    static from(value, encodingOrOffset, length) {
      if (typeof value === 'string') return make(encodeString(value, encodingOrOffset));
      if (value instanceof ArrayBuffer) return make(value, encodingOrOffset ?? 0, length ?? value.byteLength - (encodingOrOffset ?? 0));
      if (value && value.type === 'Buffer' && Array.isArray(value.data)) return make(value.data);
      if (value != null && typeof value.length === 'number') return make(Array.from(value));
      throw new TypeError('The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object.');
    }
    static alloc(size, fill) {
      const buf = make(size);
      if (fill !== undefined) buf.fill(typeof fill === 'number' ? fill : encodeString(String(fill))[0] ?? 0);
      return buf;
    }
    static isBuffer(value) { return value instanceof Buffer; }
    static byteLength(value, encoding) {
      return typeof value === 'string' ? encodeString(value, encoding).length : value.byteLength;
    }
    static concat(list, total) {
      const length = total ?? list.reduce((n, b) => n + b.length, 0);
      const out = make(length);
      let at = 0;
      for (const b of list) {
        if (at >= length) break;
        out.set(b.subarray(0, length - at), at);
        at += b.length;
      }
      return out;
    }
    toString(encoding, start = 0, end = this.length) {
      const bytes = Uint8Array.prototype.subarray.call(this, start, end);
      switch (String(encoding || 'utf8').toLowerCase()) {
        case 'base64': return base64Encode(bytes, false);
        case 'base64url': return base64Encode(bytes, true);
        case 'hex': return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
        case 'latin1': case 'binary': return String.fromCharCode(...bytes);
        case 'ascii': return String.fromCharCode(...Array.from(bytes, (b) => b & 127));
        default: return utf8Decode(bytes);
      }
    }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    slice(start, end) { return make(Uint8Array.prototype.slice.call(this, start, end)); }
    subarray(start, end) {
      const view = Uint8Array.prototype.subarray.call(this, start, end);
      return make(view.buffer, view.byteOffset, view.length);
    }
    equals(other) { return this.length === other.length && this.every((b, i) => b === other[i]); }
    write() { throw new TypeError('Buffer.write is not supported'); }
  }

  function make(...args) {
    constructing = true;
    try { return new Buffer(...args); } finally { constructing = false; }
  }

  return Buffer;
};
