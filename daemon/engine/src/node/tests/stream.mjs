import Stream, { Readable, Writable, Duplex, Transform, PassThrough, pipeline, finished } from 'node:stream';
import { pipeline as pipelineP, finished as finishedP } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { inherits } from 'node:util';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
const collect = (stream) => new Promise((resolve, reject) => {
  const chunks = [];
  stream.on('data', (c) => chunks.push(c));
  stream.on('end', () => resolve(chunks));
  stream.on('error', reject);
});

check('require shape', [typeof Stream, Stream.Readable === Readable, Stream.Stream === Stream, typeof Stream.pipeline, Stream.promises.pipeline === pipelineP], ['function', true, true, 'function', true]);

// Flowing mode with a pushing _read, and the event order around 'end'.
{
  const events = [];
  let n = 0;
  const r = new Readable({ read() { n += 1; this.push(n <= 3 ? `c${n}` : null); } });
  r.on('data', (c) => events.push(`data:${c}`));
  r.on('end', () => events.push('end'));
  r.on('close', () => events.push('close'));
  await tick();
  check('flowing readable', events, ['data:c1', 'data:c2', 'data:c3', 'end', 'close']);
}

// Paused mode: 'readable' + read(); read(n) across chunks; setEncoding.
{
  const r = new Readable({ read() {} });
  r.push('abc');
  r.push('def');
  r.push(null);
  const got = [];
  r.on('readable', () => {
    let chunk;
    while ((chunk = r.read(4)) !== null) got.push(chunk.toString());
  });
  await new Promise((resolve) => r.on('end', resolve));
  check('read(n) over chunks', got, ['abcd', 'ef']);
  const e = new Readable({ read() {} });
  e.setEncoding('utf8');
  e.push(Buffer.from([0xe2, 0x82]));
  e.push(Buffer.from([0xac]));
  e.push(null);
  check('setEncoding joins split characters', await collect(e), ['€']);
}

// Object mode, highWaterMark and backpressure: push returns false at the mark.
{
  const r = new Readable({ objectMode: true, highWaterMark: 2, read() {} });
  const results = [r.push({ a: 1 }), r.push({ a: 2 }), r.push({ a: 3 })];
  check('object mode push backpressure', [results, r.readableLength, r.readableObjectMode, r.readableHighWaterMark], [[true, false, false], 3, true, 2]);
  r.push(null);
  check('object mode data', (await collect(r)).map((o) => o.a), [1, 2, 3]);
}

// Writable: write/cb order, drain, _final, finish, writev with cork.
{
  const log = [];
  const w = new Writable({
    highWaterMark: 3,
    write(chunk, enc, cb) { log.push(`write:${chunk}`); setTimeout(cb, 1); },
    final(cb) { log.push('final'); cb(); },
  });
  w.on('drain', () => log.push('drain'));
  w.on('finish', () => log.push('finish'));
  w.on('close', () => log.push('close'));
  const ok1 = w.write('ab');
  const ok2 = w.write('cd', () => log.push('cb:cd'));
  w.end('e');
  await new Promise((resolve) => w.on('close', resolve));
  check('writable', [ok1, ok2, log], [true, false, ['write:ab', 'write:cd', 'write:e', 'cb:cd', 'final', 'finish', 'close']]);
  const batches = [];
  const v = new Writable({ writev(chunks, cb) { batches.push(chunks.map((c) => String(c.chunk))); cb(); } });
  v.cork();
  v.write('a');
  v.write('b');
  process.nextTick(() => v.uncork());
  v.end('c');
  await finishedP(v);
  check('writev batches corked writes', batches, [['a', 'b', 'c']]);
  const done = new Writable({ write(c, e, cb) { cb(); } });
  done.end();
  await tick();
  const errors = [];
  done.on('error', (err) => errors.push(err.code));
  done.write('late', (err) => errors.push(`cb:${err.code}`));
  await tick();
  check('write after end (the stream destroyed itself on finish: no error event)', errors, ['cb:ERR_STREAM_WRITE_AFTER_END']);
  check('Duplex is a Writable', [new Duplex() instanceof Writable, new Transform() instanceof Writable, new Readable() instanceof Writable], [true, true, false]);
}

// Transform, PassThrough and pipe with backpressure.
{
  const upper = new Transform({
    transform(chunk, enc, cb) { cb(null, String(chunk).toUpperCase()); },
    flush(cb) { this.push('!'); cb(); },
  });
  const source = Readable.from(['a', 'b', 'c'], { objectMode: false });
  const received = [];
  const slow = new Writable({ highWaterMark: 1, write(chunk, enc, cb) { received.push(String(chunk)); setTimeout(cb, 1); } });
  source.pipe(upper).pipe(slow);
  await new Promise((resolve) => slow.on('finish', resolve));
  check('pipe through a transform', received, ['A', 'B', 'C', '!']);
  const pt = new PassThrough();
  pt.end('pass');
  check('passthrough', (await collect(pt)).map(String), ['pass']);
}

// A stream-json-like Transform: bytes in, objects out; iterator() on the pipe's end.
{
  class Tokens extends Transform {
    constructor() { super({ readableObjectMode: true }); this._decoder = new StringDecoder(); }
    _transform(chunk, enc, cb) {
      // Replacing _transform on the instance, as stream-json does.
      this._transform = this._tokens;
      this._transform(chunk, enc, cb);
    }
    _tokens(chunk, enc, cb) {
      for (const ch of this._decoder.write(chunk)) if (ch.trim()) this.push({ name: 'char', value: ch });
      cb();
    }
  }
  const source = new Readable({ read() {} });
  const it = source.pipe(new Tokens()).iterator();
  source.push('a b');
  source.push(Buffer.from('c'));
  source.push(null);
  const values = [];
  for await (const token of it) values.push(token.value);
  check('object tokens through iterator()', values, ['a', 'b', 'c']);
}

// pipeline with generators and a destination function; errors and finished.
{
  const out = [];
  await pipelineP(
    Readable.from([1, 2, 3]),
    async function* double(source) { for await (const n of source) yield n * 2; },
    new Writable({ objectMode: true, write(chunk, enc, cb) { out.push(chunk); cb(); } }),
  );
  check('pipeline with a generator', out, [2, 4, 6]);
  const result = await pipelineP(Readable.from(['x', 'y']), async (source) => { let s = ''; for await (const c of source) s += c; return s; });
  check('pipeline destination function returns a value', result, 'xy');
  const failing = new Readable({ read() { this.destroy(new Error('source broke')); } });
  const sink = new PassThrough();
  const err = await new Promise((resolve) => pipeline(failing, sink, resolve));
  check('pipeline error', [err.message, sink.destroyed], ['source broke', true]);
  const premature = new Readable({ read() {} });
  const p = new Promise((resolve) => finished(premature, resolve));
  premature.destroy();
  check('finished premature close', (await p).code, 'ERR_STREAM_PREMATURE_CLOSE');
}

// Async iteration, Readable.from, destroy, errors.
{
  const seen = [];
  for await (const chunk of Readable.from(['a', 'b'])) seen.push(chunk);
  check('async iteration', seen, ['a', 'b']);
  const r = new Readable({ read() { this.push('x'); } });
  for await (const chunk of r) { seen.push(String(chunk)); break; }
  check('break destroys', r.destroyed, true);
  const events = [];
  const e = new Readable({ read() {} });
  e.on('error', (err) => events.push(`error:${err.message}`));
  e.on('close', () => events.push('close'));
  e.destroy(new Error('boom'));
  await tick();
  check('destroy with error', [events, e.errored && e.errored.message, e.destroyed], [['error:boom', 'close'], 'boom', true]);
  check('toArray/map/filter', await Readable.from([1, 2, 3, 4]).filter((n) => n % 2 === 0).map((n) => n * 10).toArray(), [20, 40]);
  check('Readable.from string is one chunk', await Readable.from('whole').toArray(), ['whole']);
  await checkRejects('push after EOF', new Promise((resolve, reject) => {
    const r2 = new Readable({ read() {} });
    r2.on('error', reject);
    r2.push(null);
    r2.push('late');
  }), { code: 'ERR_STREAM_PUSH_AFTER_EOF', message: 'stream.push() after EOF' });
}

// Duplex halves, allowHalfOpen.
{
  const d = new Duplex({
    allowHalfOpen: false,
    read() {},
    write(chunk, enc, cb) { this.push(String(chunk).split('').reverse().join('')); cb(); },
    final(cb) { this.push(null); cb(); },
  });
  d.end('abc');
  check('duplex', (await collect(d)).map(String), ['cba']);
}

// The legacy Stream and util.inherits subclasses (delayed-stream/combined-stream style).
{
  function Legacy() { Stream.call(this); this.readable = true; }
  inherits(Legacy, Stream);
  const src = new Legacy();
  const got = [];
  const dest = new Writable({ write(chunk, enc, cb) { got.push(String(chunk)); cb(); } });
  src.pipe(dest);
  src.emit('data', 'one');
  src.emit('end');
  await new Promise((resolve) => dest.on('finish', resolve));
  check('legacy pipe', got, ['one']);
  function OldReadable(options) { Readable.call(this, options); }
  inherits(OldReadable, Readable);
  OldReadable.prototype._read = function () { this.push('old'); this.push(null); };
  check('Readable.call subclass', (await collect(new OldReadable())).map(String), ['old']);
}
