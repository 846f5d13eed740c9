import { StringDecoder } from 'node:string_decoder';
import sd from 'string_decoder';

const euro = Buffer.from('€');
const d = new StringDecoder('utf8');
check('split character', [d.write(euro.subarray(0, 1)), d.write(euro.subarray(1, 2)), d.write(euro.subarray(2)), d.end()], ['', '', '€', '']);
const e = new StringDecoder('utf8');
check('incomplete at end', [e.write(Buffer.from([0xe2, 0x82])), e.end()], ['', '\ufffd']);
const h = new StringDecoder('hex');
check('hex', h.write(Buffer.from([1, 255])) + h.end(Buffer.from([16])), '01ff10');
const b = new StringDecoder('base64');
check('base64 keeps partial groups', [b.write(Buffer.from('ab')), b.write(Buffer.from('c')), b.end()], ['', 'YWJj', '']);
const u = new StringDecoder('utf16le');
check('utf16le', [u.write(Buffer.from([0x61])), u.write(Buffer.from([0x00, 0x62])), u.end(Buffer.from([0x00]))], ['', 'a', 'b']);
check('encoding normalised', [new StringDecoder().encoding, new StringDecoder('UCS-2').encoding, new StringDecoder('binary').encoding], ['utf8', 'utf16le', 'latin1']);
checkThrows('unknown encoding', () => new StringDecoder('nope'), { name: 'TypeError', code: 'ERR_UNKNOWN_ENCODING', message: 'Unknown encoding: nope' });
check('default export', sd.StringDecoder === StringDecoder, true);
