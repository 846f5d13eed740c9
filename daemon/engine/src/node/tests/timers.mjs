import timers, { setTimeout as nodeSetTimeout, setImmediate as nodeSetImmediate, clearTimeout as nodeClearTimeout } from 'node:timers';
import { setTimeout as sleep, setImmediate as immediate, setInterval as every } from 'node:timers/promises';

// Scheduled from a timer callback, as library code runs (code after an `await` runs in a
// promise job, where Node runs ticks after the other microtasks).
let t;
const order = await new Promise((done) => nodeSetTimeout(() => {
  const seen = [];
  t = nodeSetTimeout((a, b) => seen.push(`timeout ${a}${b}`), 5, 'x', 'y');
  nodeSetImmediate(() => seen.push('immediate'));
  process.nextTick(() => seen.push('tick'));
  queueMicrotask(() => seen.push('microtask'));
  Promise.resolve().then(() => seen.push('promise'));
  const cancelled = nodeSetTimeout(() => seen.push('cancelled'), 1);
  nodeClearTimeout(cancelled);
  const byNumber = nodeSetTimeout(() => seen.push('cleared by number'), 1);
  clearTimeout(+byNumber);
  nodeSetTimeout(() => done(seen), 30);
}, 1));
check('Timeout object', [typeof t.ref, typeof t.unref, t.hasRef(), t.unref().hasRef(), typeof t[Symbol.toPrimitive]()], ['function', 'function', true, false, 'number']);
check('order', order, ['tick', 'microtask', 'promise', 'immediate', 'timeout xy']);
check('timers/promises value', [await sleep(1, 'v'), await immediate('i')], ['v', 'i']);
const ac = new AbortController();
const pending = sleep(1000, null, { signal: ac.signal });
ac.abort();
await checkRejects('aborted sleep', pending, { name: 'AbortError', code: 'ABORT_ERR', message: 'The operation was aborted' });
const ticks = [];
for await (const v of every(2, 'tick')) {
  ticks.push(v);
  if (ticks.length === 3) break;
}
check('setInterval iterator', ticks, ['tick', 'tick', 'tick']);
let count = 0;
await new Promise((resolve) => {
  const i = setInterval(() => { if (++count === 3) { clearInterval(i); resolve(); } }, 1);
});
check('setInterval', count, 3);
const refreshed = [];
const r = nodeSetTimeout(() => refreshed.push(Date.now()), 20);
await sleep(10);
r.refresh();
check('refresh returns the timer', r.refresh() === r, true);
checkThrows('callback must be a function', () => nodeSetTimeout('code', 1), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'The "callback" argument must be of type function. Received type string (\'code\')' });
check('default export', [timers.setTimeout === nodeSetTimeout, typeof timers.promises.setTimeout], [true, 'function']);
