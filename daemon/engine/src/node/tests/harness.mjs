// Assertions for the node:* test scripts, which run both in bolt (engine/node/tests.rs) and
// under real Node (`node --import ./harness.mjs script.mjs`), so every expected value in
// them is checked against Node itself. Independent of the modules under test.

const failures = [];
let last = '(none)';
/** The name of the last check that ran (for a script that stalls). */
globalThis.__lastCheck = () => last;

function show(value, seen = []) {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number': return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint': return `${value}n`;
    case 'string': return JSON.stringify(value);
    case 'boolean': return String(value);
    case 'symbol': return value.toString();
    case 'function': return `[function ${value.name}]`;
    default: break;
  }
  if (seen.includes(value)) return '[circular]';
  seen = [...seen, value];
  if (value instanceof Uint8Array) return `u8[${Array.from(value).join(',')}]`;
  if (value instanceof ArrayBuffer) return `ab[${Array.from(new Uint8Array(value)).join(',')}]`;
  if (value instanceof Date) return `date(${value.toISOString()})`;
  if (value instanceof RegExp) return String(value);
  if (value instanceof Error) return `${value.name}(${JSON.stringify(value.message)}${value.code ? `, ${value.code}` : ''})`;
  if (value instanceof Map) return `map{${[...value].map(([k, v]) => `${show(k, seen)}=>${show(v, seen)}`).join(',')}}`;
  if (value instanceof Set) return `set{${[...value].map((v) => show(v, seen)).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map((v) => show(v, seen)).join(',')}]`;
  const keys = Object.keys(value);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${show(value[k], seen)}`).join(',')}}`;
}

globalThis.show = show;

/** Records a failure when `actual` and `expected` differ (deep, by `show`). */
globalThis.check = (name, actual, expected) => {
  last = name;
  const a = show(actual);
  const e = show(expected);
  if (a !== e) failures.push(`${name}: got ${a}, want ${e}`);
};

/** The error `fn` throws, summarised as {name, code, message} (missing parts omitted). */
function summary(error) {
  if (!(error instanceof Error) && (error === null || typeof error !== 'object')) return { value: error };
  const out = { name: error.name, message: error.message };
  if (error.code !== undefined) out.code = error.code;
  return out;
}

/** `fn` must throw an error matching `expected`'s fields (name, code, message). */
globalThis.checkThrows = (name, fn, expected) => {
  last = name;
  try {
    fn();
  } catch (error) {
    const got = summary(error);
    for (const key of Object.keys(expected)) {
      if (show(got[key]) !== show(expected[key])) failures.push(`${name}: ${key} ${show(got[key])}, want ${show(expected[key])}`);
    }
    return error;
  }
  failures.push(`${name}: did not throw`);
  return undefined;
};

/** `promise` must reject with an error matching `expected`. */
globalThis.checkRejects = async (name, promise, expected) => {
  last = name;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    const got = summary(error);
    for (const key of Object.keys(expected)) {
      if (show(got[key]) !== show(expected[key])) failures.push(`${name}: ${key} ${show(got[key])}, want ${show(expected[key])}`);
    }
    return error;
  }
  failures.push(`${name}: did not reject`);
  return undefined;
};

globalThis.__failures = () => JSON.stringify(failures);

if (typeof process !== 'undefined' && typeof process.on === 'function') {
  // The test server's URL (bolt's harness sets the global itself).
  globalThis.testServer = process.env.BOLT_TEST_SERVER;
  // Under Node only: scripts whose keep-alive sockets would hold Node open end with it.
  globalThis.__exitUnderNode = () => process.exit();
  process.on('exit', () => {
    if (failures.length) {
      console.error(failures.join('\n'));
      process.exitCode = 1;
    }
  });
}
