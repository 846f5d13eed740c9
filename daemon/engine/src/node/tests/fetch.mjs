// fetch against the local test server (testServer: its base URL).
const base = testServer;
const header = (echo, name) => (echo.headers.find(([n]) => n === name) || [])[1];

const res = await fetch(`${base}/echo/x?y=1`, { method: 'POST', body: 'hi', headers: { 'X-Custom': 'v' } });
const echo = await res.json();
check('POST through fetch', [res.status, res.ok, res.statusText, echo.method, echo.path, echo.body, header(echo, 'x-custom'), header(echo, 'content-type'), header(echo, 'user-agent'), header(echo, 'accept'), header(echo, 'accept-language'), header(echo, 'sec-fetch-mode')],
  [200, true, 'OK', 'POST', '/echo/x?y=1', 'hi', 'v', 'text/plain;charset=UTF-8', 'node', '*/*', '*', 'cors']);
check('response headers', [res.headers.get('x-echo'), res.headers.getSetCookie(), res.headers.get('set-cookie'), res.headers.get('content-type'), res.url, res.redirected, res.type], ['1', ['a=1; Path=/', 'b=2'], 'a=1; Path=/, b=2', 'application/json', `${base}/echo/x?y=1`, false, 'basic']);

const json = await (await fetch(`${base}/echo`, { method: 'PUT', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } })).json();
check('JSON body', [json.method, JSON.parse(json.body), header(json, 'content-type')], ['PUT', { a: 1 }, 'application/json']);
const form = new FormData();
form.append('field', 'value');
form.append('file', new Blob(['content'], { type: 'text/plain' }), 'f.txt');
const multipart = await (await fetch(`${base}/echo`, { method: 'POST', body: form })).json();
check('multipart body', [header(multipart, 'content-type').startsWith('multipart/form-data; boundary=----formdata-undici-0'), multipart.body.includes('Content-Disposition: form-data; name="file"; filename="f.txt"\r\nContent-Type: text/plain\r\n\r\ncontent\r\n')], [true, true]);
const params = await (await fetch(`${base}/echo`, { method: 'POST', body: new URLSearchParams({ q: 'a b', r: 'é' }) })).json();
check('urlencoded body', [params.body, header(params, 'content-type')], ['q=a+b&r=%C3%A9', 'application/x-www-form-urlencoded;charset=UTF-8']);
const binary = await fetch(`${base}/echo`, { method: 'POST', body: new Uint8Array([104, 105]) });
check('binary body', (await binary.json()).body, 'hi');

check('gzip, deflate and br are decoded', [await (await fetch(`${base}/gzip`)).json(), await (await fetch(`${base}/deflate`)).json(), await (await fetch(`${base}/br`)).json(), (await fetch(`${base}/gzip`)).headers.get('content-encoding')],
  [{ compressed: true }, { compressed: true }, { compressed: true }, 'gzip']);
const bytes = new Uint8Array(await (await fetch(`${base}/binary`)).arrayBuffer());
check('binary response', [bytes.length, bytes[0], bytes[255]], [256, 0, 255]);
const blob = await (await fetch(`${base}/text`)).blob();
check('blob response', [blob.type, await blob.text()], ['text/plain;charset=utf-8', 'hello']);
const streamed = [];
for await (const chunk of (await fetch(`${base}/text`)).body) streamed.push(...chunk);
check('body stream', new TextDecoder().decode(new Uint8Array(streamed)), 'hello');
const empty = await fetch(`${base}/empty`);
check('204', [empty.status, empty.body, await empty.text()], [204, null, '']);

const redirected = await fetch(`${base}/redirect/2`);
check('redirects followed', [redirected.status, redirected.redirected, redirected.url, (await redirected.json()).path], [200, true, `${base}/echo`, '/echo']);
const manual = await fetch(`${base}/redirect/0`, { redirect: 'manual' });
check('redirect: manual', [manual.status, manual.headers.get('location')], [302, '/echo']);
await checkRejects('redirect: error', fetch(`${base}/redirect/0`, { redirect: 'error' }), { name: 'TypeError', message: 'fetch failed' });
const seeOther = await fetch(`${base}/see-other`, { method: 'POST', body: 'x' });
check('303 turns POST into GET', (await seeOther.json()).method, 'GET');
await checkRejects('redirect loop', fetch(`${base}/loop`), { name: 'TypeError', message: 'fetch failed' });

const notFound = await fetch(`${base}/status/404`);
check('404 is not an error', [notFound.status, notFound.ok, await notFound.json()], [404, false, { error: 404 }]);
const freePort = await (await fetch(`${base}/free-port`)).text();
const refused = await fetch(`http://127.0.0.1:${freePort}/`).catch((e) => e);
check('connection refused', [refused.name, refused.message, refused.cause && refused.cause.code, refused.cause && refused.cause.message], ['TypeError', 'fetch failed', 'ECONNREFUSED', `connect ECONNREFUSED 127.0.0.1:${freePort}`]);
const badPort = await fetch('http://127.0.0.1:9/').catch((e) => e);
check('bad port', [badPort.message, badPort.cause.message], ['fetch failed', 'bad port']);

const controller = new AbortController();
const slow = fetch(`${base}/slow`, { signal: controller.signal });
setTimeout(() => controller.abort(), 50);
const started = Date.now();
await checkRejects('abort mid-request', slow, { name: 'AbortError', message: 'This operation was aborted' });
check('abort is prompt', Date.now() - started < 1500, true);
await checkRejects('AbortSignal.timeout', fetch(`${base}/slow`, { signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' });
await checkRejects('bad json', (await fetch(`${base}/bad-json`)).json(), { name: 'SyntaxError' });
const request = new Request(`${base}/echo`, { method: 'PATCH', body: 'r', headers: { 'x-r': '1' } });
const fromRequest = await (await fetch(request)).json();
check('fetch(Request)', [fromRequest.method, fromRequest.body, header(fromRequest, 'x-r')], ['PATCH', 'r', '1']);
