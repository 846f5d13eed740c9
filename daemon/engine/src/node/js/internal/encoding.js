// TextEncoder and TextDecoder (WHATWG Encoding), decoding through the host's encoding_rs for
// every label Node knows. Streaming decodes keep an incomplete UTF-8/UTF-16 tail.

import { nodeError, invalidArgType } from 'bolt:node/internal/errors';
import { host, toBinary } from 'bolt:node/internal/host';

const LONE_SURROGATE = /[\ud800-\udfff]/;

function utf8Bytes(text) {
  const out = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    } else {
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
  return new Uint8Array(out);
}

/** UTF-8 bytes of `text` (lone surrogates become U+FFFD, as TextEncoder does). */
export function encodeUtf8(text) {
  text = String(text);
  if (text.length > 64 && !LONE_SURROGATE.test(text)) return new Uint8Array(host().utf8(text));
  return utf8Bytes(text);
}

function bytesOf(input) {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer)) {
    return new Uint8Array(input);
  }
  throw invalidArgType('input', 'an instance of ArrayBuffer or ArrayBufferView', input);
}

/** Decodes UTF-8 bytes, replacing invalid sequences with U+FFFD. */
export function decodeUtf8(bytes) {
  return bytes.length === 0 ? '' : host().decode('utf-8', toBinary(bytes), false);
}

export class TextEncoder {
  get encoding() { return 'utf-8'; }
  encode(input = '') { return encodeUtf8(input); }
  encodeInto(source, destination) {
    if (!(destination instanceof Uint8Array)) throw invalidArgType('dest', 'an instance of Uint8Array', destination);
    source = String(source);
    let read = 0;
    let written = 0;
    for (let i = 0; i < source.length; i++) {
      const c = source.charCodeAt(i);
      const pair = c >= 0xd800 && c < 0xdc00 && i + 1 < source.length && (source.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      const bytes = utf8Bytes(pair ? source.slice(i, i + 2) : source[i]);
      if (written + bytes.length > destination.length) break;
      destination.set(bytes, written);
      written += bytes.length;
      read += pair ? 2 : 1;
      if (pair) i++;
    }
    return { read, written };
  }
  get [Symbol.toStringTag]() { return 'TextEncoder'; }
}

// How many bytes at the end of `bytes` start a UTF-8 sequence that isn't complete yet.
function incompleteUtf8Tail(bytes) {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back];
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

export class TextDecoder {
  #encoding;
  #fatal;
  #ignoreBOM;
  #pending = new Uint8Array(0);
  #bomSeen = false;

  constructor(label = 'utf-8', options = {}) {
    const name = host().encodingName(String(label));
    if (name === undefined) {
      throw nodeError(RangeError, 'ERR_ENCODING_NOT_SUPPORTED', `The "${label}" encoding is not supported`);
    }
    this.#encoding = name;
    this.#fatal = Boolean(options && options.fatal);
    this.#ignoreBOM = Boolean(options && options.ignoreBOM);
  }

  get encoding() { return this.#encoding; }
  get fatal() { return this.#fatal; }
  get ignoreBOM() { return this.#ignoreBOM; }

  decode(input, options = {}) {
    let bytes = bytesOf(input);
    const stream = Boolean(options && options.stream);
    if (this.#pending.length) {
      const joined = new Uint8Array(this.#pending.length + bytes.length);
      joined.set(this.#pending);
      joined.set(bytes, this.#pending.length);
      bytes = joined;
      this.#pending = new Uint8Array(0);
    }
    if (stream) {
      let keep = 0;
      if (this.#encoding === 'utf-8') keep = incompleteUtf8Tail(bytes);
      else if (this.#encoding === 'utf-16le' || this.#encoding === 'utf-16be') {
        keep = bytes.length % 2;
        if (bytes.length - keep >= 2) {
          const at = bytes.length - keep - 2;
          const unit = this.#encoding === 'utf-16le' ? bytes[at] | (bytes[at + 1] << 8) : (bytes[at] << 8) | bytes[at + 1];
          if (unit >= 0xd800 && unit < 0xdc00) keep += 2;
        }
      }
      if (keep) {
        this.#pending = bytes.slice(bytes.length - keep);
        bytes = bytes.subarray(0, bytes.length - keep);
      }
    }
    if (!this.#bomSeen && bytes.length > 0) {
      this.#bomSeen = true;
      if (!this.#ignoreBOM) bytes = this.#stripBom(bytes);
    }
    if (!stream) this.#bomSeen = false;
    if (bytes.length === 0) return '';
    // Node decodes the latin1 labels (windows-1252) as ISO-8859-1: 0x80 stays U+0080.
    if (this.#encoding === 'windows-1252') {
      let out = '';
      for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
      return out;
    }
    try {
      return host().decode(this.#encoding, toBinary(bytes), this.#fatal);
    } catch (e) {
      throw nodeError(TypeError, 'ERR_ENCODING_INVALID_ENCODED_DATA', `The encoded data was not valid for encoding ${this.#encoding}`);
    }
  }

  #stripBom(bytes) {
    const e = this.#encoding;
    if (e === 'utf-8' && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3);
    if (e === 'utf-16le' && bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2);
    if (e === 'utf-16be' && bytes[0] === 0xfe && bytes[1] === 0xff) return bytes.subarray(2);
    return bytes;
  }

  get [Symbol.toStringTag]() { return 'TextDecoder'; }
}
