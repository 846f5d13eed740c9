// The web globals npm code gets (bolt:node/globals), without the network.

const enc = new TextEncoder();
check('TextEncoder', [Array.from(enc.encode('é€😀')), enc.encoding, enc.encodeInto('héllo', new Uint8Array(3))], [[195, 169, 226, 130, 172, 240, 159, 152, 128], 'utf-8', { read: 2, written: 3 }]);
check('TextEncoder lone surrogate', Array.from(enc.encode('a\ud800')), [97, 239, 191, 189]);
const dec = new TextDecoder();
const bytes = enc.encode('€');
check('TextDecoder streaming', [dec.decode(bytes.subarray(0, 1), { stream: true }), dec.decode(bytes.subarray(1), { stream: true }), dec.decode()], ['', '€', '']);
check('TextDecoder BOM and labels', [new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), new TextDecoder('utf-8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), new TextDecoder('latin1').encoding, new TextDecoder('latin1').decode(new Uint8Array([0xe9, 0x80])), new TextDecoder('utf-16le').decode(new Uint8Array([0x68, 0, 0x69, 0]))], ['a', '\ufeffa', 'windows-1252', 'é\u0080', 'hi']);
checkThrows('fatal decoder', () => new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xff])), { name: 'TypeError', code: 'ERR_ENCODING_INVALID_ENCODED_DATA', message: 'The encoded data was not valid for encoding utf-8' });
checkThrows('unknown label', () => new TextDecoder('nope'), { name: 'RangeError', code: 'ERR_ENCODING_NOT_SUPPORTED', message: 'The "nope" encoding is not supported' });

// Events and abort.
const target = new EventTarget();
const heard = [];
target.addEventListener('ping', (e) => heard.push([e.type, e.target === target]), { once: true });
target.dispatchEvent(new Event('ping'));
target.dispatchEvent(new Event('ping'));
check('EventTarget once', heard, [['ping', true]]);
const ac = new AbortController();
const reasons = [];
ac.signal.addEventListener('abort', (e) => reasons.push(e.type));
ac.signal.onabort = () => reasons.push('onabort');
ac.abort();
ac.abort();
check('AbortController', [ac.signal.aborted, reasons, ac.signal.reason.name, ac.signal.reason.message, ac.signal.reason instanceof DOMException], [true, ['abort', 'onabort'], 'AbortError', 'This operation was aborted', true]);
checkThrows('throwIfAborted', () => ac.signal.throwIfAborted(), { name: 'AbortError' });
check('AbortSignal.abort with reason', AbortSignal.abort('why').reason, 'why');
const timeout = AbortSignal.timeout(5);
// Node's timeout timer doesn't keep the process alive: wait on a timer of our own.
await new Promise((resolve) => setTimeout(resolve, 30));
check('AbortSignal.timeout', [timeout.reason.name, timeout.reason.message], ['TimeoutError', 'The operation was aborted due to timeout']);
check('AbortSignal.any', AbortSignal.any([new AbortController().signal, AbortSignal.abort('first')]).reason, 'first');
checkThrows('AbortSignal is not constructible', () => new AbortSignal(), { name: 'TypeError', message: 'Illegal constructor' });

// Blob, File, FormData.
const blob = new Blob(['ab', new Uint8Array([99]), new Blob(['d'])], { type: 'Text/Plain' });
check('Blob', [blob.size, blob.type, await blob.text(), Array.from(new Uint8Array(await blob.slice(1, 3).arrayBuffer())), await blob.slice(-2).text()], [4, 'text/plain', 'abcd', [98, 99], 'cd']);
const streamed = [];
for await (const chunk of blob.stream()) streamed.push(...chunk);
check('Blob.stream', streamed, [97, 98, 99, 100]);
const file = new File(['x'], 'a.txt', { type: 'text/plain', lastModified: 5 });
check('File', [file.name, file.size, file.lastModified, file instanceof Blob], ['a.txt', 1, 5, true]);
const form = new FormData();
form.append('a', '1');
form.append('f', new Blob(['xyz']), 'x.txt');
form.append('a', '2');
form.set('b', 'only');
check('FormData', [form.getAll('a'), form.get('f').name, form.get('f') instanceof File, form.has('b'), [...form.keys()]], [['1', '2'], 'x.txt', true, true, ['a', 'f', 'a', 'b']]);

// Headers, Request, Response.
const headers = new Headers({ 'Content-Type': 'text/plain', 'X-A': ' 1 ' });
headers.append('x-a', '2');
headers.append('Set-Cookie', 'a=1');
headers.append('set-cookie', 'b=2');
check('Headers', [headers.get('x-a'), headers.get('content-type'), [...headers], headers.getSetCookie(), headers.has('X-A')], ['1, 2', 'text/plain', [['content-type', 'text/plain'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-a', '1, 2']], ['a=1', 'b=2'], true]);
checkThrows('bad header name', () => new Headers({ 'bad name': 'x' }), { name: 'TypeError', message: 'Headers.append: "bad name" is an invalid header name.' });
const response = new Response('{"a":1}', { status: 201, statusText: 'Created', headers: { 'content-type': 'application/json' } });
check('Response', [response.status, response.ok, response.statusText, response.headers.get('content-type'), await response.clone().json(), await response.text(), response.bodyUsed], [201, true, 'Created', 'application/json', { a: 1 }, '{"a":1}', true]);
await checkRejects('body used twice', response.text(), { name: 'TypeError', message: 'Body is unusable: Body has already been read' });
check('Response.json and default type', [await Response.json({ b: 2 }).json(), new Response('x').headers.get('content-type'), new Response(new URLSearchParams({ q: 'a b' })).headers.get('content-type')], [{ b: 2 }, 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded;charset=UTF-8']);
checkThrows('status range', () => new Response(null, { status: 600 }), { name: 'RangeError' });
checkThrows('null body status', () => new Response('x', { status: 204 }), { name: 'TypeError' });
check('Response.error/redirect', [Response.error().type, Response.error().status, Response.redirect('http://a.com/x', 301).headers.get('location')], ['error', 0, 'http://a.com/x']);
const request = new Request('http://example.com/a?b', { method: 'post', body: 'hi', headers: { 'X-Y': 'z' } });
check('Request', [request.method, request.url, request.headers.get('x-y'), request.headers.get('content-type'), await request.text(), request.redirect], ['POST', 'http://example.com/a?b', 'z', 'text/plain;charset=UTF-8', 'hi', 'follow']);
checkThrows('GET with body', () => new Request('http://x', { body: 'a' }), { name: 'TypeError', message: 'Request with GET/HEAD method cannot have body.' });
checkThrows('relative URL', () => new Request('/relative'), { name: 'TypeError', message: 'Failed to parse URL from /relative' });
const multipart = await new Response(form).text();
check('FormData body', /^------formdata-undici-0\d{11}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n/.test(multipart) && multipart.includes('name="f"; filename="x.txt"\r\nContent-Type: application/octet-stream\r\n\r\nxyz\r\n'), true);
const parsedForm = await new Response(form).formData();
check('formData() parses multipart', [parsedForm.getAll('a'), await parsedForm.get('f').text()], [['1', '2'], 'xyz']);
check('body as stream', await new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('st')); c.enqueue(new TextEncoder().encode('ream')); c.close(); } })).text(), 'stream');

// fetch without the network: data: URLs, refused schemes.
const data = await fetch('data:text/plain;base64,aGVsbG8=');
check('fetch data: URL', [data.status, data.headers.get('content-type'), await data.text()], [200, 'text/plain', 'hello']);
check('fetch percent-encoded data: URL', await (await fetch('data:,a%20b')).text(), 'a b');
await checkRejects('fetch file:', fetch('file:///etc/passwd'), { name: 'TypeError', message: 'fetch failed' });
await checkRejects('fetch relative', fetch('/x'), { name: 'TypeError', message: 'Failed to parse URL from /x' });
const early = new AbortController();
early.abort();
await checkRejects('fetch aborted before start', fetch('http://127.0.0.1:9/', { signal: early.signal }), { name: 'AbortError', message: 'This operation was aborted' });

// Web streams.
let pulls = 0;
const source = new ReadableStream({ pull(c) { pulls += 1; if (pulls > 3) c.close(); else c.enqueue(pulls); } });
const [left, right] = source.tee();
const readAll = async (s) => { const out = []; for await (const v of s) out.push(v); return out; };
check('tee', [await readAll(left), await readAll(right)], [[1, 2, 3], [1, 2, 3]]);
const doubled = ReadableStream.from([1, 2, 3]).pipeThrough(new TransformStream({ transform(chunk, c) { c.enqueue(chunk * 2); } }));
check('pipeThrough TransformStream', await readAll(doubled), [2, 4, 6]);
const text = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([0xe2, 0x82])); c.enqueue(new Uint8Array([0xac])); c.close(); } }).pipeThrough(new TextDecoderStream());
check('TextDecoderStream', (await readAll(text)).join(''), '€');
const written = [];
await ReadableStream.from(['a', 'b']).pipeTo(new WritableStream({ write(chunk) { written.push(chunk); } }));
check('pipeTo WritableStream', written, ['a', 'b']);
const reader = new ReadableStream({ start(c) { c.enqueue('x'); c.close(); } }).getReader();
check('reader', [await reader.read(), await reader.read()], [{ value: 'x', done: false }, { value: undefined, done: true }]);
const gz = await readAll(ReadableStream.from([new TextEncoder().encode('zip me')]).pipeThrough(new CompressionStream('gzip')).pipeThrough(new DecompressionStream('gzip')));
check('Compression streams', new TextDecoder().decode(gz[0]), 'zip me');

// structuredClone, atob/btoa, queueMicrotask, performance, crypto, global.
const original = { d: new Date(0), m: new Map([[1, { x: [1] }]]), s: new Set(['a']), r: /x/g, u: new Uint8Array([1, 2]), n: null, e: new RangeError('bad') };
original.self = original;
const cloned = structuredClone(original);
check('structuredClone', [cloned !== original, cloned.self === cloned, cloned.d.getTime(), cloned.m.get(1).x, [...cloned.s], cloned.r.flags, Array.from(cloned.u), cloned.e instanceof RangeError, cloned.e.message], [true, true, 0, [1], ['a'], 'g', [1, 2], true, 'bad']);
checkThrows('structuredClone function', () => structuredClone({ f() {} }), { name: 'DataCloneError' });
check('atob/btoa', [btoa('hi\xff'), atob('aGn/'), atob(' aG k= ')], ['aGn/', 'hi\xff', 'hi']);
checkThrows('btoa non-latin1', () => btoa('€'), { name: 'InvalidCharacterError' });
check('queueMicrotask', await new Promise((resolve) => queueMicrotask(() => resolve('ran'))), 'ran');
check('performance.now', typeof performance.now() === 'number' && performance.now() >= 0, true);
check('crypto global', [typeof crypto.randomUUID(), crypto.getRandomValues(new Uint8Array(2)).length, typeof crypto.subtle.digest], ['string', 2, 'function']);
check('global is globalThis', [global === globalThis, typeof global.setTimeout, global.Array === Array, typeof global.fetch], [true, 'function', true, 'function']);
check('process global', [typeof process.nextTick, process.platform, Buffer.from('g').toString('hex')], ['function', 'linux', '67']);
