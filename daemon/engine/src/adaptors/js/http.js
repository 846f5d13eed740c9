// bolt's built-in @openfn/language-http (behaviour of 7.2.10), written for QuickJS.
// The HTTP engine itself is language-common's util.request (as in OpenFn). The common names
// come straight from language-common's sub-modules, so an http step doesn't load all of it.

import {
  execute as commonExecute,
  composeNextState,
  alterState,
  arrayToString,
  chunk,
  combine,
  dataPath,
  field,
  fields,
  fn,
  humanProper,
  splitKeys,
  toArray,
} from '@openfn/language-common/core';
import {
  as,
  dataValue,
  each,
  fnIf,
  group,
  lastReferenceValue,
  map,
  merge,
  scrubEmojis,
  sourceValue,
} from '@openfn/language-common/data';
import { cursor } from '@openfn/language-common/cursor';
import { dateFns } from '@openfn/language-common/dates';
import { parseCsv } from '@openfn/language-common/csv';
import { expandReferences } from '@openfn/language-common/internal/helpers';
import { print } from '@openfn/language-common/internal/inspect';
import {
  request as commonRequest,
  makeBasicAuthHeader,
  encodeFormBody,
  logResponse,
  encode,
  decode,
  uuid,
} from '@openfn/language-common/internal/request';

function addAuth(configuration, headers) {
  if (headers.Authorization) return;
  const { username, password, access_token: accessToken } = configuration ?? {};
  if (accessToken) {
    Object.assign(headers, { Authorization: `Bearer ${accessToken}` });
  } else if (username && password) {
    Object.assign(headers, makeBasicAuthHeader(username, password));
  }
}

function getTLSOptions(state, requestOptions) {
  const { tls: tlsConfig } = state.configuration || {};
  return requestOptions.tls ?? requestOptions.agentOptions ?? tlsConfig;
}

function assertUrl(pathOrUrl, baseUrl) {
  if (!baseUrl && pathOrUrl && !/^https?:\/\//.test(pathOrUrl)) {
    const e = new Error('UNEXPECTED_RELATIVE_URL');
    e.code = 'UNEXPECTED_RELATIVE_URL';
    e.description = "You passed a relative URL but didn't set baseUrl";
    e.url = pathOrUrl;
    e.fix = `Set the baseUrl on state.configuration or use an absolute URL, like https://example.com/api/${pathOrUrl}`;
    throw e;
  }
  if (!baseUrl && !pathOrUrl) {
    const e = new Error('NO_URL');
    e.code = 'NO_URL';
    e.description = 'No URL provided';
    e.fix = 'Make sure to pass a URL string into the request. You may need to set a baseURL on state.configuration.';
    throw e;
  }
}

const CONTENT_TYPES = {
  xml: 'application/xml',
  json: 'application/json',
  string: 'text/plain',
};

function makeRequest(method, path, params) {
  return (state) => {
    const [resolvedPath, resolvedParams = {}] = expandReferences(state, path, params);
    let { body, contentType = 'json', headers = {}, parseAs } = resolvedParams;
    const contentTypeHeader = Object.keys(headers).find((key) => key.toLowerCase() === 'content-type');
    if (contentType === 'form') {
      delete headers[contentTypeHeader];
      headers = { ...headers };
      body = encodeFormBody(body);
    } else if (contentTypeHeader) {
      headers = { ...headers };
    } else {
      headers = { ...headers, 'Content-Type': CONTENT_TYPES[contentType] || 'application/json' };
    }
    const baseUrl = state.configuration?.baseUrl;
    assertUrl(resolvedPath, baseUrl);
    if (baseUrl) addAuth(state.configuration, headers);
    const maxRedirections = resolvedParams.maxRedirections
      ?? (resolvedParams.followAllRedirects === false ? 0 : 5);
    const tls = getTLSOptions(state, resolvedParams);
    if (resolvedParams.agentOptions) {
      print('warn', 'WARNING: The `agentOptions` option has been deprecated. Add `tls` to state.configuration instead.');
    }
    const options = { ...resolvedParams, headers, baseUrl, body, tls, maxRedirections, parseAs };
    return commonRequest(method, resolvedPath, options)
      .then((response) => {
        const { body: responseBody, ...responseWithoutBody } = response;
        logResponse(response);
        return { ...composeNextState(state, responseBody), response: responseWithoutBody };
      })
      .catch((error) => {
        logResponse(error);
        throw error;
      });
  };
}

export function execute(...operations) {
  const initialState = { references: [], data: null };
  return (state) => commonExecute(...operations)({ ...initialState, ...state });
}

export function request(method, path, options) {
  return makeRequest(method, path, options);
}

export function get(path, options) {
  return makeRequest('GET', path, options);
}

export function post(path, data, options) {
  return makeRequest('POST', path, { body: data, ...options });
}

export function put(path, data, options) {
  return makeRequest('PUT', path, { body: data, ...options });
}

export function patch(path, data, options) {
  return makeRequest('PATCH', path, { body: data, ...options });
}

export function del(path, options) {
  return makeRequest('DELETE', path, options);
}

function xmlParser() {
  throw new Error('parseXML is not available in bolt (it needs cheerio, an HTML/XML DOM library)');
}

export function parseXML(data, script) {
  return (state) => xmlParser(state, data, script);
}

const util = {
  CONTENT_TYPES,
  decode,
  encode,
  getTLSOptions,
  request: makeRequest,
  uuid,
  xmlParser,
};

export { util };

export {
  alterState,
  arrayToString,
  as,
  chunk,
  combine,
  cursor,
  dataPath,
  dataValue,
  dateFns,
  each,
  field,
  fields,
  fn,
  fnIf,
  group,
  humanProper,
  lastReferenceValue,
  map,
  merge,
  parseCsv,
  scrubEmojis,
  sourceValue,
  splitKeys,
  toArray,
};

const adaptor = {
  alterState, arrayToString, as, chunk, combine, cursor, dataPath, dataValue, dateFns, del, each, execute,
  field, fields, fn, fnIf, get, group, humanProper, lastReferenceValue, map, merge, parseCsv, parseXML, patch,
  post, put, request, scrubEmojis, sourceValue, splitKeys, toArray,
};

export default adaptor;
