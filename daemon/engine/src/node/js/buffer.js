// node:buffer. `Buffer` is bolt's (the class job code sees as the global), wrapped in a
// constructor npm code may call as Node allows (`Buffer(x)`, `new Buffer(x)`); instances,
// prototype and statics are the same, so `Buffer.isBuffer` holds across jobs and adaptors.

import { invalidArgType } from 'bolt:node/internal/errors';

const JobBuffer = globalThis.Buffer;
if (typeof JobBuffer !== 'function' || !(JobBuffer.prototype instanceof Uint8Array)) {
  throw new Error('bolt: node:buffer loaded after the job replaced the global Buffer');
}

export function Buffer(arg, encodingOrOffset, length) {
  if (typeof arg === 'number') {
    if (typeof encodingOrOffset === 'string') {
      throw invalidArgType('string', 'of type string', arg);
    }
    return JobBuffer.alloc(arg);
  }
  return JobBuffer.from(arg, encodingOrOffset, length);
}
Object.setPrototypeOf(Buffer, JobBuffer);
Buffer.prototype = JobBuffer.prototype;

export const kMaxLength = 2 ** 32;
export const kStringMaxLength = 2 ** 29 - 24;
export const constants = Object.freeze({ MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: kStringMaxLength });
export const INSPECT_MAX_BYTES = 50;

export function SlowBuffer(size) { return JobBuffer.allocUnsafeSlow(size); }
SlowBuffer.prototype = JobBuffer.prototype;

export function atob(data) {
  if (arguments.length === 0) throw invalidArgType('data', 'of type string', undefined);
  const text = String(data).replace(/[\t\n\f\r ]/g, '');
  if (text.length % 4 === 1 || /[^A-Za-z0-9+/=]/.test(text) || /=[^=]/.test(text) || /={3,}$/.test(text)) {
    throw new DOMException('Invalid character', 'InvalidCharacterError');
  }
  return JobBuffer.from(text, 'base64').toString('latin1');
}

export function btoa(data) {
  if (arguments.length === 0) throw invalidArgType('data', 'of type string', undefined);
  const text = String(data);
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 255) throw new DOMException('Invalid character', 'InvalidCharacterError');
  }
  return JobBuffer.from(text, 'latin1').toString('base64');
}

export function isUtf8(input) {
  const bytes = ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0 || i + need >= bytes.length + (need ? 0 : 1)) return false;
    for (let k = 1; k <= need; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return false;
    if ((b === 0xe0 && bytes[i + 1] < 0xa0) || (b === 0xed && bytes[i + 1] >= 0xa0) ||
        (b === 0xf0 && bytes[i + 1] < 0x90) || (b === 0xf4 && bytes[i + 1] >= 0x90)) return false;
    i += need + 1;
  }
  return true;
}

export function isAscii(input) {
  const bytes = ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
  return bytes.every((b) => b < 0x80);
}

export function transcode(source, fromEncoding, toEncoding) {
  return JobBuffer.from(JobBuffer.from(source).toString(fromEncoding), toEncoding);
}

// Blob and File live with the web globals; node:buffer re-exports them.
export { Blob, File } from 'bolt:node/internal/blob';
export { resolveObjectURL } from 'bolt:node/internal/url';
import { Blob, File } from 'bolt:node/internal/blob';
import { resolveObjectURL } from 'bolt:node/internal/url';

export default {
  Buffer, SlowBuffer, kMaxLength, kStringMaxLength, constants, INSPECT_MAX_BYTES,
  atob, btoa, isUtf8, isAscii, transcode, Blob, File, resolveObjectURL,
};
