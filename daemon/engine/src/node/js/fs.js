// node:fs: loads (form-data and others import it at the top of their files), but bolt's
// sandbox has no file system: `existsSync` answers false (nothing exists), everything else
// throws ERR_BOLT_SANDBOX naming the function.

import { refusing } from 'bolt:node/internal/errors';

const WHY = "reads and writes files, which bolt's sandbox does not allow";

const NAMES = ['access', 'appendFile', 'chmod', 'chown', 'close', 'copyFile', 'cp', 'createReadStream',
  'createWriteStream', 'exists', 'fchmod', 'fchown', 'fdatasync', 'fstat', 'fsync', 'ftruncate', 'futimes',
  'lchmod', 'lchown', 'link', 'lstat', 'lutimes', 'mkdir', 'mkdtemp', 'open', 'openAsBlob', 'opendir', 'read',
  'readdir', 'readFile', 'readlink', 'readv', 'realpath', 'rename', 'rm', 'rmdir', 'stat', 'statfs', 'symlink',
  'truncate', 'unlink', 'unwatchFile', 'utimes', 'watch', 'watchFile', 'write', 'writeFile', 'writev', 'glob'];
const CLASSES = ['Dir', 'Dirent', 'ReadStream', 'Stats', 'WriteStream', 'FileReadStream', 'FileWriteStream'];

export const constants = Object.freeze({
  F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128,
  O_NOCTTY: 256, O_TRUNC: 512, O_APPEND: 1024, O_DIRECTORY: 65536, O_NOATIME: 262144, O_NOFOLLOW: 131072,
  O_SYNC: 1052672, O_DSYNC: 4096, O_DIRECT: 16384, O_NONBLOCK: 2048, S_IFMT: 61440, S_IFREG: 32768,
  S_IFDIR: 16384, S_IFCHR: 8192, S_IFBLK: 24576, S_IFIFO: 4096, S_IFLNK: 40960, S_IFSOCK: 49152,
  S_IRWXU: 448, S_IRUSR: 256, S_IWUSR: 128, S_IXUSR: 64, S_IRWXG: 56, S_IRGRP: 32, S_IWGRP: 16, S_IXGRP: 8,
  S_IRWXO: 7, S_IROTH: 4, S_IWOTH: 2, S_IXOTH: 1, COPYFILE_EXCL: 1, COPYFILE_FICLONE: 2,
  COPYFILE_FICLONE_FORCE: 4, UV_FS_COPYFILE_EXCL: 1, UV_FS_COPYFILE_FICLONE: 2, UV_FS_COPYFILE_FICLONE_FORCE: 4,
});

const fs = { constants, F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 };
for (const name of NAMES) {
  fs[name] = refusing(`fs.${name}`, WHY);
  if (!['createReadStream', 'createWriteStream', 'watch', 'watchFile', 'unwatchFile', 'openAsBlob'].includes(name)) {
    fs[`${name}Sync`] = refusing(`fs.${name}Sync`, WHY);
  }
}
fs.existsSync = () => false;
for (const name of CLASSES) fs[name] = refusing(`fs.${name}`, WHY);

export const promises = {};
for (const name of NAMES) {
  if (['exists', 'createReadStream', 'createWriteStream', 'watchFile', 'unwatchFile', 'openAsBlob'].includes(name)) continue;
  promises[name] = async (...args) => refusing(`fs.promises.${name}`, WHY)(...args);
}
promises.constants = constants;
fs.promises = promises;

export const {
  access, appendFile, chmod, chown, close, copyFile, cp, createReadStream, createWriteStream, exists, fchmod, fchown,
  fdatasync, fstat, fsync, ftruncate, futimes, lchmod, lchown, link, lstat, lutimes, mkdir, mkdtemp, open, openAsBlob,
  opendir, read, readdir, readFile, readlink, readv, realpath, rename, rm, rmdir, stat, statfs, symlink, truncate,
  unlink, unwatchFile, utimes, watch, watchFile, write, writeFile, writev, glob, accessSync, appendFileSync, chmodSync,
  chownSync, closeSync, copyFileSync, cpSync, existsSync, fchmodSync, fchownSync, fdatasyncSync, fstatSync, fsyncSync,
  ftruncateSync, futimesSync, lchmodSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, mkdtempSync,
  openSync, opendirSync, readSync, readdirSync, readFileSync, readlinkSync, readvSync, realpathSync, renameSync,
  rmSync, rmdirSync, statSync, statfsSync, symlinkSync, truncateSync, unlinkSync, utimesSync, writeSync,
  writeFileSync, writevSync, globSync, Dir, Dirent, ReadStream, Stats, WriteStream, F_OK, R_OK, W_OK, X_OK,
} = fs;

export default fs;
