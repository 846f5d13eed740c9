// node:diagnostics_channel: named channels with subscribers, as in Node (nothing in bolt
// publishes to Node's own channels).

import { validateFunction } from 'bolt:node/internal/errors';

const channels = new Map();

export class Channel {
  constructor(name) {
    this.name = name;
    this._subscribers = [];
    this._stores = new Map();
  }
  get hasSubscribers() { return this._subscribers.length > 0 || this._stores.size > 0; }
  subscribe(subscription) {
    validateFunction(subscription, 'subscription');
    this._subscribers.push(subscription);
  }
  unsubscribe(subscription) {
    const at = this._subscribers.indexOf(subscription);
    if (at < 0) return false;
    this._subscribers.splice(at, 1);
    return true;
  }
  publish(data) {
    for (const subscriber of this._subscribers.slice()) {
      try {
        subscriber(data, this.name);
      } catch (error) {
        Promise.resolve().then(() => { throw error; });
      }
    }
  }
  bindStore(store, transform) { this._stores.set(store, transform); }
  unbindStore(store) { return this._stores.delete(store); }
  runStores(data, fn, thisArg, ...args) {
    this.publish(data);
    return Reflect.apply(fn, thisArg, args);
  }
}

export function channel(name) {
  let found = channels.get(name);
  if (!found) {
    found = new Channel(name);
    channels.set(name, found);
  }
  return found;
}

export const hasSubscribers = (name) => channels.has(name) && channels.get(name).hasSubscribers;
export const subscribe = (name, fn) => channel(name).subscribe(fn);
export const unsubscribe = (name, fn) => channel(name).unsubscribe(fn);

export function tracingChannel(nameOrChannels) {
  const make = (event) => (typeof nameOrChannels === 'string' ? channel(`tracing:${nameOrChannels}:${event}`) : nameOrChannels[event]);
  const tc = {
    start: make('start'), end: make('end'), asyncStart: make('asyncStart'), asyncEnd: make('asyncEnd'), error: make('error'),
    get hasSubscribers() { return ['start', 'end', 'asyncStart', 'asyncEnd', 'error'].some((e) => tc[e].hasSubscribers); },
    subscribe(handlers) { for (const [e, fn] of Object.entries(handlers)) tc[e].subscribe(fn); },
    unsubscribe(handlers) { return Object.entries(handlers).every(([e, fn]) => tc[e].unsubscribe(fn)); },
    traceSync(fn, context = {}, thisArg, ...args) {
      tc.start.publish(context);
      try {
        const result = Reflect.apply(fn, thisArg, args);
        context.result = result;
        return result;
      } catch (error) {
        context.error = error;
        tc.error.publish(context);
        throw error;
      } finally {
        tc.end.publish(context);
      }
    },
    tracePromise(fn, context = {}, thisArg, ...args) {
      tc.start.publish(context);
      try {
        return Promise.resolve(Reflect.apply(fn, thisArg, args)).then((result) => {
          context.result = result;
          tc.asyncStart.publish(context);
          tc.asyncEnd.publish(context);
          return result;
        }, (error) => {
          context.error = error;
          tc.error.publish(context);
          tc.asyncStart.publish(context);
          tc.asyncEnd.publish(context);
          throw error;
        });
      } finally {
        tc.end.publish(context);
      }
    },
    traceCallback(fn, position = -1, context = {}, thisArg, ...args) {
      const callback = args.at(position);
      args.splice(position < 0 ? args.length + position : position, 1, function (err, result) {
        if (err) {
          context.error = err;
          tc.error.publish(context);
        } else {
          context.result = result;
        }
        tc.asyncStart.publish(context);
        try {
          return Reflect.apply(callback, this, arguments);
        } finally {
          tc.asyncEnd.publish(context);
        }
      });
      return tc.traceSync(fn, context, thisArg, ...args);
    },
  };
  return tc;
}

export default { channel, hasSubscribers, subscribe, unsubscribe, tracingChannel, Channel };
