// language-common's `util` and `http` exports: helpers over the HTTP engine
// (internal/request), and language-common's own HTTP operations.

import { expandReferences, parseDate, set } from '@openfn/language-common/internal/helpers';
import { base64ToBytes, bytesToBase64, utf8Decode, utf8Encode } from '@openfn/language-common/internal/bytes';
import { formatArgs, inspect, print } from '@openfn/language-common/internal/inspect';
import {
  ERROR_ABSOLUTE_URL,
  ERROR_URL_MISMATCH,
  assertRelativeUrl,
  decode,
  encode,
  encodeFormBody,
  logResponse,
  makeBasicAuthHeader,
  parseUrl,
  request,
  throwError,
  uuid,
} from '@openfn/language-common/internal/request';
import { composeNextState } from '@openfn/language-common/core';

const util = {
  ERROR_ABSOLUTE_URL,
  ERROR_URL_MISMATCH,
  assertRelativeUrl,
  decode,
  del: (url, body, options) => request('DELETE', url, { body, ...options }),
  encode,
  encodeFormBody,
  expandReferences,
  get: (url, options) => request('GET', url, options),
  logResponse,
  makeBasicAuthHeader,
  parseDate,
  parseUrl,
  post: (url, body, options) => request('POST', url, { body, ...options }),
  put: (url, body, options) => request('PUT', url, { body, ...options }),
  request,
  throwError,
  uuid,
};

// For language-http and the runtime: bolt internals, invisible to Object.keys(util).
Object.defineProperty(util, '__bolt', {
  enumerable: false,
  value: { print, inspect, formatArgs, composeNextState, utf8Encode, utf8Decode, bytesToBase64, base64ToBytes },
});

export { util };

// ---------------------------------------------------------------------------------------
// http: language-common's own HTTP operations (no auth from configuration, no references)
// ---------------------------------------------------------------------------------------

const optionHelpers = {
  json() {
    set(this, 'headers.Content-Type', 'application/json');
    return this;
  },
  basic(username, password) {
    set(this, 'headers.Authorization', `Basic ${encode(`${username}:${password}`)}`);
    return this;
  },
  bearer(token) {
    set(this, 'headers.Authorization', `Bearer ${token}`);
    return this;
  },
  oauth(token) {
    set(this, 'headers.Authorization', `Bearer ${token}`);
    return this;
  },
};

function httpOptions(opts = {}) {
  for (const name of Object.keys(optionHelpers)) {
    Object.defineProperty(opts, name, { enumerable: false, configurable: true, value: optionHelpers[name] });
  }
  return opts;
}

function httpRequest(method, url, options) {
  return async (state) => {
    const [resolvedMethod, resolvedUrl, resolvedOptions] = expandReferences(state, method, url, options);
    const { body, ...withoutBody } = await request(resolvedMethod, resolvedUrl, resolvedOptions);
    return { ...state, response: withoutBody, data: body };
  };
}

export const http = {
  get: (url, options) => httpRequest('GET', url, options),
  options: httpOptions,
  post: (url, data, options) => httpRequest('POST', url, { body: data, ...options }),
  request: httpRequest,
};
