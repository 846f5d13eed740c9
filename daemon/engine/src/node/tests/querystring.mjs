import qs, { parse, stringify, escape, unescape } from 'node:querystring';

const parsed = parse('a=1&b=2&a=3&c&d=&e=%20x+y&%ZZ=1&f=%E2%82%AC');
check('parse', { ...parsed }, { a: ['1', '3'], b: '2', c: '', d: '', e: ' x y', '%ZZ': '1', f: '€' });
check('null prototype', Object.getPrototypeOf(parsed), null);
check('stringify', stringify({ a: [1, 2], b: 'x y', c: null, d: undefined, e: true, f: {}, g: 'é€', h: NaN, i: 1n }), 'a=1&a=2&b=x%20y&c=&d=&e=true&f=&g=%C3%A9%E2%82%AC&h=&i=1');
check('escape/unescape', [escape("a b&c/é~*()!'"), unescape('%41+%zz%E2%82%AC')], ["a%20b%26c%2F%C3%A9~*()!'", 'A+%zz€']);
check('custom separators', [{ ...parse('a:1;b:2', ';', ':') }, stringify({ a: 1, b: 2 }, ';', ':')], [{ a: '1', b: '2' }, 'a:1;b:2']);
check('maxKeys', Object.keys(parse('a=1&b=2&c=3', null, null, { maxKeys: 2 })), ['a', 'b']);
check('brackets are plain text', { ...parse('a[]=1&a[]=2') }, { 'a[]': ['1', '2'] });
check('aliases', [qs.decode === parse, qs.encode === stringify], [true, true]);
check('empty and odd input', [{ ...parse('') }, { ...parse('&&=&a') }], [{}, { '': '', a: '' }]);
checkThrows('lone surrogate', () => escape('\ud800'), { name: 'URIError', code: 'ERR_INVALID_URI', message: 'URI malformed' });
