// node:fs/promises: every function rejects with ERR_BOLT_SANDBOX (no file system in bolt).
import { promises } from 'node:fs';

export const {
  access, appendFile, chmod, chown, copyFile, cp, lchmod, lchown, link, lstat, lutimes, mkdir, mkdtemp, open,
  opendir, readdir, readFile, readlink, realpath, rename, rm, rmdir, stat, statfs, symlink, truncate, unlink, utimes,
  watch, writeFile, constants, glob,
} = promises;
export default promises;
