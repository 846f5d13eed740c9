// node:tty: bolt's adaptors have no terminal (`isatty` is false).
import { refusing } from 'bolt:node/internal/errors';

const WHY = "bolt's sandbox has no terminal";
export const isatty = () => false;
export const ReadStream = refusing('tty.ReadStream', WHY);
export const WriteStream = refusing('tty.WriteStream', WHY);
export default { isatty, ReadStream, WriteStream };
