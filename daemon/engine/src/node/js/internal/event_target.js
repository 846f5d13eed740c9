// Event, EventTarget, AbortController and AbortSignal as Node has them (WHATWG DOM events
// without a tree: no capture or bubbling phases beyond the target itself).

import { invalidArgType, validateInteger } from 'bolt:node/internal/errors';
import { print } from 'bolt:node/internal/host';
import { formatArgs } from '@openfn/language-common/internal/inspect';
import { setTimeout as nodeSetTimeout } from 'node:timers';

const kStop = Symbol('stop');
const kTrusted = Symbol('trusted');

export class Event {
  #type;
  #cancelable;
  #bubbles;
  #composed;
  #defaultPrevented = false;
  #timeStamp = Date.now();
  #target = null;
  #currentTarget = null;
  #phase = 0;

  constructor(type, options = {}) {
    if (arguments.length === 0) throw invalidArgType('type', 'of type string', undefined);
    if (options !== null && options !== undefined && typeof options !== 'object') {
      throw invalidArgType('options', 'of type object', options);
    }
    this.#type = `${type}`;
    this.#cancelable = Boolean(options && options.cancelable);
    this.#bubbles = Boolean(options && options.bubbles);
    this.#composed = Boolean(options && options.composed);
    this[kStop] = false;
    Object.defineProperty(this, 'isTrusted', { get: () => this[kTrusted] === true, enumerable: true });
  }

  get type() { return this.#type; }
  get cancelable() { return this.#cancelable; }
  get bubbles() { return this.#bubbles; }
  get composed() { return this.#composed; }
  get defaultPrevented() { return this.#cancelable && this.#defaultPrevented; }
  get returnValue() { return !this.defaultPrevented; }
  get timeStamp() { return this.#timeStamp; }
  get target() { return this.#target; }
  get currentTarget() { return this.#currentTarget; }
  get srcElement() { return this.#target; }
  get eventPhase() { return this.#phase; }
  get cancelBubble() { return this[kStop]; }
  set cancelBubble(value) { if (value) this[kStop] = true; }
  composedPath() { return this.#phase === 0 ? [] : [this.#currentTarget]; }
  preventDefault() { this.#defaultPrevented = true; }
  stopPropagation() { this[kStop] = true; }
  stopImmediatePropagation() { this[kStop] = 'immediate'; }

  /** For EventTarget: the dispatch bookkeeping. */
  static __dispatching(event, target, phase) {
    event.#target = target;
    event.#currentTarget = phase ? target : null;
    event.#phase = phase;
  }

  get [Symbol.toStringTag]() { return 'Event'; }
}
Object.assign(Event, { NONE: 0, CAPTURING_PHASE: 1, AT_TARGET: 2, BUBBLING_PHASE: 3 });

function reportListenerError(error) {
  print('error', formatArgs(['Uncaught', error]));
}

export class EventTarget {
  #listeners = new Map();

  addEventListener(type, listener, options = {}) {
    if (listener === null || listener === undefined) return;
    if (typeof listener !== 'function' && (typeof listener !== 'object' || typeof listener.handleEvent !== 'function')) {
      throw invalidArgType('listener', 'an instance of EventListener', listener);
    }
    const opts = typeof options === 'boolean' ? { capture: options } : options || {};
    const capture = Boolean(opts.capture);
    const signal = opts.signal;
    if (signal && signal.aborted) return;
    type = `${type}`;
    let list = this.#listeners.get(type);
    if (!list) {
      list = [];
      this.#listeners.set(type, list);
    }
    if (list.some((entry) => entry.listener === listener && entry.capture === capture)) return;
    const entry = { listener, capture, once: Boolean(opts.once), passive: Boolean(opts.passive), removed: false };
    list.push(entry);
    if (signal) {
      signal.addEventListener('abort', () => this.removeEventListener(type, listener, { capture }), { once: true });
    }
  }

  removeEventListener(type, listener, options = {}) {
    const capture = typeof options === 'boolean' ? options : Boolean(options && options.capture);
    const list = this.#listeners.get(`${type}`);
    if (!list) return;
    const index = list.findIndex((entry) => entry.listener === listener && entry.capture === capture);
    if (index >= 0) {
      list[index].removed = true;
      list.splice(index, 1);
    }
  }

  dispatchEvent(event) {
    if (!(event instanceof Event)) throw invalidArgType('event', 'an instance of Event', event);
    Event.__dispatching(event, this, 2);
    const list = this.#listeners.get(event.type);
    if (list) {
      for (const entry of list.slice()) {
        if (entry.removed) continue;
        if (entry.once) this.removeEventListener(event.type, entry.listener, { capture: entry.capture });
        try {
          const result = typeof entry.listener === 'function'
            ? entry.listener.call(this, event)
            : entry.listener.handleEvent(event);
          if (result && typeof result.then === 'function') result.then(undefined, reportListenerError);
        } catch (error) {
          reportListenerError(error);
        }
        if (event[kStop] === 'immediate') break;
      }
    }
    Event.__dispatching(event, this, 0);
    return !event.defaultPrevented;
  }

  /** Listeners of `type`, for events.getEventListeners. */
  __boltListeners(type) {
    return (this.#listeners.get(`${type}`) || []).map((entry) => entry.listener);
  }

  get [Symbol.toStringTag]() { return 'EventTarget'; }
}

const kCreating = Symbol('creating');
let creating = false;

function abortReason(reason) {
  return reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
}

export class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  #onabort = null;

  constructor(key) {
    if (key !== kCreating || !creating) throw new TypeError('Illegal constructor');
    super();
  }

  static #create() {
    creating = true;
    try { return new AbortSignal(kCreating); } finally { creating = false; }
  }

  static __create() { return AbortSignal.#create(); }

  get aborted() { return this.#aborted; }
  get reason() { return this.#reason; }
  get onabort() { return this.#onabort; }
  set onabort(handler) {
    if (this.#onabort) this.removeEventListener('abort', this.#onabort);
    this.#onabort = typeof handler === 'function' ? handler : null;
    if (this.#onabort) this.addEventListener('abort', this.#onabort);
  }

  throwIfAborted() {
    if (this.#aborted) throw this.#reason;
  }

  /** Aborts this signal (AbortController.abort, timeouts, AbortSignal.any). */
  __abort(reason) {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = abortReason(reason);
    const event = new Event('abort');
    event[kTrusted] = true;
    this.dispatchEvent(event);
  }

  static abort(reason) {
    const signal = AbortSignal.#create();
    signal.#aborted = true;
    signal.#reason = abortReason(reason);
    return signal;
  }

  static timeout(delay) {
    validateInteger(delay, 'delay', 0, Number.MAX_SAFE_INTEGER);
    const signal = AbortSignal.#create();
    nodeSetTimeout(() => signal.__abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), delay).unref();
    return signal;
  }

  static any(signals) {
    const signal = AbortSignal.#create();
    for (const source of signals) {
      if (source.aborted) {
        signal.#aborted = true;
        signal.#reason = source.reason;
        return signal;
      }
    }
    for (const source of signals) {
      source.addEventListener('abort', () => signal.__abort(source.reason), { once: true });
    }
    return signal;
  }

  get [Symbol.toStringTag]() { return 'AbortSignal'; }
}

export class AbortController {
  #signal = AbortSignal.__create();
  get signal() { return this.#signal; }
  abort(reason) { this.#signal.__abort(reason); }
  get [Symbol.toStringTag]() { return 'AbortController'; }
}
