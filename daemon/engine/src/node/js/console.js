// node:console and the `console` npm code sees: Node's console, whose lines go out as raw
// adaptor output (`__bolt_host.print`), as the host console does for adaptors under OpenFn.

import { formatArgs, inspect } from '@openfn/language-common/internal/inspect';
import { print } from 'bolt:node/internal/host';
import { invalidArgType } from 'bolt:node/internal/errors';

function makeConsole(write) {
  let indent = '';
  const counts = new Map();
  const timers = new Map();
  const out = (level, args) => {
    const text = formatArgs(args);
    write(level, indent ? text.split('\n').map((l) => indent + l).join('\n') : text);
  };
  const console = {
    log: (...args) => out('log', args),
    info: (...args) => out('info', args),
    debug: (...args) => out('debug', args),
    warn: (...args) => out('warn', args),
    error: (...args) => out('error', args),
    trace: (...args) => {
      const stack = (new Error().stack || '').split('\n').slice(1).join('\n');
      out('error', [`Trace${args.length ? `: ${formatArgs(args)}` : ''}\n${stack}`.trimEnd()]);
    },
    dir: (value, options) => write('log', indent + inspect(value, { customInspect: false, ...options })),
    dirxml: (...args) => out('log', args),
    table: (data) => out('log', [data]),
    assert: (condition, ...args) => {
      if (!condition) {
        if (typeof args[0] === 'string') args[0] = `Assertion failed: ${args[0]}`;
        else args.unshift('Assertion failed');
        out('warn', args);
      }
    },
    count: (label = 'default') => {
      const n = (counts.get(`${label}`) || 0) + 1;
      counts.set(`${label}`, n);
      out('info', [`${label}: ${n}`]);
    },
    countReset: (label = 'default') => counts.delete(`${label}`),
    group: (...args) => {
      if (args.length) out('log', args);
      indent += '  ';
    },
    groupEnd: () => { indent = indent.slice(0, -2); },
    time: (label = 'default') => { timers.set(`${label}`, Date.now()); },
    timeLog: (label = 'default', ...args) => {
      const start = timers.get(`${label}`);
      if (start === undefined) return out('warn', [`Warning: No such label '${label}' for console.timeLog()`]);
      return out('info', [`${label}: ${Date.now() - start}ms`, ...args]);
    },
    timeEnd: (label = 'default') => {
      const start = timers.get(`${label}`);
      if (start === undefined) return out('warn', [`Warning: No such label '${label}' for console.timeEnd()`]);
      timers.delete(`${label}`);
      return out('info', [`${label}: ${Date.now() - start}ms`]);
    },
    timeStamp: () => {},
    profile: () => {},
    profileEnd: () => {},
  };
  console.groupCollapsed = console.group;
  return console;
}

/** `new Console(stdout, stderr)` / `new Console({ stdout, stderr })`: writes to those streams. */
export function Console(stdout, stderr) {
  if (!(this instanceof Console)) return new Console(stdout, stderr);
  const options = stdout && typeof stdout.write !== 'function' ? stdout : { stdout, stderr };
  if (!options.stdout || typeof options.stdout.write !== 'function') {
    throw invalidArgType('stdout', 'an instance of Writable', options.stdout);
  }
  const errors = options.stderr && typeof options.stderr.write === 'function' ? options.stderr : options.stdout;
  const write = (level, line) => (level === 'warn' || level === 'error' ? errors : options.stdout).write(`${line}\n`);
  Object.assign(this, makeConsole(write));
}

export const console = makeConsole(print);
console.Console = Console;
export default console;
