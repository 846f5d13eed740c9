// node:assert/strict: assert's strict mode (deep/strict comparisons only).
import { strict } from 'node:assert';

export const {
  ok, fail, equal, notEqual, deepEqual, notDeepEqual, deepStrictEqual, notDeepStrictEqual, strictEqual,
  notStrictEqual, throws, rejects, doesNotThrow, doesNotReject, ifError, match, doesNotMatch, AssertionError,
  CallTracker,
} = strict;
export { strict };
export default strict;
