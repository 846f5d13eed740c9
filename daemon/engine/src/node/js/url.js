// node:url: the WHATWG URL classes, and the legacy API (`url.parse`, `url.format`,
// `url.resolve`, `Url`) with Node's own parsing rules, which differ from WHATWG's (hosts
// are lower-cased and punycoded, unsafe characters escaped, no path normalisation).

import { URL, URLSearchParams, domainToASCII, domainToUnicode } from 'bolt:node/internal/url';
import querystring from 'node:querystring';
import { nodeError, invalidArgType, validateString } from 'bolt:node/internal/errors';
import { host } from 'bolt:node/internal/host';

export { URL, URLSearchParams, domainToASCII, domainToUnicode };

export function Url() {
  this.protocol = null;
  this.slashes = null;
  this.auth = null;
  this.host = null;
  this.port = null;
  this.hostname = null;
  this.hash = null;
  this.search = null;
  this.query = null;
  this.pathname = null;
  this.path = null;
  this.href = null;
}

const protocolPattern = /^[a-z0-9.+-]+:/i;
const portPattern = /:[0-9]*$/;
const hostPattern = /^\/\/[^@/]+@[^@/]+/;
const simplePathPattern = /^(\/\/?(?!\/)[^?\s]*)(\?[^\s]*)?$/;
const hostnameMaxLen = 255;
const unsafeProtocol = new Set(['javascript', 'javascript:']);
const hostlessProtocol = new Set(['javascript', 'javascript:']);
const slashedProtocol = new Set(['http', 'http:', 'https', 'https:', 'ftp', 'ftp:', 'gopher', 'gopher:',
  'file', 'file:', 'ws', 'ws:', 'wss', 'wss:']);
// Characters that are never allowed in a hostname (RFC 2396), and those ending it.
const NON_HOST = new Set(['\t', '\n', '\r', ' ', '"', '%', "'", ';', '<', '>', '\\', '^', '`', '{', '|', '}']);
const HOST_ENDING = new Set(['#', '/', '?']);
const AUTO_ESCAPE = {
  '\t': '%09', '\n': '%0A', '\r': '%0D', ' ': '%20', '"': '%22', "'": '%27', '<': '%3C', '>': '%3E',
  '\\': '%5C', '^': '%5E', '`': '%60', '{': '%7B', '|': '%7C', '}': '%7D',
};
const forbiddenHostChars = /[\0\t\n\r #%/:<>?@[\\\]^|]/;
const forbiddenHostCharsIpv6 = /[\0\t\n\r #%/<>?@\\^|]/;

function isIpv6Hostname(hostname) {
  return hostname.startsWith('[') && hostname.endsWith(']');
}

function invalidUrl(input) {
  const error = nodeError(TypeError, 'ERR_INVALID_URL', 'Invalid URL');
  error.input = input;
  return error;
}

export function parse(url, parseQueryString, slashesDenoteHost) {
  if (url instanceof Url) return url;
  const result = new Url();
  result.parse(url, parseQueryString, slashesDenoteHost);
  return result;
}

Url.prototype.parse = function parseUrl(url, parseQueryString, slashesDenoteHost) {
  validateString(url, 'url');
  // Backslashes before the query become slashes (as browsers do); trim whitespace.
  let hasHash = false;
  let hasAt = false;
  let split = false;
  let rest = '';
  const trimmed = url.replace(/^[\s\u00a0\ufeff]+|[\s\u00a0\ufeff]+$/g, '');
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed[i];
    if (!split) {
      if (c === '@') hasAt = true;
      else if (c === '#') { hasHash = true; split = true; } else if (c === '?') split = true;
      else if (c === '\\') { rest += '/'; continue; }
    } else if (c === '#') {
      hasHash = true;
    }
    rest += c;
  }

  if (!slashesDenoteHost && !hasHash && !hasAt) {
    const simplePath = simplePathPattern.exec(rest);
    if (simplePath) {
      this.path = rest;
      this.href = rest;
      this.pathname = simplePath[1];
      if (simplePath[2]) {
        this.search = simplePath[2];
        this.query = parseQueryString ? querystring.parse(this.search.slice(1)) : this.search.slice(1);
      } else if (parseQueryString) {
        this.search = null;
        this.query = Object.create(null);
      }
      return this;
    }
  }

  let proto = protocolPattern.exec(rest);
  let lowerProto;
  if (proto) {
    proto = proto[0];
    lowerProto = proto.toLowerCase();
    this.protocol = lowerProto;
    rest = rest.slice(proto.length);
  }

  let slashes;
  if (slashesDenoteHost || proto || hostPattern.test(rest)) {
    slashes = rest.startsWith('//');
    if (slashes && !(proto && hostlessProtocol.has(lowerProto))) {
      rest = rest.slice(2);
      this.slashes = true;
    }
  }

  if (!hostlessProtocol.has(lowerProto) && (slashes || (proto && !slashedProtocol.has(proto)))) {
    let hostEnd = -1;
    let atSign = -1;
    let nonHost = -1;
    for (let i = 0; i < rest.length; ++i) {
      const c = rest[i];
      if (NON_HOST.has(c)) {
        if (nonHost === -1) nonHost = i;
      } else if (HOST_ENDING.has(c)) {
        if (nonHost === -1) nonHost = i;
        hostEnd = i;
      } else if (c === '@') {
        atSign = i;
        nonHost = -1;
      }
      if (hostEnd !== -1) break;
    }
    let start = 0;
    if (atSign !== -1) {
      this.auth = decodeURIComponent(rest.slice(0, atSign));
      start = atSign + 1;
    }
    if (nonHost === -1) {
      this.host = rest.slice(start);
      rest = '';
    } else {
      this.host = rest.slice(start, nonHost);
      rest = rest.slice(nonHost);
    }
    this.parseHost();
    if (typeof this.hostname !== 'string') this.hostname = '';
    const hostname = this.hostname;
    const ipv6Hostname = isIpv6Hostname(hostname);
    if (!ipv6Hostname) rest = validHostnamePart(this, rest, hostname);
    if (this.hostname.length > hostnameMaxLen) this.hostname = '';
    else this.hostname = this.hostname.toLowerCase();
    if (this.hostname !== '') {
      if (ipv6Hostname) {
        if (forbiddenHostCharsIpv6.test(this.hostname)) throw invalidUrl(url);
      } else {
        // Non-ASCII labels become punycode, as Node does with the WHATWG host parser.
        const ascii = /[^\x00-\x7f]/.test(this.hostname) ? host().url.toAscii(this.hostname) : this.hostname;
        if (ascii === '' || forbiddenHostChars.test(ascii)) throw invalidUrl(url);
        this.hostname = ascii;
      }
    }
    const p = this.port ? `:${this.port}` : '';
    this.host = `${this.hostname || ''}${p}`;
    if (ipv6Hostname) {
      this.hostname = this.hostname.slice(1, -1);
      if (rest[0] !== '/') rest = `/${rest}`;
    }
  }

  if (!unsafeProtocol.has(lowerProto)) rest = rest.replace(/[\t\n\r "'<>\\^`{|}]/g, (c) => AUTO_ESCAPE[c]);

  let questionIdx = -1;
  let hashIdx = -1;
  for (let i = 0; i < rest.length; ++i) {
    if (rest[i] === '#') {
      this.hash = rest.slice(i);
      hashIdx = i;
      break;
    } else if (rest[i] === '?' && questionIdx === -1) {
      questionIdx = i;
    }
  }
  if (questionIdx !== -1) {
    if (hashIdx === -1) {
      this.search = rest.slice(questionIdx);
      this.query = rest.slice(questionIdx + 1);
    } else {
      this.search = rest.slice(questionIdx, hashIdx);
      this.query = rest.slice(questionIdx + 1, hashIdx);
    }
    if (parseQueryString) this.query = querystring.parse(this.query);
  } else if (parseQueryString) {
    this.search = null;
    this.query = Object.create(null);
  }
  const useQuestionIdx = questionIdx !== -1 && (hashIdx === -1 || questionIdx < hashIdx);
  const firstIdx = useQuestionIdx ? questionIdx : hashIdx;
  if (firstIdx === -1) {
    if (rest.length > 0) this.pathname = rest;
  } else if (firstIdx > 0) {
    this.pathname = rest.slice(0, firstIdx);
  }
  if (slashedProtocol.has(lowerProto) && this.hostname && !this.pathname) this.pathname = '/';
  if (this.pathname || this.search) this.path = `${this.pathname || ''}${this.search || ''}`;
  this.href = this.format();
  return this;
};

// A hostname stops at the first character a hostname can't have; the rest joins the path.
function validHostnamePart(self, rest, hostname) {
  for (let i = 0; i < hostname.length; ++i) {
    const code = hostname.charCodeAt(i);
    const isValid = (code >= 97 && code <= 122) || code === 46 || (code >= 65 && code <= 90) ||
      (code >= 48 && code <= 57) || code === 45 || code === 43 || code === 95 || code > 127;
    if (!isValid) {
      self.hostname = hostname.slice(0, i);
      return `/${hostname.slice(i)}${rest}`;
    }
  }
  return rest;
}

Url.prototype.parseHost = function parseHost() {
  let hostPart = this.host;
  const port = portPattern.exec(hostPart);
  if (port) {
    if (port[0] !== ':') this.port = port[0].slice(1);
    hostPart = hostPart.slice(0, hostPart.length - port[0].length);
  }
  if (hostPart) this.hostname = hostPart;
};

// Characters kept as they are in `auth` when formatting.
function encodeAuth(auth) {
  let out = '';
  for (const c of auth) {
    if (/[A-Za-z0-9!'()*\-._~:]/.test(c)) out += c;
    else out += encodeURIComponent(c).replace(/[!'()*]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  return out;
}

Url.prototype.format = function formatUrl() {
  let auth = this.auth || '';
  if (auth) auth = `${encodeAuth(auth)}@`;
  let protocol = this.protocol || '';
  let pathname = this.pathname || '';
  let hash = this.hash || '';
  let hostPart = '';
  let query = '';
  if (this.host) {
    hostPart = auth + this.host;
  } else if (this.hostname) {
    hostPart = auth + (this.hostname.includes(':') && !isIpv6Hostname(this.hostname) ? `[${this.hostname}]` : this.hostname);
    if (this.port) hostPart += `:${this.port}`;
  }
  if (this.query !== null && typeof this.query === 'object') query = querystring.stringify(this.query);
  let search = this.search || (query && `?${query}`) || '';
  if (protocol && !protocol.endsWith(':')) protocol += ':';
  pathname = pathname.replace(/[#?]/g, (c) => (c === '#' ? '%23' : '%3F'));
  if (this.slashes || slashedProtocol.has(protocol)) {
    if (this.slashes || hostPart) {
      if (pathname && pathname[0] !== '/') pathname = `/${pathname}`;
      hostPart = `//${hostPart}`;
    } else if (protocol.startsWith('file')) {
      hostPart = '//';
    }
  }
  search = search.replace(/#/g, '%23');
  if (hash && hash[0] !== '#') hash = `#${hash}`;
  if (search && search[0] !== '?') search = `?${search}`;
  return protocol + hostPart + pathname + search + hash;
};

export function format(urlObject, options) {
  if (typeof urlObject === 'string') {
    urlObject = parse(urlObject);
  } else if (typeof urlObject !== 'object' || urlObject === null) {
    throw invalidArgType('urlObject', 'one of type object or string', urlObject);
  } else if (urlObject instanceof URL) {
    let fragment = true;
    let unicode = false;
    let search = true;
    let auth = true;
    if (options) {
      if (options.fragment !== undefined) fragment = Boolean(options.fragment);
      if (options.unicode !== undefined) unicode = Boolean(options.unicode);
      if (options.search !== undefined) search = Boolean(options.search);
      if (options.auth !== undefined) auth = Boolean(options.auth);
    }
    let out = urlObject.protocol;
    if (urlObject.host !== '' || urlObject.protocol === 'file:') out += '//';
    if (auth && (urlObject.username || urlObject.password)) {
      out += urlObject.username;
      if (urlObject.password) out += `:${urlObject.password}`;
      out += '@';
    }
    out += unicode ? domainToUnicode(urlObject.host) : urlObject.host;
    out += urlObject.pathname;
    if (search) out += urlObject.search;
    if (fragment) out += urlObject.hash;
    return out;
  }
  return Url.prototype.format.call(urlObject);
}

Url.prototype.resolve = function resolveUrl(relative) {
  return resolve(this.format(), relative);
};

/**
 * Resolves `to` against `from` as a browser resolves a link. An absolute `from` resolves
 * through the WHATWG parser; a relative one (`/one/two`) as a path on an anonymous host.
 */
export function resolve(from, to) {
  validateString(from, 'from');
  validateString(to, 'to');
  const base = parse(from, false, true);
  if (base.protocol && (base.host || !slashedProtocol.has(base.protocol))) {
    try {
      return new URL(to, from).href;
    } catch (_) {
      return to;
    }
  }
  const target = parse(to, false, true);
  if (target.protocol || target.host) return format(target);
  const anchored = from.startsWith('/') ? from : `/${from}`;
  const resolved = new URL(to, `http://bolt.invalid${anchored}`);
  const path = `${resolved.pathname}${resolved.search}${resolved.hash}`;
  return from.startsWith('/') || to.startsWith('/') ? path : path.slice(1);
}

export function resolveObject(source, relative) {
  if (!source) return relative;
  return parse(resolve(typeof source === 'string' ? source : format(source), typeof relative === 'string' ? relative : format(relative)));
}

export function fileURLToPath(path) {
  if (typeof path === 'string') path = new URL(path);
  else if (!(path instanceof URL)) throw invalidArgType('path', 'of type string or an instance of URL', path);
  if (path.protocol !== 'file:') throw nodeError(TypeError, 'ERR_INVALID_URL_SCHEME', 'The URL must be of scheme file');
  if (path.hostname !== '' && path.hostname !== 'localhost') {
    throw nodeError(TypeError, 'ERR_INVALID_FILE_URL_HOST', 'File URL host must be "localhost" or empty on linux');
  }
  const pathname = path.pathname;
  if (/%2f/i.test(pathname)) {
    throw nodeError(TypeError, 'ERR_INVALID_FILE_URL_PATH', 'File URL path must not include encoded / characters');
  }
  return decodeURIComponent(pathname);
}

export function pathToFileURL(filepath) {
  validateString(filepath, 'path');
  let resolved = filepath.startsWith('/') ? filepath : `/${filepath}`;
  if (filepath.endsWith('/') && !resolved.endsWith('/')) resolved += '/';
  const url = new URL('file://');
  url.pathname = resolved.replace(/%/g, '%25').replace(/\\/g, '%5C').replace(/\n/g, '%0A')
    .replace(/\r/g, '%0D').replace(/\t/g, '%09').replace(/#/g, '%23').replace(/\?/g, '%3F');
  return url;
}

export function urlToHttpOptions(url) {
  const options = {
    protocol: url.protocol,
    hostname: typeof url.hostname === 'string' && url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    hash: url.hash,
    search: url.search,
    pathname: url.pathname,
    path: `${url.pathname || ''}${url.search || ''}`,
    href: url.href,
  };
  if (url.port !== '') options.port = Number(url.port);
  if (url.username || url.password) {
    options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  }
  return options;
}

export default {
  URL, URLSearchParams, Url, parse, format, resolve, resolveObject, domainToASCII, domainToUnicode,
  fileURLToPath, pathToFileURL, urlToHttpOptions,
};
