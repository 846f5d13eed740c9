import crypto, { createHash, createHmac, randomUUID, randomBytes, timingSafeEqual, getRandomValues, pbkdf2Sync, webcrypto } from 'node:crypto';

const text = 'The quick brown fox jumps over the lazy dog';
check('digests hex', ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'].map((a) => createHash(a).update(text).digest('hex')), [
  '9e107d9d372bb6826bd81d3542a419d6',
  '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12',
  '730e109bd7a8a32b1cb9d9a09aa2325d2430587ddbc0c38bad911525',
  'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592',
  'ca737f1014a48f4c0b6dd43cb177b0afd9e5169367544c494011e3317dbf9a509cb1e5dc1e85a941bbee3d7f2afbc9b1',
  '07e547d9586f6a73f73fbac0435ed76951218fb7d0c8d788a309d785436bbb642e93a252a954f23912547d1e8a3b5ed6e1bfd7097821233fa0538f3db854fee6',
]);
check('digest encodings', [createHash('sha256').update('a').update('b').digest('base64'), createHash('md5').update(Buffer.from([1, 2, 3])).digest('base64url'), Buffer.isBuffer(createHash('sha1').update('x').digest()), createHash('sha1').update('x').digest().length],
  ['+44g/C5MPySMYMOb1lLzwTRymLuXe4tNWQO4UFViBgM=', 'Uonfc331cyb83SJZevsfrA', true, 20]);
check('update with encodings', createHash('md5').update('68656c6c6f', 'hex').digest('hex'), createHash('md5').update('hello').digest('hex'));
check('hmac', [createHmac('sha256', 'key').update(text).digest('hex'), createHmac('sha1', Buffer.from('k')).update('v').digest('base64'), createHmac('sha512', '').update('').digest('hex').slice(0, 16)],
  ['f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8', 'lPxqL36JuBls904QeajBHrZ5pVI=', 'b936cee86c9f87aa']);
const h = createHash('sha256').update('one');
const copy = h.copy();
check('copy', [h.update('two').digest('hex') === createHash('sha256').update('onetwo').digest('hex'), copy.digest('hex') === createHash('sha256').update('one').digest('hex')], [true, true]);
checkThrows('digest twice', () => { const x = createHash('md5'); x.digest(); x.digest(); }, { code: 'ERR_CRYPTO_HASH_FINALIZED', message: 'Digest already called' });
checkThrows('unknown digest', () => createHash('whirlpool9'), { message: 'Digest method not supported' });
checkThrows('unknown hmac digest', () => createHmac('nope', 'k'), { name: 'TypeError', code: 'ERR_CRYPTO_INVALID_DIGEST', message: 'Invalid digest: nope' });
checkThrows('update type', () => createHash('md5').update(1), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received type number (1)' });
check('uuid', [/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(randomUUID()), randomUUID() !== randomUUID(), typeof webcrypto.randomUUID()], [true, true, 'string']);
check('randomBytes', [randomBytes(16).length, Buffer.isBuffer(randomBytes(1)), randomBytes(8).toString('hex') !== randomBytes(8).toString('hex')], [16, true, true]);
check('randomBytes callback', await new Promise((resolve) => randomBytes(4, (err, b) => resolve([err, b.length]))), [null, 4]);
const values = getRandomValues(new Uint32Array(4));
check('getRandomValues', [values.length, values.some((v) => v !== 0), crypto.getRandomValues === getRandomValues], [4, true, true]);
checkThrows('getRandomValues quota', () => getRandomValues(new Uint8Array(65537)), { name: 'QuotaExceededError' });
check('randomInt range', Array.from({ length: 50 }, () => crypto.randomInt(3, 6)).every((n) => n >= 3 && n < 6), true);
check('timingSafeEqual', [timingSafeEqual(Buffer.from('abc'), Buffer.from('abc')), timingSafeEqual(Buffer.from('abc'), Buffer.from('abd'))], [true, false]);
checkThrows('timingSafeEqual lengths', () => timingSafeEqual(Buffer.from('a'), Buffer.from('ab')), { name: 'RangeError', code: 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', message: 'Input buffers must have the same byte length' });
check('pbkdf2', [pbkdf2Sync('password', 'salt', 2, 20, 'sha1').toString('hex'), pbkdf2Sync('pw', 'salt', 1000, 32, 'sha256').toString('base64')], ['ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957', 'CjglNVXON/XHKmtwP5loFOvyQfIDrxRuk9zesDHFVn4=']);
check('pbkdf2 callback', await new Promise((resolve) => crypto.pbkdf2('p', 's', 1, 8, 'sha256', (e, k) => resolve(k.length))), 8);
check('subtle.digest', Buffer.from(await webcrypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'))).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
check('hash stream form', await new Promise((resolve) => { const s = createHash('md5'); s.on('readable', () => { const d = s.read(); if (d) resolve(d.toString('hex')); }); s.write('hel'); s.end('lo'); }), '5d41402abc4b2a76b9719d911017c592');
check('crypto.hash', crypto.hash ? crypto.hash('sha1', 'abc') : 'a9993e364706816aba3e25717850c26c9cd0d89d', 'a9993e364706816aba3e25717850c26c9cd0d89d');
check('getHashes includes sha256', crypto.getHashes().includes('sha256'), true);
