// node:os for bolt's sandbox: the facts packages use to format output (EOL, platform) and
// inert answers for the machine (no CPUs, memory or network interfaces to report).

import { refusing } from 'bolt:node/internal/errors';

export const EOL = '\n';
export const devNull = '/dev/null';
export const platform = () => 'linux';
export const type = () => 'Linux';
export const release = () => '6.0.0-bolt';
export const version = () => '#1 SMP bolt';
export const machine = () => 'x86_64';
export const arch = () => 'x64';
export const endianness = () => 'LE';
export const hostname = () => 'bolt';
export const tmpdir = () => '/tmp';
export const homedir = () => '/';
export const cpus = () => [];
export const availableParallelism = () => 1;
export const totalmem = () => 0;
export const freemem = () => 0;
export const uptime = () => 0;
export const loadavg = () => [0, 0, 0];
export const networkInterfaces = () => ({});
export const userInfo = () => ({ uid: 1000, gid: 1000, username: 'bolt', homedir: '/', shell: null });
export const getPriority = () => 0;
export const setPriority = refusing('os.setPriority', "bolt's sandbox gives adaptors no processes to change");

export const constants = Object.freeze({
  UV_UDP_REUSEADDR: 4,
  dlopen: Object.freeze({ RTLD_LAZY: 1, RTLD_NOW: 2, RTLD_GLOBAL: 256, RTLD_LOCAL: 0, RTLD_DEEPBIND: 8 }),
  errno: Object.freeze({
    E2BIG: 7, EACCES: 13, EADDRINUSE: 98, EADDRNOTAVAIL: 99, EAGAIN: 11, EBADF: 9, EBUSY: 16, ECONNABORTED: 103,
    ECONNREFUSED: 111, ECONNRESET: 104, EEXIST: 17, EHOSTUNREACH: 113, EINTR: 4, EINVAL: 22, EIO: 5, EISDIR: 21,
    EMFILE: 24, ENETUNREACH: 101, ENOENT: 2, ENOMEM: 12, ENOSPC: 28, ENOTDIR: 20, ENOTEMPTY: 39, EPERM: 1,
    EPIPE: 32, ETIMEDOUT: 110,
  }),
  signals: Object.freeze({
    SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
    SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGCHLD: 17, SIGCONT: 18,
    SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26,
    SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31,
  }),
  priority: Object.freeze({
    PRIORITY_LOW: 19, PRIORITY_BELOW_NORMAL: 10, PRIORITY_NORMAL: 0, PRIORITY_ABOVE_NORMAL: -7,
    PRIORITY_HIGH: -14, PRIORITY_HIGHEST: -20,
  }),
});

export default {
  EOL, devNull, platform, type, release, version, machine, arch, endianness, hostname, tmpdir, homedir, cpus,
  availableParallelism, totalmem, freemem, uptime, loadavg, networkInterfaces, userInfo, getPriority,
  setPriority, constants,
};
