// The Node host functions (Rust, see engine/node/host), fetched once per context, and the
// byte conversions their calls need (bytes go in as binary strings, come out as ArrayBuffers).

let cached;

/** `__bolt_host.node()`: url, hash, hmac, randomBytes, zlib, decode, http… */
export function host() {
  if (cached === undefined) {
    const bolt = globalThis.__bolt_host;
    if (!bolt || typeof bolt.node !== 'function') throw new Error('bolt: the Node host functions are missing');
    cached = bolt.node();
  }
  return cached;
}

/** A byte view (Uint8Array, Buffer, any ArrayBufferView or ArrayBuffer) as a binary string. */
export function toBinary(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes
    : ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : new Uint8Array(bytes);
  let out = '';
  for (let i = 0; i < u8.length; i += 8192) {
    out += String.fromCharCode.apply(null, u8.subarray(i, i + 8192));
  }
  return out;
}

/** A line printed as adaptor output (`level`: log, info, warn, error, debug). */
export function print(level, line) {
  const bolt = globalThis.__bolt_host;
  if (bolt && typeof bolt.print === 'function') bolt.print(level, line);
}
