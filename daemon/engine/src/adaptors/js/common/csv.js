// parseCsv(): CSV text to records, parsed by the host (csv-parse's options and errors).

import { expandReferences, host } from '@openfn/language-common/internal/helpers';
import { composeNextState } from '@openfn/language-common/core';

const CSV_DEFAULTS = {
  delimiter: ',',
  quote: '"',
  escape: '"',
  columns: true,
  bom: true,
  trim: true,
  ltrim: true,
  rtrim: true,
  chunkSize: Infinity,
  skip_empty_lines: true,
};

export function parseCsv(csvData, parsingOptions = {}, callback) {
  return async (state) => {
    const [text, resolvedOptions] = expandReferences(state, csvData, parsingOptions);
    const picked = Object.fromEntries(Object.entries(resolvedOptions || {}).filter(([key]) => key in CSV_DEFAULTS));
    const options = { ...CSV_DEFAULTS, ...picked };
    if (options.chunkSize < 1) throw new Error('chunkSize must be at least 1');
    if (typeof text !== 'string') {
      throw new TypeError('parseCsv: bolt can only parse CSV given as a string');
    }
    const { chunkSize, ...parserOptions } = options;
    let rows;
    try {
      rows = JSON.parse(host().parseCsv(text, JSON.stringify(parserOptions)));
    } catch (e) {
      const message = e && e.message ? e.message : String(e);
      const match = message.match(/^([A-Z_]+): ([\s\S]*)$/);
      const error = new Error(match ? match[2] : message);
      if (match) error.code = match[1];
      throw error;
    }
    let result = state;
    for (let i = 0; i < rows.length; i += chunkSize === Infinity ? rows.length : chunkSize) {
      const batch = rows.slice(i, chunkSize === Infinity ? rows.length : i + chunkSize);
      result = callback ? await callback(result, batch) : composeNextState(result, batch);
    }
    return result;
  };
}
