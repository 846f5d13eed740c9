// cursor(): a value (often a relative date) put on state under a key that later calls keep.
// The key and the start time live here, once per step, shared by every importer.

import { expandReferences, isDate, parseDate } from '@openfn/language-common/internal/helpers';
import { print } from '@openfn/language-common/internal/inspect';
import { dateFns } from '@openfn/language-common/dates';

let cursorStart;
let cursorKey = 'cursor';

export function cursor(value, options = {}) {
  return (state) => {
    const { format: formatter, ...rest } = options;
    const [resolvedValue, resolvedOptions] = expandReferences(state, value, rest);
    const { defaultValue, key } = resolvedOptions;
    if (key) cursorKey = key;
    if (!cursorStart) cursorStart = new Date();
    const chosen = resolvedValue ?? defaultValue;
    if (typeof chosen === 'string') {
      const date = parseDate(chosen, cursorStart);
      if (isDate(date)) {
        state[cursorKey] = formatter?.(date) ?? date.toISOString();
        const shown = formatter ? state[cursorKey] : dateFns.format(date, 'HH:mm d MMM yyyy (OOO)');
        print('log', `Setting ${cursorKey} "${chosen}" to: ${shown}`);
        return state;
      }
    }
    state[cursorKey] = formatter?.(chosen) ?? chosen;
    print('log', `Setting ${cursorKey} to:`, state[cursorKey]);
    return state;
  };
}
