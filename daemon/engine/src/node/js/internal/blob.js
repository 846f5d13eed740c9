// Blob and File (the web's immutable byte containers; node:buffer has them too).

import { invalidArgType, missingArgs } from 'bolt:node/internal/errors';
import { encodeUtf8, decodeUtf8 } from 'bolt:node/internal/encoding';
import { ReadableStream } from 'bolt:node/internal/webstreams';
import { customInspectSymbol, inspect } from '@openfn/language-common/internal/inspect';

const kBytes = Symbol('bytes');
const kType = Symbol('type');

function partBytes(part, endings) {
  if (part instanceof Blob) return part[kBytes];
  if (part instanceof ArrayBuffer) return new Uint8Array(part.slice(0));
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength));
  let text = String(part);
  if (endings === 'native') text = text.replace(/\r\n|\r/g, '\n');
  return encodeUtf8(text);
}

function normalizeType(type) {
  const text = type === undefined ? '' : String(type);
  return /^[\x20-\x7e]*$/.test(text) ? text.toLowerCase() : '';
}

export class Blob {
  constructor(sources = [], options = {}) {
    if (sources === null || typeof sources !== 'object' || typeof sources[Symbol.iterator] !== 'function') {
      throw invalidArgType('sources', 'a sequence', sources);
    }
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw invalidArgType('options', 'of type object', options);
    }
    const endings = (options && options.endings) || 'transparent';
    if (endings !== 'transparent' && endings !== 'native') {
      throw new TypeError(`The provided value '${endings}' is not a valid enum value of type EndingType.`);
    }
    const parts = Array.from(sources, (part) => partBytes(part, endings));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    this[kBytes] = bytes;
    this[kType] = normalizeType(options && options.type);
  }

  get size() { return this[kBytes].length; }
  get type() { return this[kType]; }

  slice(start = 0, end = this.size, contentType = '') {
    const size = this.size;
    const from = start < 0 ? Math.max(size + start, 0) : Math.min(start, size);
    const to = end < 0 ? Math.max(size + end, 0) : Math.min(end, size);
    const blob = new Blob([]);
    blob[kBytes] = this[kBytes].slice(from, Math.max(from, to));
    blob[kType] = normalizeType(contentType);
    return blob;
  }

  arrayBuffer() {
    const bytes = this[kBytes];
    return Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  bytes() { return Promise.resolve(this[kBytes].slice()); }

  text() { return Promise.resolve(decodeUtf8(this[kBytes])); }

  stream() {
    const bytes = this[kBytes];
    let offset = 0;
    const CHUNK = 65536;
    return new ReadableStream({
      pull(controller) {
        if (offset >= bytes.length) {
          controller.close();
          return;
        }
        controller.enqueue(bytes.slice(offset, offset + CHUNK));
        offset += CHUNK;
      },
    });
  }

  get [Symbol.toStringTag]() { return 'Blob'; }

  [customInspectSymbol]() {
    return `Blob { size: ${this.size}, type: ${inspect(this.type)} }`;
  }
}

export class File extends Blob {
  #name;
  #lastModified;
  constructor(fileBits, fileName, options = {}) {
    if (arguments.length < 2) throw missingArgs('fileBits', 'fileName');
    super(fileBits, options);
    this.#name = String(fileName);
    const lastModified = options && options.lastModified;
    this.#lastModified = lastModified === undefined ? Date.now() : Number(lastModified);
  }
  get name() { return this.#name; }
  get lastModified() { return this.#lastModified; }
  get [Symbol.toStringTag]() { return 'File'; }
  [customInspectSymbol]() {
    return `File { size: ${this.size}, type: ${inspect(this.type)}, name: ${inspect(this.name)}, lastModified: ${this.lastModified} }`;
  }
}

/** The bytes of a Blob (for fetch and FormData bodies). */
export function blobBytes(blob) {
  return blob[kBytes];
}
