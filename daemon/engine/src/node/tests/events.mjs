import events, { EventEmitter, once, on, errorMonitor, getEventListeners, setMaxListeners } from 'node:events';
import EE2 from 'events';

check('default export is the class', events === EventEmitter && EE2 === EventEmitter && events.EventEmitter === EventEmitter, true);
check('statics', [typeof events.once, typeof events.on, events.defaultMaxListeners, typeof events.errorMonitor], ['function', 'function', 10, 'symbol']);

const e = new EventEmitter();
const seen = [];
e.on('x', (a, b) => seen.push(['on', a, b]));
e.prependListener('x', () => seen.push(['first']));
e.once('x', () => seen.push(['once']));
check('emit returns true with listeners', e.emit('x', 1, 2), true);
e.emit('x', 3, 4);
check('order, once, prepend', seen, [['first'], ['on', 1, 2], ['once'], ['first'], ['on', 3, 4]]);
check('emit without listeners', e.emit('nothing'), false);
check('listenerCount', [e.listenerCount('x'), EventEmitter.listenerCount(e, 'x'), e.listenerCount('y')], [2, 2, 0]);
check('eventNames', e.eventNames(), ['x']);

// removeListener finds once-wrappers by the original function; rawListeners keeps the wrapper.
const f = () => {};
e.once('y', f);
check('listeners unwraps once', e.listeners('y')[0] === f, true);
check('rawListeners keeps the wrapper', e.rawListeners('y')[0] === f, false);
e.removeListener('y', f);
check('removed once listener', e.listenerCount('y'), 0);

// newListener / removeListener events.
const meta = [];
const m = new EventEmitter();
m.on('newListener', (name) => meta.push(`new:${String(name)}`));
m.on('removeListener', (name) => meta.push(`rm:${String(name)}`));
const g = () => {};
m.on('a', g);
m.off('a', g);
m.removeAllListeners();
check('meta events', meta, ['new:removeListener', 'new:a', 'rm:a', 'rm:newListener']);

// 'error' without a listener throws; errorMonitor sees it first.
const err = new Error('boom');
const monitored = [];
const n = new EventEmitter();
n.on(errorMonitor, (x) => monitored.push(x.message));
checkThrows('unhandled error', () => n.emit('error', err), { message: 'boom' });
check('errorMonitor', monitored, ['boom']);
checkThrows('unhandled non-error', () => n.emit('error', 'text'), {
  name: 'Error', code: 'ERR_UNHANDLED_ERROR', message: "Unhandled error. ('text')",
});
checkThrows('listener must be a function', () => n.on('a', 1), {
  name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE',
  message: 'The "listener" argument must be of type function. Received type number (1)',
});

// The internals older libraries read.
const r = new EventEmitter();
r.on('a', f);
check('_events holds one function', typeof r._events.a, 'function');
r.on('a', g);
check('_events holds an array for two', Array.isArray(r._events.a), true);
check('_eventsCount', r._eventsCount, 1);

// util.inherits-style subclassing: EventEmitter.call(this).
function Legacy() { EventEmitter.call(this); this.legacy = true; }
Object.setPrototypeOf(Legacy.prototype, EventEmitter.prototype);
const legacy = new Legacy();
let heard;
legacy.on('ping', (v) => { heard = v; });
legacy.emit('ping', 7);
check('legacy subclass', heard, 7);

class Modern extends EventEmitter {}
const modern = new Modern();
modern.setMaxListeners(1);
check('getMaxListeners', modern.getMaxListeners(), 1);

// events.once: a promise of the arguments; rejects on 'error'.
const o = new EventEmitter();
setTimeout(() => o.emit('ready', 1, 2), 1);
check('events.once', await once(o, 'ready'), [1, 2]);
const o2 = new EventEmitter();
setTimeout(() => o2.emit('error', new Error('bad')), 1);
await checkRejects('events.once rejects on error', once(o2, 'ready'), { message: 'bad' });
check('events.once cleans up', [o2.listenerCount('ready'), o2.listenerCount('error')], [0, 0]);

// events.once with an aborted signal.
const ac = new AbortController();
ac.abort();
await checkRejects('events.once with aborted signal', once(o, 'ready', { signal: ac.signal }), {
  name: 'AbortError', code: 'ABORT_ERR', message: 'The operation was aborted',
});

// events.on: an async iterator of argument arrays.
const s = new EventEmitter();
setTimeout(() => { s.emit('data', 'a'); s.emit('data', 'b'); s.emit('end'); }, 1);
const got = [];
for await (const [v] of on(s, 'data', { close: ['end'] })) got.push(v);
check('events.on', got, ['a', 'b']);

check('getEventListeners', getEventListeners(r, 'a').length, 2);
setMaxListeners(5, r);
check('setMaxListeners on targets', r.getMaxListeners(), 5);

// captureRejections routes a rejected async listener to 'error'.
const c = new EventEmitter({ captureRejections: true });
const captured = new Promise((resolve) => c.on('error', (x) => resolve(x.message)));
c.on('go', async () => { throw new Error('async failure'); });
c.emit('go');
check('captureRejections', await captured, 'async failure');
