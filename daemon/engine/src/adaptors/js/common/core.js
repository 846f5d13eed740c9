// language-common's simplest operations, which need nothing else: the module a job that
// only uses `fn` loads. (Operations that read state by path or reference are in `data`.)

export function execute(...operations) {
  return (state) => operations.reduce((acc, operation) => acc.then(operation), Promise.resolve(state));
}

export function fn(func) {
  return (state) => func(state);
}

export function alterState(func) {
  return fn(func);
}

export function dataPath(path) {
  const [, clean] = path.match(/^[$.]*(.+)/);
  return `$.data.${clean}`;
}

export function referencePath(path) {
  const [, clean] = path.match(/^[$.]*(.+)/);
  return `$.references${clean}`;
}

export function combine(...operations) {
  return (state) => operations.reduce((acc, operation) => {
    if (acc && typeof acc.then === 'function') return acc.then((next) => operation({ ...next }));
    return operation({ ...acc });
  }, state);
}

export function field(key, value) {
  return [key, value];
}

export function fields(...pairs) {
  const result = {};
  for (const pair of pairs) {
    if (pair) result[pair[0]] = pair[1];
  }
  return result;
}

export function index() {
  return (state) => state.index;
}

export function arrayToString(arr, separator) {
  return Array.apply(null, arr).join(separator);
}

export function toArray(arg) {
  return [].concat(arg);
}

export function composeNextState(state, response) {
  if (!state.references) state.references = [];
  return { ...state, data: response, references: [...state.references, state.data] };
}

export function humanProper(str) {
  if (typeof str !== 'string') return str;
  return str
    .replace(/[_-]/g, ' ')
    .replace(/\w\S*/g, (word) => word.charAt(0).toUpperCase() + word.substr(1).toLowerCase());
}

export function splitKeys(obj, keys) {
  return Object.keys(obj).reduce(([keep, split], key) => {
    const value = obj[key];
    return keys.includes(key) ? [keep, { ...split, [key]: value }] : [{ ...keep, [key]: value }, split];
  }, [{}, {}]);
}

export function chunk(array, chunkSize) {
  const output = [];
  for (let i = 0; i < array.length; i += chunkSize) output.push(array.slice(i, i + chunkSize));
  return output;
}
