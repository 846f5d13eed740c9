// node:timers over bolt's step timers (the prelude's setTimeout, which the step's deadline
// bounds): Node's Timeout and Immediate objects (ref/unref/hasRef/refresh/close and a
// numeric primitive), setImmediate, and the microtask queue behind process.nextTick and
// queueMicrotask.

import { AbortError, invalidArgType, validateFunction } from 'bolt:node/internal/errors';
import { print } from 'bolt:node/internal/host';
import { formatArgs } from '@openfn/language-common/internal/inspect';

// Taken when the module loads, before job code runs: later replacements don't reach here.
const hostSetTimeout = globalThis.setTimeout;
const hostClearTimeout = globalThis.clearTimeout;
const resolved = Promise.resolve();

const MAX_DELAY = 2 ** 31 - 1;
function delayOf(ms) {
  const n = Number(ms);
  return !(n >= 1 && n <= MAX_DELAY) ? 1 : n;
}

const kId = Symbol('id');
const timersById = new Map();

export class Timeout {
  constructor(callback, after, args, repeat) {
    this._idleTimeout = after;
    this._onTimeout = callback;
    this._timerArgs = args;
    this._repeat = repeat ? after : null;
    this._destroyed = false;
    this[kId] = undefined;
    this._ref = true;
    this._arm();
  }
  _arm() {
    const fire = () => {
      if (this._destroyed) return;
      if (this._repeat !== null) this._arm();
      else this._clear();
      try {
        this._onTimeout(...this._timerArgs);
      } catch (error) {
        reportError(error);
      }
    };
    this[kId] = hostSetTimeout(fire, this._idleTimeout);
    timersById.set(this[kId], this);
  }
  _clear() {
    if (this[kId] !== undefined) {
      hostClearTimeout(this[kId]);
      timersById.delete(this[kId]);
    }
  }
  refresh() {
    if (!this._destroyed) {
      this._clear();
      this._arm();
    }
    return this;
  }
  close() {
    this._destroyed = true;
    this._clear();
    return this;
  }
  ref() { this._ref = true; return this; }
  unref() { this._ref = false; return this; }
  hasRef() { return this._ref; }
  [Symbol.toPrimitive]() { return this[kId]; }
}

function reportError(error) {
  print('error', formatArgs(['Uncaught', error]));
}

export function setTimeout(callback, after, ...args) {
  validateFunction(callback, 'callback');
  return new Timeout(callback, delayOf(after), args, false);
}

export function setInterval(callback, repeat, ...args) {
  validateFunction(callback, 'callback');
  return new Timeout(callback, delayOf(repeat), args, true);
}

function clear(timer) {
  if (timer instanceof Timeout) {
    timer.close();
    return;
  }
  if (timer instanceof Immediate) {
    timer._destroyed = true;
    return;
  }
  if (typeof timer === 'number' || typeof timer === 'string') {
    const found = timersById.get(Number(timer));
    if (found) found.close();
    else hostClearTimeout(Number(timer));
  }
}
export const clearTimeout = (timer) => clear(timer);
export const clearInterval = (timer) => clear(timer);

export class Immediate {
  constructor(callback, args) {
    this._onImmediate = callback;
    this._argv = args;
    this._destroyed = false;
    this._ref = true;
    hostSetTimeout(() => {
      if (this._destroyed) return;
      this._destroyed = true;
      try {
        callback(...args);
      } catch (error) {
        reportError(error);
      }
    }, 0);
  }
  ref() { this._ref = true; return this; }
  unref() { this._ref = false; return this; }
  hasRef() { return this._ref; }
}

export function setImmediate(callback, ...args) {
  validateFunction(callback, 'callback');
  return new Immediate(callback, args);
}
export const clearImmediate = (immediate) => clear(immediate);

// ---- microtasks --------------------------------------------------------------------------
// One queue, drained in one promise job, so ticks run in order and before later promises.
const ticks = [];
let draining = false;
function drain() {
  draining = false;
  while (ticks.length) {
    const [callback, args] = ticks.shift();
    try {
      callback(...args);
    } catch (error) {
      reportError(error);
    }
  }
}

/** process.nextTick */
export function nextTick(callback, ...args) {
  validateFunction(callback, 'callback');
  ticks.push([callback, args]);
  if (!draining) {
    draining = true;
    resolved.then(drain);
  }
}

/** The global queueMicrotask. */
export function queueMicrotask(callback) {
  if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
  resolved.then(() => {
    try {
      callback();
    } catch (error) {
      reportError(error);
    }
  });
}

// ---- node:timers/promises (also `timers.promises`) ---------------------------------------

function abortable(signal, start) {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    return Promise.reject(invalidArgType('options.signal', 'an instance of AbortSignal', signal));
  }
  if (signal && signal.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    let cancel = () => {};
    const onAbort = () => {
      cancel();
      reject(new AbortError(undefined, { cause: signal.reason }));
    };
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    cancel = start((value) => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve(value);
    });
  });
}

export const promises = {
  setTimeout(delay, value, options = {}) {
    return abortable(options && options.signal, (done) => {
      const timer = setTimeout(() => done(value), delay);
      return () => timer.close();
    });
  },
  setImmediate(value, options = {}) {
    return abortable(options && options.signal, (done) => {
      const immediate = setImmediate(() => done(value));
      return () => { immediate._destroyed = true; };
    });
  },
  async *setInterval(delay, value, options = {}) {
    const signal = options && options.signal;
    if (signal && signal.aborted) throw new AbortError(undefined, { cause: signal.reason });
    let pending = 0;
    let wake = null;
    const timer = setInterval(() => {
      pending++;
      if (wake) { wake(); wake = null; }
    }, delay);
    let aborted = false;
    const onAbort = () => { aborted = true; if (wake) { wake(); wake = null; } };
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (true) {
        if (aborted) throw new AbortError(undefined, { cause: signal.reason });
        if (pending === 0) await new Promise((resolve) => { wake = resolve; });
        if (aborted) throw new AbortError(undefined, { cause: signal.reason });
        if (pending > 0) {
          pending--;
          yield value;
        }
      }
    } finally {
      timer.close();
      if (signal) signal.removeEventListener('abort', onAbort);
    }
  },
  scheduler: {
    wait(delay, options) { return promises.setTimeout(delay, undefined, options); },
    yield() { return promises.setImmediate(); },
  },
};
setTimeout[Symbol.for('nodejs.util.promisify.custom')] = promises.setTimeout;
setImmediate[Symbol.for('nodejs.util.promisify.custom')] = promises.setImmediate;

export default {
  setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, promises,
};
