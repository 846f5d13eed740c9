import path from 'node:path';
import { join, resolve, posix } from 'path';

check('join', [join('/a', 'b', '../c', './d'), join('a', '', 'b/'), join(), join(''), join('/', '..', 'x')], ['/a/c/d', 'a/b/', '.', '.', '/x']);
check('resolve from cwd /', [resolve('a/b', '../c'), resolve('/x', 'y', '/z', 'w'), resolve(), resolve('')], ['/a/c', '/z/w', '/', '/']);
check('normalize', ['/a//b/../c/.', 'a/../../b', './', '', '//a', 'a/b/..', '/..'].map(path.normalize), ['/a/c', '../b', './', '.', '/a', 'a', '/']);
check('dirname', ['/a/b/c', '/a/b/', 'a', '/', '', '//a', 'a/b'].map(path.dirname), ['/a/b', '/a', '.', '/', '.', '//', 'a']);
check('basename', [path.basename('/a/b.txt'), path.basename('/a/b.txt', '.txt'), path.basename('/a/b/'), path.basename('b.txt', 'b.txt'), path.basename('/a/.env', '.env')], ['b.txt', 'b', 'b', '', '.env']);
check('extname', ['a.js', 'a.', '.env', 'a.b.c', 'a', '/x.y/z', '..', 'a..'].map(path.extname), ['.js', '.', '', '.c', '', '', '', '.']);
check('relative', [path.relative('/a/b/c', '/a/d'), path.relative('/a', '/a/b'), path.relative('/a/b', '/a/b'), path.relative('a', 'b')], ['../../d', 'b', '', '../b']);
check('isAbsolute', [path.isAbsolute('/a'), path.isAbsolute('a'), path.isAbsolute('')], [true, false, false]);
check('parse', path.parse('/home/u/file.tar.gz'), { root: '/', dir: '/home/u', base: 'file.tar.gz', ext: '.gz', name: 'file.tar' });
check('parse relative', path.parse('.bashrc'), { root: '', dir: '', base: '.bashrc', ext: '', name: '.bashrc' });
check('format', [path.format({ dir: '/a', base: 'b.txt' }), path.format({ root: '/', name: 'x', ext: 'js' }), path.format({ name: 'n', ext: '.e' })], ['/a/b.txt', '/x.js', 'n.e']);
check('constants', [path.sep, path.delimiter, posix === path, path.posix.join('a', 'b')], ['/', ':', true, 'a/b']);
checkThrows('non-string', () => path.join('a', 1), {
  name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'The "path" argument must be of type string. Received type number (1)',
});
