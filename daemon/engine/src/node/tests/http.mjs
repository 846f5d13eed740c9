// node:http's client against the local test server.
import http from 'node:http';
import https from 'node:https';
import { get, request, Agent, STATUS_CODES } from 'http';

const base = testServer;
const header = (echo, name) => (echo.headers.find(([n]) => n === name) || [])[1];
const send = (url, options, body) => new Promise((resolve, reject) => {
  const events = [];
  const onResponse = (res) => {
    events.push('response');
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => { events.push('end'); resolve({ res, body: Buffer.concat(chunks).toString(), events, req }); });
  };
  // request(options, callback) takes the callback second, as in Node.
  const req = options === undefined ? request(url, onResponse) : request(url, options, onResponse);
  req.on('socket', () => events.push('socket'));
  req.on('finish', () => events.push('finish'));
  req.on('error', reject);
  if (body !== undefined) req.write(body);
  req.end();
});

const { res, body, events, req } = await send(`${base}/echo/h?x=1`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Two': ['a', 'b'] } }, '{"n":1}');
const echo = JSON.parse(body);
check('request/response', [res.statusCode, res.statusMessage, res.headers['x-echo'], res.headers['set-cookie'], res.headers['content-type'], res.httpVersion, res.complete], [200, 'OK', '1', ['a=1; Path=/', 'b=2'], 'application/json', '1.1', true]);
check('what was sent', [echo.method, echo.path, echo.body, header(echo, 'content-type'), echo.headers.filter(([n]) => n === 'x-two').map(([, v]) => v)], ['POST', '/echo/h?x=1', '{"n":1}', 'application/json', ['a', 'b']]);
check('rawHeaders keeps repeats', res.rawHeaders.filter((h, i) => i % 2 === 0 && /set-cookie/i.test(h)).length, 2);
check('event order', events.filter((e) => e !== 'socket'), ['finish', 'response', 'end']);
check('request accessors', [req.method, req.path, req.getHeader('x-two'), req.hasHeader('content-type'), req.getHeaderNames().includes('content-type')], ['POST', '/echo/h?x=1', ['a', 'b'], true, true]);

const viaGet = await new Promise((resolve, reject) => get(`${base}/text`, (r) => { let t = ''; r.setEncoding('utf8'); r.on('data', (c) => { t += c; }); r.on('end', () => resolve([r.statusCode, t])); }).on('error', reject));
check('http.get', viaGet, [200, 'hello']);
const options = new URL(`${base}/echo/opts`);
const fromOptions = await send({ hostname: options.hostname, port: options.port, path: '/echo/opts', method: 'PUT', auth: 'user:pass' }, undefined, 'x');
check('options object and auth', [JSON.parse(fromOptions.body).method, header(JSON.parse(fromOptions.body), 'authorization')], ['PUT', 'Basic dXNlcjpwYXNz']);
const chunked = await send(`${base}/echo`, { method: 'POST' }, 'part');
check('body written in pieces', JSON.parse(chunked.body).body, 'part');
const redirect = await send(`${base}/redirect/0`, {});
check('no redirects followed', [redirect.res.statusCode, redirect.res.headers.location], [302, '/echo']);
const gz = await send(`${base}/gzip`, {});
check('content-encoding left alone', [gz.res.headers['content-encoding'], gz.body.length > 0], ['gzip', true]);
const nf = await send(`${base}/status/404`, {});
check('404', [nf.res.statusCode, nf.res.statusMessage, nf.body], [404, 'Not Found', '{"error":404}']);
const freePort = (await send(`${base}/free-port`, {})).body;
const refused = await send(`http://127.0.0.1:${freePort}/`, {}).catch((e) => e);
check('connection refused', [refused.code, refused.message, refused.syscall], ['ECONNREFUSED', `connect ECONNREFUSED 127.0.0.1:${freePort}`, 'connect']);
const timedOut = await new Promise((resolve) => {
  const r = request(`${base}/slow`, { timeout: 100 }, () => resolve('response'));
  r.on('timeout', () => { r.destroy(new Error('timed out')); });
  r.on('error', (e) => resolve(e.message));
  r.end();
});
check('timeout event', timedOut, 'timed out');
const controller = new AbortController();
const aborted = await new Promise((resolve) => {
  const r = request(`${base}/slow`, { signal: controller.signal });
  r.on('error', (e) => resolve([e.name, e.code]));
  r.end();
  setTimeout(() => controller.abort(), 30);
});
check('abort signal', aborted, ['AbortError', 'ABORT_ERR']);
check('agents and constants', [new Agent({ keepAlive: true }).keepAlive, http.globalAgent instanceof Agent, https.globalAgent.protocol, https.globalAgent.defaultPort, STATUS_CODES[418], http.METHODS.includes('PATCH')], [true, true, 'https:', 443, "I'm a Teapot", true]);
checkThrows('https module refuses http URLs', () => https.request(`${base}/text`), { name: 'TypeError', code: 'ERR_INVALID_PROTOCOL', message: 'Protocol "http:" not supported. Expected "https:"' });
checkThrows('bad header', () => request(`${base}/text`).setHeader('bad header', 'x'), { name: 'TypeError', code: 'ERR_INVALID_HTTP_TOKEN', message: 'Header name must be a valid HTTP token ["bad header"]' });
// Node's global agents keep idle sockets to the test server alive.
globalThis.__exitUnderNode?.();
