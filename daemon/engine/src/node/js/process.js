// node:process and the `process` npm code sees: an inert Node process. No environment
// (`env` is an empty object of this context's own), no arguments, working directory `/`,
// no exit, no signals; `nextTick`, `hrtime`, `emitWarning` and the version facts work.

import { EventEmitter } from 'node:events';
import { nextTick } from 'node:timers';
import { refusing, validateString } from 'bolt:node/internal/errors';
import { print } from 'bolt:node/internal/host';
import { TextDecoder } from 'bolt:node/internal/encoding';

const WHY = "bolt's sandbox gives adaptors no process of their own";
const VERSION = 'v20.18.0';

// A stream-like sink whose lines are printed as adaptor output.
function outputStream(fd, level) {
  const stream = new EventEmitter();
  let partial = '';
  Object.assign(stream, {
    fd,
    isTTY: false,
    writable: true,
    columns: 80,
    rows: 24,
    write(chunk, encoding, callback) {
      if (typeof encoding === 'function') callback = encoding;
      const text = typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
      const lines = (partial + text).split('\n');
      partial = lines.pop();
      for (const line of lines) print(level, line);
      if (typeof callback === 'function') nextTick(callback);
      return true;
    },
    end(chunk, encoding, callback) {
      if (chunk !== undefined && typeof chunk !== 'function') stream.write(chunk, encoding);
      if (partial) { print(level, partial); partial = ''; }
      const done = [chunk, encoding, callback].find((f) => typeof f === 'function');
      if (done) nextTick(done);
      return stream;
    },
    cork() {},
    uncork() {},
    hasColors: () => false,
    getColorDepth: () => 1,
    getWindowSize: () => [80, 24],
  });
  return stream;
}

const start = Date.now();
const perfNow = () => Date.now() - start;

function hrtime(previous) {
  const now = perfNow();
  let seconds = Math.floor(now / 1000);
  let nanos = Math.floor((now % 1000) * 1e6);
  if (previous) {
    seconds -= previous[0];
    nanos -= previous[1];
    if (nanos < 0) { seconds -= 1; nanos += 1e9; }
  }
  return [seconds, nanos];
}
hrtime.bigint = () => BigInt(Math.floor(perfNow() * 1e6));

const warned = new Set();

function emitWarning(warning, type, code, ctor) {
  let name = 'Warning';
  let detail;
  if (type !== null && typeof type === 'object' && !Array.isArray(type)) {
    ({ type: name = 'Warning', code, detail } = type);
  } else if (typeof type === 'string') {
    name = type;
  } else if (typeof type === 'function') {
    ctor = type;
  }
  if (typeof code === 'function') code = undefined;
  let error = warning;
  if (typeof warning === 'string') {
    error = new Error(warning);
    error.name = name;
    if (code !== undefined) error.code = code;
    if (detail !== undefined) error.detail = detail;
  }
  if (error.name === 'DeprecationWarning' && process.noDeprecation) return;
  process.emit('warning', error);
  const key = `${error.name}:${error.code}:${error.message}`;
  if (error.name === 'DeprecationWarning' && error.code && warned.has(key)) return;
  warned.add(key);
  print('warn', `(node:1) ${error.code ? `[${error.code}] ` : ''}${error.name}: ${error.message}${detail ? `\n${detail}` : ''}`);
}

export const process = new EventEmitter();
Object.defineProperty(process, Symbol.toStringTag, { value: 'process', enumerable: false, writable: true, configurable: true });
Object.assign(process, {
  title: 'node',
  version: VERSION,
  versions: {
    node: VERSION.slice(1), acorn: '8.12.1', ada: '2.9.0', ares: '1.33.1', brotli: '1.1.0', cjs_module_lexer: '1.4.1',
    modules: '115', napi: '9', uv: '1.46.0', v8: '11.3.244.8-node.23', zlib: '1.3.0.1-motley', openssl: '3.0.15+quic',
  },
  release: { name: 'node', lts: 'Iron' },
  arch: 'x64',
  platform: 'linux',
  env: {},
  argv: [],
  argv0: 'node',
  execArgv: [],
  execPath: '/usr/local/bin/node',
  pid: 1,
  ppid: 0,
  exitCode: undefined,
  noDeprecation: false,
  throwDeprecation: false,
  traceDeprecation: false,
  config: { target_defaults: {}, variables: {} },
  features: { inspector: false, debug: false, uv: true, ipv6: true, tls_alpn: true, tls_sni: true, tls_ocsp: true, tls: true, cached_builtins: true },
  allowedNodeEnvironmentFlags: new Set(),
  stdout: outputStream(1, 'info'),
  stderr: outputStream(2, 'error'),
  cwd: () => '/',
  chdir: (directory) => {
    validateString(directory, 'directory');
    refusing('process.chdir', "bolt's sandbox has no file system")();
  },
  umask: () => 0o22,
  getuid: () => 1000,
  geteuid: () => 1000,
  getgid: () => 1000,
  getegid: () => 1000,
  getgroups: () => [],
  uptime: () => perfNow() / 1000,
  hrtime,
  memoryUsage: Object.assign(() => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }), { rss: () => 0 }),
  resourceUsage: () => ({ userCPUTime: 0, systemCPUTime: 0, maxRSS: 0 }),
  cpuUsage: () => ({ user: 0, system: 0 }),
  nextTick,
  emitWarning,
  exit: refusing('process.exit', WHY),
  reallyExit: refusing('process.reallyExit', WHY),
  abort: refusing('process.abort', WHY),
  kill: refusing('process.kill', "bolt's sandbox does not let adaptors signal processes"),
  binding: refusing('process.binding', "bolt's sandbox has no native bindings"),
  dlopen: refusing('process.dlopen', "bolt's sandbox loads no native code"),
  setUncaughtExceptionCaptureCallback: () => {},
  hasUncaughtExceptionCaptureCallback: () => false,
  emitExperimentalWarning: () => {},
});
process.stdin = Object.assign(new EventEmitter(), {
  fd: 0, isTTY: false, readable: false,
  read: () => null, setEncoding() { return this; }, pause() { return this; }, resume() { return this; },
  setRawMode: refusing('process.stdin.setRawMode', "bolt's sandbox has no terminal"),
});

export default process;
