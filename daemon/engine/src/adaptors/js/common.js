// bolt's built-in @openfn/language-common (behaviour of 3.3.4), written for QuickJS.
// Host functions come from globalThis.__bolt_host (see adaptors/mod.rs for the contract).
//
// The adaptor is split into sub-modules (js/common/*.js); this module only gathers their
// exports. Jobs compiled by bolt import the sub-modules they use directly, so a step that
// only needs `fn` doesn't load lodash, dates or the HTTP engine.

import {
  alterState,
  arrayToString,
  chunk,
  combine,
  composeNextState,
  dataPath,
  execute,
  field,
  fields,
  fn,
  humanProper,
  index,
  referencePath,
  splitKeys,
  toArray,
} from '@openfn/language-common/core';
import {
  as,
  asData,
  assert,
  beta,
  dataValue,
  each,
  fnIf,
  group,
  join,
  jsonValue,
  lastReferenceValue,
  map,
  merge,
  scrubEmojis,
  source,
  sourceValue,
} from '@openfn/language-common/data';
import { debug, log } from '@openfn/language-common/log';
import { cursor } from '@openfn/language-common/cursor';
import { dateFns } from '@openfn/language-common/dates';
import { parseCsv } from '@openfn/language-common/csv';
import { validate } from '@openfn/language-common/validate';
import { http, util } from '@openfn/language-common/util';
import { _ } from '@openfn/language-common/lodash';

export * from '@openfn/language-common/core';
export * from '@openfn/language-common/data';
export * from '@openfn/language-common/log';
export * from '@openfn/language-common/cursor';
export * from '@openfn/language-common/dates';
export * from '@openfn/language-common/csv';
export * from '@openfn/language-common/validate';
export * from '@openfn/language-common/util';
export * from '@openfn/language-common/lodash';

const adaptor = {
  _, alterState, arrayToString, as, asData, assert, beta, chunk, combine, composeNextState, cursor,
  dataPath, dataValue, dateFns, debug, each, execute, field, fields, fn, fnIf, group, http, humanProper,
  index, join, jsonValue, lastReferenceValue, log, map, merge, parseCsv, referencePath, scrubEmojis,
  source, sourceValue, splitKeys, toArray, util, validate,
};

export default adaptor;
