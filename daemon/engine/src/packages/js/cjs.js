// CommonJS for npm packages: module records, a synchronous `require`, and what ES modules
// importing a CommonJS file see. One instance per context; Rust calls the default export
// once with its host hooks (see runtime/packages.rs):
//   resolve(fromFile, specifier) -> [kind, target]   kind: 'cjs' | 'json' | 'esm' | 'builtin'
//   compile(file) -> the module function (exports, require, module, __filename, __dirname)
//   readJson(file) -> the file's text
//   importSync(moduleName) -> an ES module's namespace, evaluated now
// Errors from `resolve` carry Node's codes (MODULE_NOT_FOUND…), so packages that probe for
// optional dependencies with try/catch keep working.

let hooks = null;
const cache = Object.create(null);
// Resolutions by the requiring file's directory and the specifier: packages such as lodash
// require the same few helpers from hundreds of files.
const resolved = new Map();

function resolve(parent, specifier) {
  const key = `${parent.path}\0${specifier}`;
  let found = resolved.get(key);
  if (found === undefined) {
    found = hooks.resolve(parent.filename, specifier);
    resolved.set(key, found);
  }
  return found;
}

const RESERVED = new Set(('break case catch class const continue debugger default delete do else ' +
  'enum export extends false finally for function if import in instanceof new null return super ' +
  'switch this throw true try typeof var void while with yield let static implements interface ' +
  'package private protected public await arguments eval').split(' '));
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function dirname(file) {
  const at = file.lastIndexOf('/');
  return at <= 0 ? '/' : file.slice(0, at);
}

class Module {
  constructor(id, parent) {
    this.id = id;
    this.path = dirname(id);
    this.exports = {};
    this.filename = id;
    this.loaded = false;
    this.children = [];
    this.paths = [];
    Object.defineProperty(this, 'parent', { value: parent, enumerable: false, writable: true });
    if (parent) parent.children.push(this);
    this.require = makeRequire(this);
  }
}

function makeRequire(parent) {
  function require(specifier) {
    if (typeof specifier !== 'string') {
      const e = new TypeError(`The "id" argument must be of type string. Received ${typeof specifier}`);
      e.code = 'ERR_INVALID_ARG_TYPE';
      throw e;
    }
    const [kind, target] = resolve(parent, specifier);
    if (kind === 'builtin') {
      // What `require` gives for a module bolt provides: its default export, else the namespace.
      const namespace = hooks.importSync(target);
      return 'default' in namespace ? namespace.default : namespace;
    }
    if (kind === 'esm') return hooks.importSync(target);
    return load(target, kind, parent).exports;
  }
  require.resolve = (specifier) => {
    const [kind, target] = resolve(parent, specifier);
    return kind === 'builtin' ? specifier : target;
  };
  require.resolve.paths = () => null;
  require.cache = cache;
  require.main = undefined;
  require.extensions = Object.create(null);
  return require;
}

function load(file, kind, parent) {
  const cached = cache[file];
  if (cached) {
    if (parent && !parent.children.includes(cached)) parent.children.push(cached);
    return cached;
  }
  const module = new Module(file, parent);
  cache[file] = module;
  try {
    if (kind === 'json') {
      const text = hooks.readJson(file);
      try {
        module.exports = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      } catch (e) {
        e.message = `${file}: ${e.message}`;
        throw e;
      }
    } else {
      const moduleFunction = hooks.compile(file);
      moduleFunction.call(module.exports, module.exports, module.require, module, file, module.path);
    }
    module.loaded = true;
  } catch (e) {
    delete cache[file];
    throw e;
  }
  return module;
}

// For ES modules importing a CommonJS or JSON file: module.exports, loaded now.
export function requireFile(file, kind) {
  return load(file, kind, null).exports;
}

// The names an ES module importing this CommonJS file can import: module.exports' own
// enumerable keys that are usable as export names.
export function exportNames(file, kind) {
  const exports = requireFile(file, kind);
  if (kind === 'json' || exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) {
    return [];
  }
  return Object.keys(exports).filter((name) => IDENTIFIER.test(name) && !RESERVED.has(name));
}

export default function install(host) {
  hooks = host;
  return Object.freeze({ requireFile, exportNames });
}
