// language-common's operations that read state: by JSONPath, by reference (functions of
// state), or that group and check it.

import { collectionValues, expandReferences, get, printLine, queryJson } from '@openfn/language-common/internal/helpers';
import { dataPath, referencePath } from '@openfn/language-common/core';

export function fnIf(condition, operation) {
  return (state) => {
    const [resolved] = expandReferences(state, condition);
    return resolved ? operation(state) : state;
  };
}

export function jsonValue(obj, path) {
  return queryJson(path, obj)[0];
}

export function sourceValue(path) {
  return (state) => queryJson(path, state)[0];
}

export function source(path) {
  return (state) => queryJson(path, state);
}

export function dataValue(path) {
  return sourceValue(dataPath(path));
}

export function lastReferenceValue(path) {
  return sourceValue(referencePath(`[0].${path}`));
}

export function map(path, callback) {
  return async (state) => {
    const values = typeof path === 'string' ? source(path)(state) : path;
    const results = [];
    let i = 0;
    for (const item of values) {
      results.push(await callback(item, i++, state));
    }
    return { ...state, data: results };
  };
}

export function asData(data, state) {
  switch (typeof data) {
    case 'string': return source(data)(state);
    case 'object': return data;
    case 'function': return data(state);
    default: return undefined;
  }
}

function runEach(items, operation, initial) {
  return items.reduce((acc, data, index) => {
    if (acc && typeof acc.then === 'function') {
      return acc.then((next) => operation({ ...next, data, index }));
    }
    return operation({ ...acc, data, index });
  }, initial);
}

export function each(dataSource, operation) {
  if (!dataSource) {
    throw new TypeError('dataSource argument for each operation is invalid.');
  }
  return (state) => runEach(asData(dataSource, state), operation, state);
}

function betaEach(dataSource, operation) {
  if (!dataSource) {
    throw new TypeError('dataSource argument for each operation is invalid.');
  }
  return (prevState) => {
    const next = runEach(asData(dataSource, prevState), operation, prevState);
    if (next && typeof next.then === 'function') {
      return next.then((s) => ({ ...s, data: prevState.data }));
    }
    return { ...next, data: prevState.data };
  };
}

export const beta = { each: betaEach };

export function join(targetPath, sourcePath, targetKey) {
  return (state) => source(targetPath)(state).map((item) => ({ [targetKey]: sourceValue(sourcePath)(state), ...item }));
}

export function merge(dataSource, extraFields) {
  return (state) => {
    const items = source(dataSource)(state);
    const [additional] = expandReferences(state, extraFields);
    return items.reduce((acc, item) => [...acc, { ...item, ...additional }], []);
  };
}

export function group(arrayOfObjects, keyPath, callback = (s) => s) {
  return (state) => {
    const [items, path] = expandReferences(state, arrayOfObjects, keyPath);
    // lodash's groupBy(items, (item) => get(item, path)).
    const groups = {};
    for (const item of collectionValues(items)) {
      const key = get(item, path);
      if (Object.prototype.hasOwnProperty.call(groups, key)) groups[key].push(item);
      else groups[key] = [item];
    }
    delete groups.undefined;
    return callback({ ...state, data: groups });
  };
}

export function scrubEmojis(text, replacementChars) {
  if (!text) return text;
  if (replacementChars == '') {
    printLine('warn', [
      'Removing characters from a string may create injection vulnerabilities;',
      "It's better to replace than remove.",
      'See https://www.unicode.org/reports/tr36/#Deletion_of_Noncharacters',
    ].join(' '));
  }
  const replacement = replacementChars || replacementChars == '' ? replacementChars : '\uFFFD';
  const pattern = /(\uFE0F|\u00a9|\u00ae|[\u2000-\u3300]|\ud83c[\ud000-\udfff]|\ud83d[\ud000-\udfff]|\ud83e[\ud000-\udfff])/g;
  return text.replace(pattern, replacement);
}

export function assert(expression, errorMessage) {
  return (state) => {
    const [value, message] = expandReferences(state, expression, errorMessage);
    if (!value) {
      throw new Error(message || `assertion statement failed with ${value}`);
    }
    return state;
  };
}

export function as(key, operation) {
  return async (state) => {
    const [resolvedKey] = expandReferences(state, key);
    const previous = state.data;
    const result = await operation(state);
    const { data, ...rest } = result;
    state[resolvedKey] = data;
    state.data = previous;
    return { ...state, ...rest };
  };
}
