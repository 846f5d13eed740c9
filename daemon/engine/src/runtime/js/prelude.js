// bolt's sandbox prelude, imported once per step before the job module. Rust calls the
// default export with the host hooks and keeps the returned internals. Everything here is
// closed over, so jobs only see what is put on `globalThis` explicitly.
export default (host) => {
  const NULL_STATE = Symbol('bolt.null-state');
  const JOB_MODULE = host.jobModuleName;

  // JSON round trip with fast-safe-stringify semantics: a reference back to an ancestor
  // becomes "[Circular]"; functions/undefined are dropped, NaN -> null, Date -> ISO string.
  function safeStringify(value, indent) {
    const ancestors = [];
    return JSON.stringify(value, function (key, val) {
      if (typeof val !== 'object' || val === null) return val;
      while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
      if (ancestors.includes(val)) return '[Circular]';
      ancestors.push(val);
      return val;
    }, indent);
  }

  function clone(value) {
    const text = safeStringify(value);
    return text === undefined ? undefined : JSON.parse(text);
  }

  // ---- console -------------------------------------------------------------------------
  function maskConfiguration(value) {
    if (value && typeof value === 'object' && !Array.isArray(value) &&
        Object.prototype.hasOwnProperty.call(value, 'configuration') &&
        value.configuration && typeof value.configuration === 'object') {
      const masked = {};
      for (const key of Object.keys(value.configuration)) masked[key] = '****';
      return { ...value, configuration: masked };
    }
    return value;
  }

  function describeArg(arg) {
    switch (typeof arg) {
      case 'string': return { t: 's', v: arg };
      case 'number': return { t: 'n', v: Number.isFinite(arg) ? arg : null, s: String(arg) };
      case 'boolean': return { t: 'b', v: arg };
      case 'bigint': return { t: 'n', v: null, s: String(arg) };
      case 'undefined': return { t: 'u' };
      case 'function': return { t: 'f' };
      case 'symbol': return { t: 'u' };
      default:
        if (arg === null) return { t: 'null' };
        try {
          const text = safeStringify(maskConfiguration(arg));
          return text === undefined ? { t: 'u' } : { t: 'o', v: JSON.parse(text) };
        } catch (e) {
          return { t: 's', v: String(arg) };
        }
    }
  }

  // `adaptorEmit(level, args)`: where lines written by npm adaptor code go (see below).
  function makeConsole(emit, adaptorEmit) {
    const log = (level) => (...args) => {
      if (adaptorEmit && calledFromPackage()) return adaptorEmit(level, args);
      emit(level, JSON.stringify(args.map(describeArg)));
    };
    return Object.freeze({
      log: log('info'), info: log('info'), debug: log('debug'), warn: log('warn'),
      error: log('error'), success: log('success'), always: log('always'),
    });
  }

  // ---- timers ---------------------------------------------------------------------------
  let nextTimerId = 1;
  const liveTimers = new Set();
  function setTimeout(callback, ms, ...args) {
    const id = nextTimerId++;
    liveTimers.add(id);
    host.sleep(Math.max(0, Number(ms) || 0)).then(() => {
      if (liveTimers.delete(id) && typeof callback === 'function') callback(...args);
    });
    return id;
  }
  function setInterval(callback, ms, ...args) {
    const id = nextTimerId++;
    liveTimers.add(id);
    const tick = () => host.sleep(Math.max(1, Number(ms) || 0)).then(() => {
      if (!liveTimers.has(id)) return;
      if (typeof callback === 'function') callback(...args);
      tick();
    });
    tick();
    return id;
  }
  function clearTimer(id) { liveTimers.delete(id); }

  // ---- globals ---------------------------------------------------------------------------
  const g = globalThis;
  for (const name of ['queueMicrotask', 'performance', 'navigator', 'gc', 'print', 'scriptArgs',
                      'std', 'os', 'structuredClone', 'console', 'setTimeout', 'clearTimeout']) {
    try { delete g[name]; } catch (e) { /* not configurable: leave it */ }
  }
  const define = (name, value) => Object.defineProperty(g, name, {
    value: Object.freeze(value), writable: true, enumerable: false, configurable: true,
  });
  // A global made on first read (most jobs never read it): the accessor replaces itself with
  // the data property `define` would have made, so only a property descriptor read before
  // the first use tells the difference.
  const defineLazily = (name, make) => {
    let value;
    const settle = (v) => Object.defineProperty(g, name, {
      value: v, writable: true, enumerable: false, configurable: true,
    });
    Object.defineProperty(g, name, {
      get() {
        if (value === undefined) value = make();
        settle(value);
        return value;
      },
      set(v) { settle(v); },
      enumerable: false, configurable: true,
    });
  };
  // What `Buffer`'s class is built from, taken before any job code can replace it.
  const bufferBuiltins = { Uint8Array, Map, species: Symbol.species };
  // npm adaptors write to the same `console` as the job; their lines are adaptor output,
  // formatted like Node's console (in OpenFn they go to the process console), told apart by
  // the calling module. Only steps with npm adaptors pay for the look at the stack.
  let formatArgs;
  const adaptorEmit = host.adaptorPrint
    ? (level, args) => host.adaptorPrint(level, (formatArgs ||= host.loadFormatArgs())(args))
    : undefined;
  define('console', makeConsole(host.jobLog, adaptorEmit));
  define('setTimeout', setTimeout);
  define('clearTimeout', clearTimer);
  define('setInterval', setInterval);
  define('clearInterval', clearTimer);
  defineLazily('Buffer', () => {
    const Buffer = host.loadBuffer()(bufferBuiltins);
    Object.freeze(Buffer.prototype);
    return Object.freeze(Buffer);
  });

  // A workflow's globals (OpenFn's `workflow.globals`): every export of the globals module
  // becomes a frozen global of the step, except the names OpenFn's sandbox sets itself.
  const sandboxNames = new Set(['console', 'clearInterval', 'clearTimeout', 'parseFloat',
                                'parseInt', 'setInterval', 'setTimeout', 'state', 'Buffer']);
  function installGlobals(namespace) {
    for (const name of Object.keys(namespace)) {
      if (!sandboxNames.has(name)) define(name, namespace[name]);
    }
  }

  // QuickJS only checks for interrupts on calls and loops, and a chain of `.then` callbacks
  // can keep its job queue busy forever; once the step has expired, callbacks stop running.
  const originalThen = Promise.prototype.then;
  const guard = (callback) => (typeof callback !== 'function' ? callback : function (value) {
    if (host.expired()) throw new Error('The step has ended');
    return callback(value);
  });
  Object.defineProperty(Promise.prototype, 'then', {
    value: function then(onFulfilled, onRejected) {
      return originalThen.call(this, guard(onFulfilled), guard(onRejected));
    },
    writable: true, enumerable: false, configurable: true,
  });

  // Code generation from strings is forbidden, as in OpenFn's vm context.
  function lockdown() {
    const deny = function Function() {
      throw new EvalError('Code generation from strings disallowed for this context');
    };
    const denyEval = () => {
      throw new EvalError('Code generation from strings disallowed for this context');
    };
    deny.prototype = Function.prototype;
    for (const sample of [function () {}, async function () {}, function* () {}, async function* () {}]) {
      Object.defineProperty(Object.getPrototypeOf(sample), 'constructor', {
        value: deny, writable: false, configurable: false,
      });
    }
    Object.defineProperty(g, 'Function', { value: deny, writable: true, configurable: true });
    Object.defineProperty(g, 'eval', { value: denyEval, writable: true, configurable: true });
  }

  // ---- @openfn/runtime's defer -----------------------------------------------------------
  function defer(operation, complete = (p) => p, error = (e, _state) => { throw e; }) {
    return (state) => {
      try {
        return complete(Promise.resolve(operation(state)).catch((e) => error(e, state)));
      } catch (e) {
        return error(e, state);
      }
    };
  }

  function calledFromPackage() {
    const file = firstFrameFile(new Error().stack);
    return typeof file === 'string' && file[0] === '/';
  }

  // ---- operations ------------------------------------------------------------------------
  // The first stack frame outside this prelude and native code decides where an error came from.
  function firstFrameFile(stack) {
    if (typeof stack !== 'string') return undefined;
    for (const line of stack.split('\n')) {
      const m = /^\s*at (?:.*? \()?(.*?)(?::\d+(?::\d+)?)?\)?$/.exec(line);
      if (!m) continue;
      const file = m[1];
      // bolt's own modules (the prelude, Node built-ins) are skipped like native code.
      if (file === 'native' || file === '<anonymous>' || file.startsWith('bolt:')) continue;
      return file;
    }
    return undefined;
  }

  function wrapOperation(op, index, immutable) {
    return async (state) => {
      if (state && state[NULL_STATE]) {
        host.runtimeLog('warn', `WARNING: No state was passed into operation ${index + 1}. Did the previous operation return state?`);
        state = {};
      }
      let result;
      try {
        result = await op(immutable ? clone(state) : state);
      } catch (e) {
        if (e !== null && e !== undefined && typeof e === 'object') {
          const file = firstFrameFile(e.stack);
          // Adaptor code: bolt's built-in adaptors, and npm packages (named by their path).
          if (file && file !== JOB_MODULE && (/^@openfn\/language-/.test(file) || file[0] === '/')) {
            try { Object.defineProperty(e, '__boltAdaptorOperation', { value: index, enumerable: false }); }
            catch (_) { /* frozen error: report as thrown */ }
          }
        }
        throw e;
      }
      if (!result) {
        result = {};
        Object.defineProperty(result, NULL_STATE, { value: true, enumerable: false });
      }
      return result;
    };
  }

  async function defaultExecute(...operations) {
    return (state) => operations.reduce((acc, op) => acc.then(op), Promise.resolve(state));
  }

  // Returns a promise of the step result; rejects with the thrown value.
  async function runOperations(namespace, state, immutable) {
    const operations = namespace.default;
    if (!Array.isArray(operations)) {
      const e = new Error('Invalid exports: the job must export default an array of operations');
      e.__boltCrash = 'InvalidExportsError';
      throw e;
    }
    operations.forEach((op, i) => {
      if (typeof op !== 'function') {
        const e = new Error(`Invalid operation at statement ${i}`);
        e.__boltCrash = 'InvalidOperationError';
        throw e;
      }
    });
    const wrapped = operations.map((op, i) => wrapOperation(op, i, immutable));
    const execute = typeof namespace.execute === 'function' ? namespace.execute : null;
    const reducer = execute
      ? execute(...wrapped)
      : (s) => wrapped.reduce((acc, op) => acc.then(op), Promise.resolve(s));
    return await reducer(state);
  }

  // Final state: null-state -> undefined; drop configuration (and, in worker mode,
  // response); JSON round trip.
  function finalState(result) {
    if (result === undefined || (result && result[NULL_STATE])) return undefined;
    if (result && typeof result === 'object' && !Array.isArray(result)) {
      for (const key of host.statePropsToRemove) delete result[key];
    }
    return safeStringify(result);
  }

  function errorInfo(e) {
    const info = { nullish: e === null || e === undefined, type: typeof e };
    if (info.nullish) { info.repr = String(e); return info; }
    if (typeof e !== 'object' && typeof e !== 'function') { info.repr = String(e); return info; }
    try { info.constructorName = e.constructor && e.constructor.name; } catch (_) { /* ignore */ }
    try { info.name = typeof e.name === 'string' ? e.name : undefined; } catch (_) { /* ignore */ }
    try { info.message = e.message === undefined ? undefined : String(e.message); } catch (_) { /* ignore */ }
    try { info.stack = typeof e.stack === 'string' ? e.stack : undefined; } catch (_) { /* ignore */ }
    try { info.severity = typeof e.severity === 'string' ? e.severity : undefined; } catch (_) { /* ignore */ }
    info.adaptorOperation = e.__boltAdaptorOperation;
    info.crash = e.__boltCrash;
    try { info.props = clone(Object.assign({}, e)); } catch (_) { info.props = {}; }
    return info;
  }

  return { runOperations, finalState, errorInfo, lockdown, installGlobals, defer, safeStringify, clone, makeConsole };
};
