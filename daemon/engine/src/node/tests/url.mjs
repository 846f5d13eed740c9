import url, { URL as NodeURL, fileURLToPath, pathToFileURL, format, parse, resolve, domainToASCII, domainToUnicode, urlToHttpOptions } from 'node:url';

const parts = (u) => ({ href: u.href, origin: u.origin, protocol: u.protocol, username: u.username, password: u.password, host: u.host, hostname: u.hostname, port: u.port, pathname: u.pathname, search: u.search, hash: u.hash });
check('URL parts', parts(new URL('https://user:pw@Host.COM:8080/p/a/../t/h?query=string&a=1#hash')), {
  href: 'https://user:pw@host.com:8080/p/t/h?query=string&a=1#hash', origin: 'https://host.com:8080', protocol: 'https:',
  username: 'user', password: 'pw', host: 'host.com:8080', hostname: 'host.com', port: '8080', pathname: '/p/t/h',
  search: '?query=string&a=1', hash: '#hash',
});
check('URL relative to base', new URL('../c?x#y', 'http://a.com/b/d/e').href, 'http://a.com/b/c?x#y');
check('URL defaults and idna', [new URL('HTTP://EXAMPLE.com:80/').href, new URL('http://español.com/').hostname, new URL('http://[::1]:3000/').host, new URL('file:///tmp/a b').href], ['http://example.com/', 'xn--espaol-zwa.com', '[::1]:3000', 'file:///tmp/a%20b']);
checkThrows('invalid URL', () => new URL('nope'), { name: 'TypeError', code: 'ERR_INVALID_URL', message: 'Invalid URL' });
const bad = (() => { try { new URL('/x', 'also bad'); } catch (e) { return [e.input, e.base]; } return null; })();
check('invalid URL carries input and base', bad, ['/x', 'also bad']);
check('URL.canParse', [URL.canParse('http://x'), URL.canParse('x'), URL.canParse('/p', 'http://h')], [true, false, true]);
const u = new URL('https://a.com/p?x=1&y=2#f');
u.searchParams.append('z', '3 4');
u.hash = '';
u.port = '8443';
u.pathname = '/a b';
check('setters and live searchParams', [u.href, u.search, JSON.stringify(u), String(u)], ['https://a.com:8443/a%20b?x=1&y=2&z=3+4', '?x=1&y=2&z=3+4', '"https://a.com:8443/a%20b?x=1&y=2&z=3+4"', 'https://a.com:8443/a%20b?x=1&y=2&z=3+4']);
u.search = '?q=1';
check('search setter updates params', [...u.searchParams], [['q', '1']]);
u.searchParams.delete('q');
check('deleting the last param drops ?', u.href, 'https://a.com:8443/a%20b');
u.protocol = 'http';
check('protocol setter', u.href, 'http://a.com:8443/a%20b');
checkThrows('href setter validates', () => { u.href = 'nope'; }, { name: 'TypeError', code: 'ERR_INVALID_URL' });

const p = new URLSearchParams('a=1&b=2&a=3&c=%20x+y&d&=e&f=%zz');
check('URLSearchParams parse', [...p], [['a', '1'], ['b', '2'], ['a', '3'], ['c', ' x y'], ['d', ''], ['', 'e'], ['f', '%zz']]);
check('get/getAll/has', [p.get('a'), p.getAll('a'), p.has('b'), p.has('a', '3'), p.get('none'), p.size], ['1', ['1', '3'], true, true, null, 7]);
p.set('a', 'x');
p.delete('b');
p.sort();
check('set/delete/sort/toString', p.toString(), '=e&a=x&c=+x+y&d=&f=%25zz');
check('from record and pairs', [String(new URLSearchParams({ a: '1', b: 'é &' })), String(new URLSearchParams([['x', 'y'], ['x', 'z']]))], ['a=1&b=%C3%A9+%26', 'x=y&x=z']);
check('serializer escapes', new URLSearchParams({ k: "*-._~!'()/?" }).toString(), 'k=*-._%7E%21%27%28%29%2F%3F');
checkThrows('bad pair', () => new URLSearchParams([['a']]), { name: 'TypeError', code: 'ERR_INVALID_TUPLE' });

// Legacy API.
const legacy = parse('https://user:pw@Host.com:8080/p/a/t/h?query=string&a=1#hash');
check('url.parse', { ...legacy }, {
  protocol: 'https:', slashes: true, auth: 'user:pw', host: 'host.com:8080', port: '8080', hostname: 'host.com', hash: '#hash',
  search: '?query=string&a=1', query: 'query=string&a=1', pathname: '/p/a/t/h', path: '/p/a/t/h?query=string&a=1',
  href: 'https://user:pw@host.com:8080/p/a/t/h?query=string&a=1#hash',
});
check('url.parse with query object', [{ ...parse('https://host.com/p?a=1&a=2', true).query }, Object.getPrototypeOf(parse('/x?a=1', true).query)], [{ a: ['1', '2'] }, null]);
check('url.parse slashesDenoteHost and paths', [{ ...parse('//host/path', false, true) }.host, { ...parse('/just/path') }.pathname, { ...parse('mailto:x@y.z') }.host, parse('http://x.com/a b<c>').href, parse('HTTP://X.COM').href], ['host', '/just/path', 'y.z', 'http://x.com/a%20b%3Cc%3E', 'http://x.com/']);
check('Url is the class', parse('http://x') instanceof url.Url, true);
check('url.format', [format({ protocol: 'https', hostname: 'a.com', pathname: '/x', query: { a: 1, b: 'c d' } }), format(parse('http://a.com/b?c=d')), format(new NodeURL('https://u:p@a.com/x?y#z'), { auth: false, search: false, fragment: false }), format('http://a.com/x y')], ['https://a.com/x?a=1&b=c%20d', 'http://a.com/b?c=d', 'https://a.com/x', 'http://a.com/x%20y']);
check('url.resolve', [resolve('http://a.com/b/c', '../d'), resolve('/one/two/three', 'four'), resolve('http://example.com/', '/one'), resolve('http://example.com/one', '/two'), resolve('http://a.com/x', 'https://b.com/y')], ['http://a.com/d', '/one/two/four', 'http://example.com/one', 'http://example.com/two', 'https://b.com/y']);
check('file URLs', [fileURLToPath('file:///tmp/a%20b'), pathToFileURL('/tmp/a b#c').href, fileURLToPath(new URL('file://localhost/etc'))], ['/tmp/a b', 'file:///tmp/a%20b%23c', '/etc']);
checkThrows('fileURLToPath scheme', () => fileURLToPath('http://x'), { name: 'TypeError', code: 'ERR_INVALID_URL_SCHEME', message: 'The URL must be of scheme file' });
check('domains', [domainToASCII('español.com'), domainToUnicode('xn--espaol-zwa.com'), domainToASCII('xn--iñvalid.com')], ['xn--espaol-zwa.com', 'español.com', '']);
check('urlToHttpOptions', urlToHttpOptions(new URL('https://a:b@h.com:81/p?q')), { protocol: 'https:', hostname: 'h.com', hash: '', search: '?q', pathname: '/p', path: '/p?q', href: 'https://a:b@h.com:81/p?q', port: 81, auth: 'a:b' });
check('the module exports the global classes', [url.URL === URL, url.URLSearchParams === URLSearchParams], [true, true]);
