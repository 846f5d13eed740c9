// Node's `Buffer`: from/alloc/concat/compare/byteLength, encodings utf8/utf16le/latin1/
// binary/ascii/base64/base64url/hex, views (slice/subarray share memory), read/write of
// integers and floats, fill/indexOf/includes/copy/write/swap, toJSON. Calling the
// constructor directly throws, like OpenFn's SafeBuffer; node:buffer wraps the class in a
// callable constructor for npm code, which may call `Buffer(x)` as Node allows.
//
// The prelude loads this module the first time a job reads `Buffer` (most never do), so the
// default export is a factory: the prelude passes the built-ins the class is defined with as
// they were when the sandbox was set up, before any job code ran. No imports: it is
// evaluated from a host function.
export default ({ Uint8Array: Base, Map: MapClass, species }) => {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const B64_INDEX = new MapClass([...B64].map((c, i) => [c, i]));
  B64_INDEX.set('-', 62);
  B64_INDEX.set('_', 63);
  const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

  // ---- Node-style errors (no imports here, so a small copy of node's error shape) --------
  const codedClasses = new MapClass();
  function nodeError(Kind, code, message) {
    const key = `${Kind.name}:${code}`;
    let Coded = codedClasses.get(key);
    if (!Coded) {
      Coded = class NodeError extends Kind {
        toString() { return `${this.name} [${code}]: ${this.message}`; }
      };
      Object.defineProperty(Coded.prototype, 'name', { value: Kind.name, writable: true, configurable: true });
      codedClasses.set(key, Coded);
    }
    const error = new Coded(message);
    Object.defineProperty(error, 'code', { value: code, writable: true, enumerable: true, configurable: true });
    return error;
  }
  function describeReceived(value) {
    if (value === null || value === undefined) return ` Received ${value}`;
    if (typeof value === 'function') return ` Received function ${value.name}`;
    if (typeof value === 'object') {
      const name = value.constructor && value.constructor.name;
      return name ? ` Received an instance of ${name}` : ' Received [Object: null prototype]';
    }
    let shown = typeof value === 'string' ? `'${value}'` : String(value);
    if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
    if (typeof value === 'bigint') shown += 'n';
    return ` Received type ${typeof value} (${shown})`;
  }
  const outOfRange = (name, range, received) => nodeError(RangeError, 'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${received}`);
  const outOfBounds = (name) => nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS',
    name ? `"${name}" is outside of buffer bounds` : 'Attempt to access memory outside buffer bounds');
  const invalidType = (name, expected, value) => nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}.${describeReceived(value)}`);
  const unknownEncoding = (encoding) => nodeError(TypeError, 'ERR_UNKNOWN_ENCODING', `Unknown encoding: ${encoding}`);

  // ---- encodings -------------------------------------------------------------------------
  function normalizeEncoding(encoding) {
    if (encoding === undefined || encoding === null || encoding === '') return 'utf8';
    switch (String(encoding).toLowerCase()) {
      case 'utf8': case 'utf-8': return 'utf8';
      case 'ucs2': case 'ucs-2': case 'utf16le': case 'utf-16le': return 'utf16le';
      case 'latin1': case 'binary': return 'latin1';
      case 'base64': return 'base64';
      case 'base64url': return 'base64url';
      case 'hex': return 'hex';
      case 'ascii': return 'ascii';
      default: return undefined;
    }
  }
  function encodingOrThrow(encoding) {
    const normal = normalizeEncoding(encoding);
    if (normal === undefined) throw unknownEncoding(encoding);
    return normal;
  }

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
    let pending = [];
    const flush = () => { out += String.fromCharCode.apply(null, pending); pending = []; };
    for (let i = 0; i < bytes.length;) {
      const b = bytes[i];
      let cp = 0xfffd;
      let len = 1;
      if (b < 0x80) { cp = b; }
      else if (b >= 0xc2 && b < 0xe0 && (bytes[i + 1] & 0xc0) === 0x80) {
        cp = ((b & 31) << 6) | (bytes[i + 1] & 63); len = 2;
      } else if (b >= 0xe0 && b < 0xf0 && (bytes[i + 1] & 0xc0) === 0x80) {
        const second = bytes[i + 1];
        const valid = (b !== 0xe0 || second >= 0xa0) && (b !== 0xed || second < 0xa0);
        if (valid && (bytes[i + 2] & 0xc0) === 0x80) {
          cp = ((b & 15) << 12) | ((second & 63) << 6) | (bytes[i + 2] & 63); len = 3;
        } else if (valid) { len = 2; }
      } else if (b >= 0xf0 && b < 0xf5 && (bytes[i + 1] & 0xc0) === 0x80) {
        const second = bytes[i + 1];
        const valid = (b !== 0xf0 || second >= 0x90) && (b !== 0xf4 || second < 0x90);
        if (valid && (bytes[i + 2] & 0xc0) === 0x80 && (bytes[i + 3] & 0xc0) === 0x80) {
          cp = ((b & 7) << 18) | ((second & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63);
          len = 4;
        } else if (valid) {
          len = (bytes[i + 2] & 0xc0) === 0x80 ? 3 : 2;
        }
      }
      if (cp > 0xffff) {
        cp -= 0x10000;
        pending.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      } else {
        pending.push(cp);
      }
      if (pending.length > 8192) flush();
      i += len;
    }
    flush();
    return out;
  }

  function base64Decode(text) {
    const out = [];
    let bits = 0;
    let value = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '=') break;
      const v = B64_INDEX.get(c);
      if (v === undefined) continue;
      value = ((value << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push((value >> bits) & 255);
      }
    }
    return out;
  }

  function base64Encode(bytes, url) {
    const parts = [];
    let out = '';
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : (url ? '' : '=');
      out += i + 2 < bytes.length ? B64[n & 63] : (url ? '' : '=');
      if (out.length > 8192) { parts.push(out); out = ''; }
    }
    parts.push(out);
    const joined = parts.join('');
    return url ? joined.replace(/\+/g, '-').replace(/\//g, '_') : joined;
  }

  function base64ByteLength(text) {
    let length = text.length;
    while (length > 0 && text.charCodeAt(length - 1) === 0x3d) length--;
    return (length * 3) >>> 2;
  }

  function hexDecode(text) {
    const out = [];
    for (let i = 0; i + 1 < text.length; i += 2) {
      const v = parseInt(text.slice(i, i + 2), 16);
      if (Number.isNaN(v) || !/^[0-9a-fA-F]{2}$/.test(text.slice(i, i + 2))) break;
      out.push(v);
    }
    return out;
  }

  function encodeString(text, encoding) {
    switch (encoding) {
      case 'base64': case 'base64url': return base64Decode(text);
      case 'hex': return hexDecode(text);
      case 'latin1': case 'ascii':
        return Array.from({ length: text.length }, (_, i) => text.charCodeAt(i) & 255);
      case 'utf16le': {
        const out = [];
        for (let i = 0; i < text.length; i++) {
          const c = text.charCodeAt(i);
          out.push(c & 255, c >> 8);
        }
        return out;
      }
      default: return utf8Encode(text);
    }
  }

  function decodeBytes(bytes, encoding) {
    switch (encoding) {
      case 'base64': return base64Encode(bytes, false);
      case 'base64url': return base64Encode(bytes, true);
      case 'hex': {
        let out = '';
        for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
        return out;
      }
      case 'latin1': return charCodes(bytes, 255);
      case 'ascii': return charCodes(bytes, 127);
      case 'utf16le': {
        const units = [];
        for (let i = 0; i + 1 < bytes.length; i += 2) units.push(bytes[i] | (bytes[i + 1] << 8));
        return charCodes(units, 0xffff);
      }
      default: return utf8Decode(bytes);
    }
  }

  function charCodes(codes, mask) {
    let out = '';
    for (let i = 0; i < codes.length; i += 8192) {
      const chunk = Array.prototype.slice.call(codes, i, i + 8192);
      out += String.fromCharCode.apply(null, mask === 0xffff ? chunk : chunk.map((b) => b & mask));
    }
    return out;
  }

  function byteLengthOf(text, encoding) {
    switch (encoding) {
      case 'base64': case 'base64url': return base64ByteLength(text);
      case 'hex': return text.length >>> 1;
      case 'latin1': case 'ascii': return text.length;
      case 'utf16le': return text.length * 2;
      default: {
        let n = 0;
        for (let i = 0; i < text.length; i++) {
          const c = text.charCodeAt(i);
          if (c < 0x80) n += 1;
          else if (c < 0x800) n += 2;
          else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
          else n += 3;
        }
        return n;
      }
    }
  }

  // ---- the class -------------------------------------------------------------------------
  const proto = Base.prototype;
  const u8Subarray = proto.subarray;
  const u8Slice = proto.slice;
  const u8Fill = proto.fill;
  const u8Set = proto.set;
  const u8IndexOf = proto.indexOf;
  const u8LastIndexOf = proto.lastIndexOf;

  let constructing = false;
  class Buffer extends Base {
    constructor(...args) {
      if (!constructing) {
        throw new Error('Do not call Buffer() constructor directly, use Buffer.from() or Buffer.alloc()');
      }
      super(...args);
    }
    // map/filter/slice of Uint8Array build their result through the species: Buffers, as in
    // Node, though the class itself can't be called.
    static get [species]() { return BufferSpecies; }

    static from(value, encodingOrOffset, length) { return fromValue(value, encodingOrOffset, length); }
    static of(...items) { return make(items); }
    static alloc(size, fill, encoding) {
      checkSize(size);
      const buf = make(size);
      if (fill !== undefined && fill !== 0 && size > 0) buf.fill(fill, 0, buf.length, encoding);
      return buf;
    }
    static allocUnsafe(size) { checkSize(size); return make(size); }
    static allocUnsafeSlow(size) { checkSize(size); return make(size); }
    static isBuffer(value) { return value instanceof Buffer; }
    static isEncoding(encoding) { return typeof encoding === 'string' && encoding !== '' && normalizeEncoding(encoding) !== undefined; }
    static byteLength(value, encoding) {
      if (typeof value !== 'string') {
        if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
        throw invalidType('string', 'of type string or an instance of Buffer or ArrayBuffer', value);
      }
      return byteLengthOf(value, normalizeEncoding(encoding) || 'utf8');
    }
    static compare(a, b) {
      if (!(a instanceof Base)) throw invalidType('buf1', 'an instance of Buffer or Uint8Array', a);
      if (!(b instanceof Base)) throw invalidType('buf2', 'an instance of Buffer or Uint8Array', b);
      return compareBytes(a, 0, a.length, b, 0, b.length);
    }
    static concat(list, total) {
      if (!Array.isArray(list)) throw invalidType('list', 'an instance of Array', list);
      list.forEach((b, i) => {
        if (!(b instanceof Base)) throw invalidType(`list[${i}]`, 'an instance of Buffer or Uint8Array', b);
      });
      const length = total ?? list.reduce((n, b) => n + b.length, 0);
      const out = make(length);
      let at = 0;
      for (const b of list) {
        if (at >= length) break;
        u8Set.call(out, u8Subarray.call(b, 0, length - at), at);
        at += b.length;
      }
      return out;
    }

    toString(encoding, start = 0, end = this.length) {
      if (arguments.length === 0) return utf8Decode(this);
      const enc = encodingOrThrow(encoding);
      start = Math.max(0, Math.trunc(Number(start)) || 0);
      end = end === undefined ? this.length : Math.min(this.length, Math.trunc(Number(end)) || 0);
      if (end <= start) return '';
      return decodeBytes(u8Subarray.call(this, start, end), enc);
    }
    toLocaleString(encoding, start, end) { return this.toString(encoding, start, end); }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    equals(other) {
      if (!(other instanceof Base)) throw invalidType('otherBuffer', 'an instance of Buffer or Uint8Array', other);
      return this.length === other.length && compareBytes(this, 0, this.length, other, 0, other.length) === 0;
    }
    compare(target, targetStart = 0, targetEnd = target.length, sourceStart = 0, sourceEnd = this.length) {
      if (!(target instanceof Base)) throw invalidType('target', 'an instance of Buffer or Uint8Array', target);
      return compareBytes(this, sourceStart, sourceEnd, target, targetStart, targetEnd);
    }
    copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
      targetStart = Math.max(0, Math.trunc(targetStart) || 0);
      sourceStart = Math.max(0, Math.trunc(sourceStart) || 0);
      sourceEnd = Math.min(this.length, Math.trunc(sourceEnd) || 0);
      if (sourceStart >= sourceEnd || targetStart >= target.length) return 0;
      const count = Math.min(sourceEnd - sourceStart, target.length - targetStart);
      u8Set.call(target, u8Subarray.call(this, sourceStart, sourceStart + count), targetStart);
      return count;
    }
    slice(start, end) { return this.subarray(start, end); }
    subarray(start, end) {
      const view = u8Subarray.call(this, start, end);
      return make(view.buffer, view.byteOffset, view.length);
    }
    write(string, offset, length, encoding) {
      if (typeof string !== 'string') throw invalidType('argument', 'of type string', string);
      if (typeof offset === 'string') { encoding = offset; offset = 0; length = this.length; }
      else if (typeof length === 'string') { encoding = length; length = this.length - (offset || 0); }
      offset = offset === undefined ? 0 : offset >>> 0;
      if (offset > this.length) throw outOfRange('offset', `>= 0 && <= ${this.length}`, offset);
      const room = this.length - offset;
      length = length === undefined ? room : Math.min(room, length >>> 0);
      const enc = encodingOrThrow(encoding);
      let bytes = encodeString(string, enc);
      if (bytes.length > length) {
        bytes = bytes.slice(0, length);
        if (enc === 'utf8') {
          // Node writes whole characters only.
          let end = bytes.length;
          let i = end - 1;
          while (i >= 0 && (bytes[i] & 0xc0) === 0x80) i--;
          if (i >= 0) {
            const lead = bytes[i];
            const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
            if (end - i < need) end = i;
          }
          bytes = bytes.slice(0, end);
        } else if (enc === 'utf16le' && bytes.length % 2) {
          bytes = bytes.slice(0, bytes.length - 1);
        }
      }
      u8Set.call(this, bytes, offset);
      return bytes.length;
    }
    fill(value, offset = 0, end = this.length, encoding) {
      if (typeof offset === 'string') { encoding = offset; offset = 0; end = this.length; }
      else if (typeof end === 'string') { encoding = end; end = this.length; }
      if (offset < 0 || offset > this.length) throw outOfRange('offset', `>= 0 && <= ${this.length}`, offset);
      if (end < 0 || end > this.length) throw outOfRange('end', `>= 0 && <= ${this.length}`, end);
      if (end <= offset) return this;
      if (typeof value === 'number') return u8Fill.call(this, value & 255, offset, end);
      if (typeof value === 'boolean') return u8Fill.call(this, Number(value), offset, end);
      const bytes = typeof value === 'string' ? encodeString(value, encodingOrThrow(encoding)) : Array.from(value);
      if (bytes.length === 0) {
        if (typeof value === 'string' && value.length > 0) {
          throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'value' is invalid. Received '${value}'`);
        }
        return u8Fill.call(this, 0, offset, end);
      }
      for (let i = offset, j = 0; i < end; i++, j = (j + 1) % bytes.length) this[i] = bytes[j];
      return this;
    }
    indexOf(value, byteOffset, encoding) { return search(this, value, byteOffset, encoding, true); }
    lastIndexOf(value, byteOffset, encoding) { return search(this, value, byteOffset, encoding, false); }
    includes(value, byteOffset, encoding) { return this.indexOf(value, byteOffset, encoding) !== -1; }
    swap16() { return swap(this, 2); }
    swap32() { return swap(this, 4); }
    swap64() { return swap(this, 8); }
    get parent() { return this.buffer; }
    get offset() { return this.byteOffset; }
  }

  function fromString(text, encoding) {
    const enc = typeof encoding === 'string' ? encodingOrThrow(encoding) : 'utf8';
    return make(encodeString(text, enc));
  }

  function checkSize(size) {
    if (typeof size !== 'number') throw invalidType('size', 'of type number', size);
    if (!(size >= 0 && size <= 0x100000000)) throw outOfRange('size', '>= 0 && <= 4294967296', size);
  }

  function compareBytes(a, aStart, aEnd, b, bStart, bEnd) {
    const n = Math.min(aEnd - aStart, bEnd - bStart);
    for (let i = 0; i < n; i++) {
      const x = a[aStart + i];
      const y = b[bStart + i];
      if (x !== y) return x < y ? -1 : 1;
    }
    const la = aEnd - aStart;
    const lb = bEnd - bStart;
    return la === lb ? 0 : la < lb ? -1 : 1;
  }

  function search(buf, value, byteOffset, encoding, forward) {
    if (typeof byteOffset === 'string') { encoding = byteOffset; byteOffset = undefined; }
    let from = byteOffset === undefined ? (forward ? 0 : buf.length) : Number(byteOffset);
    if (Number.isNaN(from)) from = forward ? 0 : buf.length;
    if (from < 0) from = buf.length + from;
    if (typeof value === 'number') {
      return forward ? u8IndexOf.call(buf, value & 255, Math.max(0, from)) : u8LastIndexOf.call(buf, value & 255, from);
    }
    const needle = typeof value === 'string' ? encodeString(value, encodingOrThrow(encoding)) : value;
    if (!(typeof value === 'string' || value instanceof Base)) {
      throw invalidType('value', 'one of type number or string or an instance of Buffer or Uint8Array', value);
    }
    const n = needle.length;
    if (n === 0) return forward ? Math.min(Math.max(0, from), buf.length) : Math.min(from, buf.length);
    if (forward) {
      for (let i = Math.max(0, from); i + n <= buf.length; i++) {
        let j = 0;
        while (j < n && buf[i + j] === needle[j]) j++;
        if (j === n) return i;
      }
    } else {
      for (let i = Math.min(from, buf.length - n); i >= 0; i--) {
        let j = 0;
        while (j < n && buf[i + j] === needle[j]) j++;
        if (j === n) return i;
      }
    }
    return -1;
  }

  function swap(buf, size) {
    if (buf.length % size !== 0) {
      throw nodeError(RangeError, 'ERR_INVALID_BUFFER_SIZE', `Buffer size must be a multiple of ${size * 8}-bits`);
    }
    for (let i = 0; i < buf.length; i += size) {
      for (let a = i, b = i + size - 1; a < b; a++, b--) {
        const t = buf[a]; buf[a] = buf[b]; buf[b] = t;
      }
    }
    return buf;
  }

  // ---- numbers ---------------------------------------------------------------------------
  function checkOffset(buf, offset, size) {
    if (offset === undefined) offset = 0;
    if (typeof offset !== 'number') throw invalidType('offset', 'of type number', offset);
    if (!Number.isInteger(offset)) throw outOfRange('offset', 'an integer', offset);
    const last = buf.length - size;
    if (offset < 0 || offset > last) {
      if (last < 0) throw outOfBounds();
      throw outOfRange('offset', `>= 0 and <= ${last}`, offset);
    }
    return offset;
  }
  const view = (buf) => new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const numberKinds = [
    ['UInt8', 1, 'getUint8', 'setUint8', 0, 255],
    ['Int8', 1, 'getInt8', 'setInt8', -128, 127],
    ['UInt16', 2, 'getUint16', 'setUint16', 0, 65535],
    ['Int16', 2, 'getInt16', 'setInt16', -32768, 32767],
    ['UInt32', 4, 'getUint32', 'setUint32', 0, 4294967295],
    ['Int32', 4, 'getInt32', 'setInt32', -2147483648, 2147483647],
    ['Float', 4, 'getFloat32', 'setFloat32'],
    ['Double', 8, 'getFloat64', 'setFloat64'],
    ['BigUInt64', 8, 'getBigUint64', 'setBigUint64'],
    ['BigInt64', 8, 'getBigInt64', 'setBigInt64'],
  ];
  const methods = {};
  for (const [name, size, get, set, min, max] of numberKinds) {
    const endians = size === 1 ? [''] : ['LE', 'BE'];
    for (const endian of endians) {
      const little = endian === 'LE';
      methods[`read${name}${endian}`] = function (offset) {
        offset = checkOffset(this, offset, size);
        return view(this)[get](offset, little);
      };
      methods[`write${name}${endian}`] = function (value, offset) {
        offset = checkOffset(this, offset, size);
        if (min !== undefined && (value < min || value > max)) {
          throw outOfRange('value', `>= ${min} and <= ${max}`, value);
        }
        if (name.startsWith('Big') && typeof value !== 'bigint') throw invalidType('value', 'of type bigint', value);
        view(this)[set](offset, name.startsWith('Big') ? value : Number(value), little);
        return offset + size;
      };
    }
  }
  function checkByteLength(byteLength) {
    if (!Number.isInteger(byteLength) || byteLength < 1 || byteLength > 6) {
      throw outOfRange('byteLength', '>= 1 and <= 6', byteLength);
    }
  }
  methods.readUIntLE = function (offset, byteLength) {
    checkByteLength(byteLength);
    offset = checkOffset(this, offset, byteLength);
    let value = 0;
    for (let i = byteLength - 1; i >= 0; i--) value = value * 256 + this[offset + i];
    return value;
  };
  methods.readUIntBE = function (offset, byteLength) {
    checkByteLength(byteLength);
    offset = checkOffset(this, offset, byteLength);
    let value = 0;
    for (let i = 0; i < byteLength; i++) value = value * 256 + this[offset + i];
    return value;
  };
  const signed = (value, byteLength) => {
    const limit = 2 ** (8 * byteLength - 1);
    return value >= limit ? value - 2 * limit : value;
  };
  methods.readIntLE = function (offset, byteLength) { return signed(methods.readUIntLE.call(this, offset, byteLength), byteLength); };
  methods.readIntBE = function (offset, byteLength) { return signed(methods.readUIntBE.call(this, offset, byteLength), byteLength); };
  const writeVariable = (little, isSigned) => function (value, offset, byteLength) {
    checkByteLength(byteLength);
    offset = checkOffset(this, offset, byteLength);
    const limit = 2 ** (8 * byteLength);
    const [min, max] = isSigned ? [-limit / 2, limit / 2 - 1] : [0, limit - 1];
    if (value < min || value > max) throw outOfRange('value', `>= ${min} and <= ${max}`, value);
    let v = value < 0 ? value + limit : value;
    for (let i = 0; i < byteLength; i++) {
      this[offset + (little ? i : byteLength - 1 - i)] = v % 256;
      v = Math.floor(v / 256);
    }
    return offset + byteLength;
  };
  methods.writeUIntLE = writeVariable(true, false);
  methods.writeUIntBE = writeVariable(false, false);
  methods.writeIntLE = writeVariable(true, true);
  methods.writeIntBE = writeVariable(false, true);
  for (const [key, fn] of Object.entries(methods)) {
    Object.defineProperty(Buffer.prototype, key, { value: fn, writable: true, configurable: true });
    // Node also spells them readUint8, writeUint32LE…
    if (key.includes('UInt')) {
      Object.defineProperty(Buffer.prototype, key.replace('UInt', 'Uint'), { value: fn, writable: true, configurable: true });
    }
  }

  // ---- Buffer.from -----------------------------------------------------------------------
  function fromValue(value, encodingOrOffset, length) {
    if (typeof value === 'string') return fromString(value, encodingOrOffset);
    if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) {
      const offset = encodingOrOffset === undefined ? 0 : Number(encodingOrOffset) || 0;
      if (offset > value.byteLength) throw outOfBounds('offset');
      const size = length === undefined ? value.byteLength - offset : Number(length) || 0;
      if (offset + size > value.byteLength) throw outOfBounds('length');
      return make(value, offset, size);
    }
    if (ArrayBuffer.isView(value)) {
      if (value instanceof Base) return make(u8Slice.call(value));
      return make(new Base(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength)));
    }
    if (value != null && typeof value === 'object') {
      if (value.type === 'Buffer' && Array.isArray(value.data)) return make(value.data);
      if (typeof value.length === 'number') return make(Array.from(value));
      const primitive = typeof value[Symbol.toPrimitive] === 'function'
        ? value[Symbol.toPrimitive]('string')
        : typeof value.valueOf === 'function' ? value.valueOf() : value;
      if (primitive !== value && primitive != null && (typeof primitive === 'string' || typeof primitive === 'object')) {
        return fromValue(primitive, encodingOrOffset, length);
      }
    }
    const error = invalidType('first', 'of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object', value);
    error.message = error.message.replace('The "first" argument', 'The first argument');
    throw error;
  }
  Object.defineProperty(Buffer, 'poolSize', { value: 8192, writable: true, enumerable: true, configurable: true });

  function BufferSpecies(...args) { return make(...args); }

  function make(...args) {
    constructing = true;
    try { return new Buffer(...args); } finally { constructing = false; }
  }

  return Buffer;
};
