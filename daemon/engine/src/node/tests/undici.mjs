// undici against the local test server: what language-common, -http, -fhir and
// -collections call. Runs against real undici 5 and 7 under Node.
import { Readable } from 'node:stream';
import undici, { request, Client, Agent, errors, setGlobalDispatcher, getGlobalDispatcher, fetch as undiciFetch, FormData as UndiciFormData } from 'undici';

const { interceptors } = undici;

const base = testServer;
const header = (echo, name) => (echo.headers.find(([n]) => n === name) || [])[1];
const v7 = typeof Agent.prototype.compose === 'function';

// request(url, options): statusCode, headers (lower-case, arrays for repeats), body consumers.
const res = await request(`${base}/echo/r`, { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json', 'X-Multi': ['1', '2'] }, query: { q: 'a b', n: 1 } });
check('request status and headers', [res.statusCode, res.headers['x-echo'], res.headers['set-cookie'], res.headers['content-type'], typeof res.trailers, res.opaque], [200, '1', ['a=1; Path=/', 'b=2'], 'application/json', 'object', null]);
const echo = await res.body.json();
check('request sent', [echo.method, echo.path, JSON.parse(echo.body), header(echo, 'x-multi'), echo.headers.filter(([n]) => n === 'x-multi').length], ['POST', '/echo/r?q=a%20b&n=1', { a: 1 }, '1', 2]);
check('body consumed', [res.body.bodyUsed], [true]);
// (undici 7 trips an internal assertion here; undici 5 and bolt reject.)
if (!v7) await checkRejects('body used twice', res.body.text(), { name: 'TypeError', message: 'unusable' });
check('text()', await (await request(`${base}/text`)).body.text(), 'hello');
check('arrayBuffer()', new Uint8Array(await (await request(`${base}/binary`)).body.arrayBuffer()).length, 256);
const blob = await (await request(`${base}/text`)).body.blob();
check('blob()', [blob.type, await blob.text()], ['text/plain; charset=utf-8', 'hello']);
const chunks = [];
for await (const chunk of (await request(`${base}/text`)).body) chunks.push(String(chunk));
check('body is async iterable', chunks.join(''), 'hello');
const piped = await new Promise(async (resolve) => {
  const { body } = await request(`${base}/text`);
  let text = '';
  body.on('data', (c) => { text += c; });
  body.on('end', () => resolve(text));
});
check('body is a Readable', piped, 'hello');
// undici 5 resolves dump() with null, 7 with undefined.
check('body.dump()', [null, undefined].includes(await (await request(`${base}/text`)).body.dump()), true);
check('request with a Readable body', (await (await request(`${base}/echo`, { method: 'PUT', body: Readable.from(['chunk', 'ed']) })).body.json()).body, 'chunked');
check('gzip is not decoded by request()', (await request(`${base}/gzip`)).headers['content-encoding'], 'gzip');
const notFound = await request(`${base}/status/404`);
check('404 resolves', [notFound.statusCode, await notFound.body.json()], [404, { error: 404 }]);
check('default method with a body is PUT', (await (await request(`${base}/echo`, { body: 'x' })).body.json()).method, 'PUT');

// Client(origin).request({path, ...}) as language-common 2.x and -collections use it.
const client = new Client(base);
const viaClient = await client.request({ path: '/echo/c', method: 'GET', query: { x: 1 }, headers: { authorization: 'Bearer t' } });
const clientEcho = await viaClient.body.json();
check('Client.request', [viaClient.statusCode, clientEcho.path, header(clientEcho, 'authorization')], [200, '/echo/c?x=1', 'Bearer t']);
// language-common 2.x passes `origin` too (undici 5 resolves a relative Location with it);
// undici 7 refuses `maxRedirections` (bolt accepts it for both).
if (!v7) {
  const redirected = await client.request({ path: '/redirect/1', method: 'GET', maxRedirections: 5, origin: base });
  check('Client maxRedirections (undici 5)', [redirected.statusCode, (await redirected.body.json()).path], [200, '/echo']);
}
const kept = await client.request({ path: '/redirect/0', method: 'GET' });
check('no redirect by default', [kept.statusCode, kept.headers.location], [302, '/echo']);
await kept.body.dump();
await checkRejects('path and query both', client.request({ path: '/echo?a=1', method: 'GET', query: { b: 2 } }), { message: 'Query params cannot be passed when url already contains "?" or "#".' });
await client.close();

// Agent composed with the redirect and decompress interceptors (language-common 3.x).
if (v7) {
  const agent = new Agent({ connect: {} }).compose(interceptors.redirect({ maxRedirections: 3 }), interceptors.decompress());
  const viaAgent = await agent.request({ origin: base, path: '/redirect/2', method: 'GET' });
  check('Agent.compose redirect', [viaAgent.statusCode, (await viaAgent.body.json()).path], [200, '/echo']);
  const gz = await agent.request({ origin: base, path: '/gzip', method: 'GET' });
  check('decompress interceptor', [gz.headers['content-encoding'], gz.headers['content-length'], await gz.body.json()], [undefined, undefined, { compressed: true }]);
  const custom = [];
  const logging = (dispatch) => (opts, handler) => { custom.push(`${opts.method} ${opts.path}`); return dispatch(opts, handler); };
  const withCustom = new Agent().compose(logging);
  await (await withCustom.request({ origin: base, path: '/text', method: 'GET' })).body.text();
  check('custom interceptor', custom, ['GET /text']);
} else {
  check('Agent.compose redirect', 'v5', 'v5');
}

// Timeouts, throwOnError (undici 5), errors, signals.
await checkRejects('headersTimeout', request(`${base}/slow`, { headersTimeout: 100 }), { name: 'HeadersTimeoutError', code: 'UND_ERR_HEADERS_TIMEOUT', message: 'Headers Timeout Error' });
const err = await request(`${base}/status/500`, { throwOnError: true }).catch((e) => e);
check('throwOnError', v7 ? 'skipped' : [err.name, err.statusCode, err.code, err.body], v7 ? 'skipped' : ['ResponseStatusCodeError', 500, 'UND_ERR_RESPONSE_STATUS_CODE', { error: 500 }]);
const freePort = await (await request(`${base}/free-port`)).body.text();
const refused = await request(`http://127.0.0.1:${freePort}/`).catch((e) => e);
check('connection refused', [refused.code, refused.message], ['ECONNREFUSED', `connect ECONNREFUSED 127.0.0.1:${freePort}`]);
const controller = new AbortController();
const slow = request(`${base}/slow`, { signal: controller.signal });
setTimeout(() => controller.abort(), 50);
const aborted = await slow.catch((e) => e);
check('abort', aborted.name, 'AbortError');
check('error classes', [new errors.HeadersTimeoutError() instanceof errors.UndiciError, new errors.RequestAbortedError().code, errors.InvalidArgumentError.name], [true, 'UND_ERR_ABORTED', 'InvalidArgumentError']);

// The global dispatcher, fetch and FormData re-exports.
const original = getGlobalDispatcher();
const seen = [];
class Recording extends undici.Dispatcher {
  dispatch(opts, handler) { seen.push(opts.path); return original.dispatch(opts, handler); }
}
setGlobalDispatcher(new Recording());
await (await request(`${base}/text`)).body.text();
setGlobalDispatcher(original);
check('setGlobalDispatcher', seen, ['/text']);
check('undici.fetch', await (await undiciFetch(`${base}/text`)).text(), 'hello');
const form = new UndiciFormData();
form.append('k', 'v');
const sent = await (await request(`${base}/echo`, { method: 'POST', body: form })).body.json();
check('FormData body', [header(sent, 'content-type').startsWith('multipart/form-data; boundary='), sent.body.includes('name="k"\r\n\r\nv\r\n')], [true, true]);
check('default import', [typeof undici.request, undici.Client === Client, typeof undici.MockAgent], ['function', true, 'function']);
