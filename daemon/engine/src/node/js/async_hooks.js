// node:async_hooks without engine hooks: AsyncResource runs callbacks directly, createHook
// is inert, and AsyncLocalStorage keeps its store for the synchronous part of `run` (and
// after `enterWith`); QuickJS gives no way to carry it across `await`.

export class AsyncResource {
  constructor(type) { this.type = type; }
  runInAsyncScope(fn, thisArg, ...args) { return Reflect.apply(fn, thisArg, args); }
  emitDestroy() { return this; }
  asyncId() { return 1; }
  triggerAsyncId() { return 0; }
  bind(fn, thisArg) { return thisArg === undefined ? fn : fn.bind(thisArg); }
  static bind(fn, type, thisArg) { return new AsyncResource(type || 'bound-anonymous-fn').bind(fn, thisArg); }
}

export class AsyncLocalStorage {
  #store = undefined;
  #enabled = false;
  static bind(fn) { return fn; }
  static snapshot() { return (fn, ...args) => fn(...args); }
  disable() { this.#enabled = false; this.#store = undefined; }
  getStore() { return this.#enabled ? this.#store : undefined; }
  enterWith(store) { this.#enabled = true; this.#store = store; }
  run(store, callback, ...args) {
    const previous = [this.#enabled, this.#store];
    this.#enabled = true;
    this.#store = store;
    try {
      return callback(...args);
    } finally {
      [this.#enabled, this.#store] = previous;
    }
  }
  exit(callback, ...args) {
    const previous = [this.#enabled, this.#store];
    this.#enabled = false;
    try {
      return callback(...args);
    } finally {
      [this.#enabled, this.#store] = previous;
    }
  }
}

export const createHook = () => ({ enable() { return this; }, disable() { return this; } });
export const executionAsyncId = () => 1;
export const triggerAsyncId = () => 0;
export const executionAsyncResource = () => ({});
export const asyncWrapProviders = Object.freeze({});

export default {
  AsyncResource, AsyncLocalStorage, createHook, executionAsyncId, triggerAsyncId, executionAsyncResource,
  asyncWrapProviders,
};
