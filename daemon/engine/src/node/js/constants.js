// node:constants (deprecated in Node): os, fs and crypto constants in one object.
import os from 'node:os';
import fs from 'node:fs';
import crypto from 'node:crypto';

const constants = { ...os.constants.errno, ...os.constants.signals, ...os.constants.priority, ...fs.constants, ...crypto.constants };
export default constants;
