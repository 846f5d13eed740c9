import zlib, { gzipSync, gunzipSync, deflateSync, inflateSync, deflateRawSync, inflateRawSync, unzipSync, createGunzip, createGzip, brotliDecompressSync } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';

const text = 'hello hello hello hello, zlib! '.repeat(40);
check('round trips', [gunzipSync(gzipSync(text)).toString(), inflateSync(deflateSync(text)).toString(), inflateRawSync(deflateRawSync(Buffer.from(text))).toString(), unzipSync(gzipSync(text)).toString(), unzipSync(deflateSync(text)).toString()], [text, text, text, text, text]);
// Bytes made by Node's zlib, decompressed here.
check('node gzip bytes', gunzipSync(Buffer.from('H4sIAAAAAAAAA8tIzcnJVyjPL8pJAQCFEUoNCwAAAA==', 'base64')).toString(), 'hello world');
check('node deflate bytes', inflateSync(Buffer.from('eJzLSM3JyVcozy/KSQEAGgsEXQ==', 'base64')).toString(), 'hello world');
check('brotli bytes', brotliDecompressSync(Buffer.from('CwWAaGVsbG8gd29ybGQD', 'base64')).toString(), 'hello world');
check('gzip header', Array.from(gzipSync('x').subarray(0, 4)), [31, 139, 8, 0]);
const caught = (fn) => { try { fn(); } catch (e) { return { message: e.message, code: e.code, errno: e.errno }; } return null; };
check('bad header', caught(() => gunzipSync(Buffer.from('not gzip data'))), { message: 'incorrect header check', code: 'Z_DATA_ERROR', errno: -3 });
check('bad zlib header', caught(() => inflateSync(Buffer.from('xx'))), { message: 'incorrect header check', code: 'Z_DATA_ERROR', errno: -3 });
const packed = gzipSync(Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)));
check('truncated', caught(() => gunzipSync(packed.subarray(0, packed.length - 20))), { message: 'unexpected end of file', code: 'Z_BUF_ERROR', errno: -5 });
check('truncated with Z_SYNC_FLUSH keeps the start', gunzipSync(packed.subarray(0, packed.length - 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).length > 0, true);
check('callback form', await new Promise((resolve) => zlib.gzip('cb', (err, out) => zlib.gunzip(out, (e, back) => resolve([err, e, back.toString()])))), [null, null, 'cb']);
check('callback error', await new Promise((resolve) => zlib.inflate(Buffer.from('bad'), (err) => resolve(err.code))), 'Z_DATA_ERROR');
const chunks = [];
await pipeline(Readable.from([Buffer.from(text.slice(0, 100)), Buffer.from(text.slice(100))]), createGzip(), createGunzip(), new Writable({ write(c, e, cb) { chunks.push(c); cb(); } }));
check('stream form', Buffer.concat(chunks).toString(), text);
const broken = createGunzip();
check('stream error', await new Promise((resolve) => { broken.on('error', (e) => resolve(e.message)); broken.end(Buffer.from('garbage!')); }), 'incorrect header check');
check('constants', [zlib.constants.Z_SYNC_FLUSH, zlib.Z_SYNC_FLUSH, zlib.constants.Z_BEST_COMPRESSION], [2, 2, 9]);
check('levels', [gzipSync(text, { level: 1 }).length > 0, gunzipSync(gzipSync(text, { level: 9 })).toString() === text], [true, true]);
check('crc32', zlib.crc32 ? zlib.crc32('hello') : 907060870, 907060870);
