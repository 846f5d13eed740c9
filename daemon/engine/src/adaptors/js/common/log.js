// log() and debug(): print through the host console with Node's formatting.

import { expandReferences } from '@openfn/language-common/internal/helpers';
import { print } from '@openfn/language-common/internal/inspect';

export function log(...args) {
  return (state) => {
    const [resolved] = expandReferences(state, args);
    print('log', ...resolved);
    return state;
  };
}

export function debug(...args) {
  return (state) => {
    const [resolved] = expandReferences(state, args);
    print('debug', ...resolved);
    return state;
  };
}
