// WHATWG streams (ReadableStream, WritableStream, TransformStream, the queuing strategies,
// TextEncoderStream/TextDecoderStream): default (not byte/BYOB) readers, with the spec's
// pull, backpressure, tee, pipeTo and async iteration.

import { invalidArgType } from 'bolt:node/internal/errors';
import { TextEncoder, TextDecoder } from 'bolt:node/internal/encoding';

const resolved = (value) => Promise.resolve(value);
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
const typeError = (message) => new TypeError(message);

function sizeAlgorithm(strategy) {
  const size = strategy && strategy.size;
  return typeof size === 'function' ? (chunk) => size(chunk) : () => 1;
}

function highWaterMark(strategy, fallback) {
  const hwm = strategy && strategy.highWaterMark;
  if (hwm === undefined) return fallback;
  const n = Number(hwm);
  if (Number.isNaN(n) || n < 0) throw new RangeError('Invalid highWaterMark');
  return n;
}

export class ByteLengthQueuingStrategy {
  #hwm;
  constructor(init) {
    if (init === null || typeof init !== 'object') throw invalidArgType('init', 'of type object', init);
    this.#hwm = Number(init.highWaterMark);
  }
  get highWaterMark() { return this.#hwm; }
  get size() { return (chunk) => chunk.byteLength; }
  get [Symbol.toStringTag]() { return 'ByteLengthQueuingStrategy'; }
}

export class CountQueuingStrategy {
  #hwm;
  constructor(init) {
    if (init === null || typeof init !== 'object') throw invalidArgType('init', 'of type object', init);
    this.#hwm = Number(init.highWaterMark);
  }
  get highWaterMark() { return this.#hwm; }
  get size() { return () => 1; }
  get [Symbol.toStringTag]() { return 'CountQueuingStrategy'; }
}

// ---- ReadableStream -----------------------------------------------------------------------

const kState = Symbol('state');

class ReadableStreamDefaultController {
  constructor(key) {
    if (key !== kState) throw typeError('Illegal constructor');
  }
  get desiredSize() {
    const s = this[kState];
    if (s.stream[kState].state === 'errored') return null;
    if (s.stream[kState].state === 'closed') return 0;
    return s.hwm - s.queueSize;
  }
  enqueue(chunk) {
    const s = this[kState];
    const stream = s.stream[kState];
    if (s.closeRequested || stream.state !== 'readable') throw typeError('Invalid state: Controller is already closed');
    if (stream.reader && stream.reader[kState].readRequests.length > 0) {
      stream.reader[kState].readRequests.shift().resolve({ value: chunk, done: false });
    } else {
      let size;
      try {
        size = s.size(chunk);
      } catch (e) {
        this.error(e);
        throw e;
      }
      s.queue.push({ chunk, size });
      s.queueSize += size;
    }
    callPullIfNeeded(s);
  }
  close() {
    const s = this[kState];
    if (s.closeRequested || s.stream[kState].state !== 'readable') throw typeError('Invalid state: Controller is already closed');
    s.closeRequested = true;
    if (s.queue.length === 0) closeStream(s.stream);
  }
  error(e) {
    const s = this[kState];
    if (s.stream[kState].state !== 'readable') return;
    s.queue = [];
    s.queueSize = 0;
    errorStream(s.stream, e);
  }
  get byobRequest() { return null; }
  get [Symbol.toStringTag]() { return 'ReadableStreamDefaultController'; }
}

function closeStream(stream) {
  const st = stream[kState];
  if (st.state !== 'readable') return;
  st.state = 'closed';
  const reader = st.reader;
  if (reader) {
    const r = reader[kState];
    for (const request of r.readRequests.splice(0)) request.resolve({ value: undefined, done: true });
    r.closed.resolve();
  }
}

function errorStream(stream, e) {
  const st = stream[kState];
  if (st.state !== 'readable') return;
  st.state = 'errored';
  st.storedError = e;
  const reader = st.reader;
  if (reader) {
    const r = reader[kState];
    for (const request of r.readRequests.splice(0)) request.reject(e);
    r.closed.reject(e);
  }
}

function shouldPull(s) {
  const stream = s.stream[kState];
  if (s.closeRequested || stream.state !== 'readable' || !s.started) return false;
  if (stream.reader && stream.reader[kState].readRequests.length > 0) return true;
  return s.hwm - s.queueSize > 0;
}

function callPullIfNeeded(s) {
  if (!shouldPull(s)) return;
  if (s.pulling) {
    s.pullAgain = true;
    return;
  }
  s.pulling = true;
  let result;
  try {
    result = resolved(s.pull(s.controller));
  } catch (e) {
    result = Promise.reject(e);
  }
  result.then(() => {
    s.pulling = false;
    if (s.pullAgain) {
      s.pullAgain = false;
      callPullIfNeeded(s);
    }
  }, (e) => s.controller.error(e));
}

class ReadableStreamDefaultReader {
  constructor(stream) {
    if (!(stream instanceof ReadableStream)) throw invalidArgType('stream', 'an instance of ReadableStream', stream);
    if (stream[kState].reader) throw typeError('Invalid state: ReadableStream is locked');
    this[kState] = { stream, readRequests: [], closed: deferred() };
    stream[kState].reader = this;
    const state = stream[kState].state;
    if (state === 'closed') this[kState].closed.resolve();
    else if (state === 'errored') this[kState].closed.reject(stream[kState].storedError);
  }

  get closed() { return this[kState].closed.promise; }

  read() {
    const r = this[kState];
    if (!r.stream) return Promise.reject(typeError('The reader is not attached to a stream'));
    const st = r.stream[kState];
    st.disturbed = true;
    if (st.state === 'closed') return resolved({ value: undefined, done: true });
    if (st.state === 'errored') return Promise.reject(st.storedError);
    const s = st.controller[kState];
    if (s.queue.length > 0) {
      const { chunk, size } = s.queue.shift();
      s.queueSize -= size;
      if (s.closeRequested && s.queue.length === 0) closeStream(r.stream);
      else callPullIfNeeded(s);
      return resolved({ value: chunk, done: false });
    }
    const request = deferred();
    r.readRequests.push(request);
    callPullIfNeeded(s);
    return request.promise;
  }

  releaseLock() {
    const r = this[kState];
    if (!r.stream) return;
    const error = typeError('Releasing reader');
    for (const request of r.readRequests.splice(0)) request.reject(error);
    if (r.stream[kState].state === 'readable') r.closed.reject(error);
    else {
      r.closed = deferred();
      r.closed.reject(error);
    }
    r.stream[kState].reader = null;
    r.stream = null;
  }

  cancel(reason) {
    const r = this[kState];
    if (!r.stream) return Promise.reject(typeError('The reader is not attached to a stream'));
    return cancelStream(r.stream, reason);
  }

  get [Symbol.toStringTag]() { return 'ReadableStreamDefaultReader'; }
}

function cancelStream(stream, reason) {
  const st = stream[kState];
  st.disturbed = true;
  if (st.state === 'closed') return resolved();
  if (st.state === 'errored') return Promise.reject(st.storedError);
  closeStream(stream);
  const s = st.controller[kState];
  s.queue = [];
  s.queueSize = 0;
  let result;
  try {
    result = resolved(s.cancel(reason));
  } catch (e) {
    result = Promise.reject(e);
  }
  return result.then(() => undefined);
}

export class ReadableStream {
  constructor(underlyingSource = {}, strategy = {}) {
    if (underlyingSource === null) underlyingSource = {};
    if (underlyingSource.type === 'bytes' && strategy && strategy.size !== undefined) {
      throw new RangeError('The strategy for a byte stream cannot have a size function');
    }
    const isBytes = underlyingSource.type === 'bytes';
    if (underlyingSource.type !== undefined && !isBytes) {
      throw new TypeError(`The argument 'source.type' is invalid. Received '${underlyingSource.type}'`);
    }
    this[kState] = { state: 'readable', reader: null, storedError: undefined, disturbed: false, controller: null };
    const controller = new ReadableStreamDefaultController(kState);
    const s = {
      stream: this,
      controller,
      queue: [],
      queueSize: 0,
      hwm: highWaterMark(strategy, isBytes ? 0 : 1),
      size: isBytes ? (chunk) => chunk.byteLength : sizeAlgorithm(strategy),
      started: false,
      pulling: false,
      pullAgain: false,
      closeRequested: false,
      pull: typeof underlyingSource.pull === 'function' ? (c) => underlyingSource.pull(c) : () => undefined,
      cancel: typeof underlyingSource.cancel === 'function' ? (r) => underlyingSource.cancel(r) : () => undefined,
    };
    controller[kState] = s;
    this[kState].controller = controller;
    const start = typeof underlyingSource.start === 'function' ? underlyingSource.start(controller) : undefined;
    resolved(start).then(() => {
      s.started = true;
      callPullIfNeeded(s);
    }, (e) => controller.error(e));
  }

  get locked() { return this[kState].reader !== null; }

  getReader(options = {}) {
    if (options && options.mode === 'byob') {
      throw new TypeError('bolt: ReadableStream BYOB readers are not available');
    }
    return new ReadableStreamDefaultReader(this);
  }

  cancel(reason) {
    if (this.locked) return Promise.reject(typeError('Invalid state: ReadableStream is locked'));
    return cancelStream(this, reason);
  }

  tee() {
    const reader = this.getReader();
    let canceled = [false, false];
    let reasons = [undefined, undefined];
    const cancelDone = deferred();
    let controllers = [];
    let reading = false;
    const pull = () => {
      if (reading) return resolved();
      reading = true;
      return reader.read().then(({ value, done }) => {
        reading = false;
        if (done) {
          controllers.forEach((c, i) => { if (!canceled[i]) c.close(); });
          cancelDone.resolve();
          return;
        }
        controllers.forEach((c, i) => { if (!canceled[i]) c.enqueue(value); });
      }, (e) => {
        reading = false;
        controllers.forEach((c) => c.error(e));
        cancelDone.resolve();
      });
    };
    const branch = (i) => new ReadableStream({
      start(c) { controllers[i] = c; },
      pull,
      cancel(reason) {
        canceled[i] = true;
        reasons[i] = reason;
        if (canceled[0] && canceled[1]) {
          reader.cancel(reasons).then(cancelDone.resolve, cancelDone.reject);
        }
        return cancelDone.promise;
      },
    });
    return [branch(0), branch(1)];
  }

  async pipeTo(destination, options = {}) {
    if (!(destination instanceof WritableStream)) {
      throw invalidArgType('transform.writable', 'an instance of WritableStream', destination);
    }
    const { preventClose = false, preventAbort = false, preventCancel = false, signal } = options || {};
    const reader = this.getReader();
    const writer = destination.getWriter();
    let abortListener;
    const aborted = new Promise((_, reject) => {
      if (!signal) return;
      abortListener = () => reject(signal.reason);
      if (signal.aborted) abortListener();
      else signal.addEventListener('abort', abortListener, { once: true });
    });
    aborted.catch(() => {});
    try {
      while (true) {
        await Promise.race([writer.ready, aborted]);
        const { value, done } = await Promise.race([reader.read(), aborted]);
        if (done) break;
        writer.write(value).catch(() => {});
      }
      if (!preventClose) await writer.close();
    } catch (error) {
      const fromSource = this[kState].state === 'errored';
      if (fromSource) {
        if (!preventAbort) await writer.abort(error).catch(() => {});
      } else {
        if (!preventCancel) await reader.cancel(error).catch(() => {});
        if (signal && signal.aborted && !preventAbort) await writer.abort(error).catch(() => {});
      }
      throw error;
    } finally {
      if (signal && abortListener) signal.removeEventListener('abort', abortListener);
      reader.releaseLock();
      writer.releaseLock();
    }
  }

  pipeThrough(transform, options = {}) {
    if (!transform || !(transform.readable instanceof ReadableStream)) {
      throw invalidArgType('transform.readable', 'an instance of ReadableStream', transform && transform.readable);
    }
    const promise = this.pipeTo(transform.writable, options);
    promise.catch(() => {});
    return transform.readable;
  }

  values(options = {}) {
    const reader = this.getReader();
    const preventCancel = Boolean(options && options.preventCancel);
    return {
      next() {
        return reader.read().then((result) => {
          if (result.done) reader.releaseLock();
          return result;
        });
      },
      return(value) {
        if (!preventCancel) {
          const cancelled = reader.cancel(value);
          reader.releaseLock();
          return cancelled.then(() => ({ value, done: true }));
        }
        reader.releaseLock();
        return resolved({ value, done: true });
      },
      [Symbol.asyncIterator]() { return this; },
    };
  }

  [Symbol.asyncIterator](options) { return this.values(options); }

  static from(iterable) {
    if (iterable instanceof ReadableStream) return iterable;
    const iterator = typeof iterable[Symbol.asyncIterator] === 'function'
      ? iterable[Symbol.asyncIterator]()
      : typeof iterable[Symbol.iterator] === 'function' ? iterable[Symbol.iterator]() : null;
    if (!iterator) throw invalidArgType('iterable', 'an instance of Iterable or AsyncIterable', iterable);
    return new ReadableStream({
      async pull(controller) {
        const { value, done } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(await value);
      },
      async cancel(reason) {
        if (typeof iterator.return === 'function') await iterator.return(reason);
      },
    }, { highWaterMark: 0 });
  }

  get [Symbol.toStringTag]() { return 'ReadableStream'; }
}

/** Whether `stream`'s content was read from (the web streams' "disturbed" flag). */
export function isDisturbed(stream) {
  return stream[kState].disturbed;
}

// ---- WritableStream -----------------------------------------------------------------------

class WritableStreamDefaultController {
  constructor(key) {
    if (key !== kState) throw typeError('Illegal constructor');
  }
  error(e) {
    const s = this[kState];
    if (s.stream[kState].state !== 'writable') return;
    s.erroring(e);
  }
  get signal() { return this[kState].abortController.signal; }
  get [Symbol.toStringTag]() { return 'WritableStreamDefaultController'; }
}

class WritableStreamDefaultWriter {
  constructor(stream) {
    if (!(stream instanceof WritableStream)) throw invalidArgType('stream', 'an instance of WritableStream', stream);
    if (stream[kState].writer) throw typeError('Invalid state: WritableStream is locked');
    stream[kState].writer = this;
    this[kState] = { stream };
  }
  get closed() { return this[kState].stream ? this[kState].stream[kState].closed.promise : Promise.reject(typeError('Writer released')); }
  get ready() { return this[kState].stream ? this[kState].stream[kState].ready.promise : Promise.reject(typeError('Writer released')); }
  get desiredSize() {
    const stream = this[kState].stream;
    if (!stream) throw typeError('Writer released');
    const st = stream[kState];
    if (st.state === 'errored' || st.state === 'erroring') return null;
    if (st.state === 'closed') return 0;
    return st.hwm - st.queueSize;
  }
  write(chunk) {
    const stream = this[kState].stream;
    if (!stream) return Promise.reject(typeError('Writer released'));
    return stream[kState].write(chunk);
  }
  close() {
    const stream = this[kState].stream;
    if (!stream) return Promise.reject(typeError('Writer released'));
    return stream[kState].close();
  }
  abort(reason) {
    const stream = this[kState].stream;
    if (!stream) return Promise.reject(typeError('Writer released'));
    return stream[kState].abort(reason);
  }
  releaseLock() {
    const stream = this[kState].stream;
    if (!stream) return;
    stream[kState].writer = null;
    this[kState].stream = null;
  }
  get [Symbol.toStringTag]() { return 'WritableStreamDefaultWriter'; }
}

export class WritableStream {
  constructor(underlyingSink = {}, strategy = {}) {
    if (underlyingSink === null) underlyingSink = {};
    const controller = new WritableStreamDefaultController(kState);
    const size = sizeAlgorithm(strategy);
    const st = {
      state: 'writable',
      writer: null,
      storedError: undefined,
      hwm: highWaterMark(strategy, 1),
      queueSize: 0,
      closed: deferred(),
      ready: deferred(),
      chain: resolved(),
      closing: false,
    };
    this[kState] = st;
    st.ready.resolve();
    const abortController = { signal: makeSignal() };
    controller[kState] = {
      stream: this,
      abortController,
      erroring: (e) => fail(e),
    };
    // `ready` waits while the queue is at or above the high-water mark.
    st.backpressure = false;
    const updateReady = () => {
      if (st.state !== 'writable') return;
      const full = st.hwm - st.queueSize <= 0;
      if (full && !st.backpressure) {
        st.backpressure = true;
        st.ready = deferred();
      } else if (!full && st.backpressure) {
        st.backpressure = false;
        st.ready.resolve();
      }
    };
    const fail = (e) => {
      if (st.state === 'errored') return;
      st.state = 'errored';
      st.storedError = e;
      st.closed.reject(e);
      st.ready = deferred();
      st.ready.reject(e);
    };
    const started = resolved(typeof underlyingSink.start === 'function' ? underlyingSink.start(controller) : undefined);
    started.catch((e) => fail(e));
    st.chain = started;
    st.write = (chunk) => {
      if (st.state === 'errored') return Promise.reject(st.storedError);
      if (st.closing || st.state === 'closed') return Promise.reject(typeError('Invalid state: WritableStream is closed'));
      let chunkSize = 1;
      try { chunkSize = size(chunk); } catch (e) { fail(e); return Promise.reject(e); }
      st.queueSize += chunkSize;
      updateReady();
      const done = st.chain.then(() => {
        if (st.state === 'errored') throw st.storedError;
        return typeof underlyingSink.write === 'function' ? underlyingSink.write(chunk, controller) : undefined;
      }).then(() => {
        st.queueSize -= chunkSize;
        updateReady();
      }, (e) => {
        fail(e);
        throw e;
      });
      st.chain = done.catch(() => {});
      return done;
    };
    st.close = () => {
      if (st.state === 'errored') return Promise.reject(st.storedError);
      if (st.closing || st.state === 'closed') return Promise.reject(typeError('Invalid state: WritableStream is closed'));
      st.closing = true;
      const done = st.chain.then(() => {
        if (st.state === 'errored') throw st.storedError;
        return typeof underlyingSink.close === 'function' ? underlyingSink.close() : undefined;
      }).then(() => {
        st.state = 'closed';
        st.closed.resolve();
      }, (e) => {
        fail(e);
        throw e;
      });
      st.chain = done.catch(() => {});
      return done;
    };
    st.abort = (reason) => {
      if (st.state === 'closed' || st.state === 'errored') return resolved();
      abortController.signal.__abort(reason);
      fail(reason);
      return resolved(typeof underlyingSink.abort === 'function' ? underlyingSink.abort(reason) : undefined).then(() => undefined);
    };
  }
  get locked() { return this[kState].writer !== null; }
  getWriter() { return new WritableStreamDefaultWriter(this); }
  abort(reason) {
    if (this.locked) return Promise.reject(typeError('Invalid state: WritableStream is locked'));
    return this[kState].abort(reason);
  }
  close() {
    if (this.locked) return Promise.reject(typeError('Invalid state: WritableStream is locked'));
    return this[kState].close();
  }
  get [Symbol.toStringTag]() { return 'WritableStream'; }
}

// The controller's `signal` without depending on the global AbortController.
function makeSignal() {
  const listeners = [];
  const signal = {
    aborted: false,
    reason: undefined,
    addEventListener(type, fn) { if (type === 'abort') listeners.push(fn); },
    removeEventListener(type, fn) {
      const at = listeners.indexOf(fn);
      if (at >= 0) listeners.splice(at, 1);
    },
    throwIfAborted() { if (signal.aborted) throw signal.reason; },
    __abort(reason) {
      if (signal.aborted) return;
      signal.aborted = true;
      signal.reason = reason;
      for (const fn of listeners.splice(0)) fn({ type: 'abort' });
    },
  };
  return signal;
}

// ---- TransformStream ----------------------------------------------------------------------

class TransformStreamDefaultController {
  constructor(key) {
    if (key !== kState) throw typeError('Illegal constructor');
  }
  get desiredSize() { return this[kState].readableController.desiredSize; }
  enqueue(chunk) { this[kState].readableController.enqueue(chunk); }
  error(reason) {
    this[kState].readableController.error(reason);
    this[kState].errorWritable(reason);
  }
  terminate() {
    try { this[kState].readableController.close(); } catch (_) { /* already closed */ }
    this[kState].errorWritable(typeError('Invalid state: TransformStream has been terminated'));
  }
  get [Symbol.toStringTag]() { return 'TransformStreamDefaultController'; }
}

export class TransformStream {
  #readable;
  #writable;
  constructor(transformer = {}, writableStrategy = {}, readableStrategy = {}) {
    if (transformer === null) transformer = {};
    const controller = new TransformStreamDefaultController(kState);
    let readableController;
    let writableController;
    let backpressure = deferred();
    backpressure.resolve();
    this.#readable = new ReadableStream({
      start(c) { readableController = c; },
      pull() {
        backpressure.resolve();
      },
      cancel(reason) {
        if (typeof transformer.cancel === 'function') return transformer.cancel(reason);
        return undefined;
      },
    }, readableStrategy && readableStrategy.highWaterMark !== undefined ? readableStrategy : { highWaterMark: 0 });
    const started = deferred();
    this.#writable = new WritableStream({
      start(c) {
        writableController = c;
        return started.promise;
      },
      async write(chunk) {
        await backpressure.promise;
        if (typeof transformer.transform === 'function') await transformer.transform(chunk, controller);
        else controller.enqueue(chunk);
        // Backpressure, as the spec has it: the readable side wants no more (no pending
        // read and a full queue).
        if (!shouldPull(readableController[kState])) backpressure = deferred();
      },
      async close() {
        if (typeof transformer.flush === 'function') await transformer.flush(controller);
        try { readableController.close(); } catch (_) { /* terminated */ }
      },
      abort(reason) {
        readableController.error(reason);
      },
    }, writableStrategy);
    controller[kState] = {
      readableController,
      errorWritable: (e) => writableController && writableController.error(e),
    };
    resolved(typeof transformer.start === 'function' ? transformer.start(controller) : undefined)
      .then(started.resolve, started.reject);
  }
  get readable() { return this.#readable; }
  get writable() { return this.#writable; }
  get [Symbol.toStringTag]() { return 'TransformStream'; }
}

export class TextEncoderStream {
  #stream;
  constructor() {
    const encoder = new TextEncoder();
    this.#stream = new TransformStream({
      transform(chunk, controller) {
        const bytes = encoder.encode(String(chunk));
        if (bytes.length) controller.enqueue(bytes);
      },
    });
  }
  get encoding() { return 'utf-8'; }
  get readable() { return this.#stream.readable; }
  get writable() { return this.#stream.writable; }
  get [Symbol.toStringTag]() { return 'TextEncoderStream'; }
}

export class TextDecoderStream {
  #stream;
  #decoder;
  constructor(label = 'utf-8', options = {}) {
    const decoder = new TextDecoder(label, options);
    this.#decoder = decoder;
    this.#stream = new TransformStream({
      transform(chunk, controller) {
        const text = decoder.decode(chunk, { stream: true });
        if (text) controller.enqueue(text);
      },
      flush(controller) {
        const text = decoder.decode();
        if (text) controller.enqueue(text);
      },
    });
  }
  get encoding() { return this.#decoder.encoding; }
  get fatal() { return this.#decoder.fatal; }
  get ignoreBOM() { return this.#decoder.ignoreBOM; }
  get readable() { return this.#stream.readable; }
  get writable() { return this.#stream.writable; }
  get [Symbol.toStringTag]() { return 'TextDecoderStream'; }
}

export { ReadableStreamDefaultReader, ReadableStreamDefaultController, WritableStreamDefaultWriter,
  WritableStreamDefaultController, TransformStreamDefaultController };
