// What `@openfn/language-common/util` gives an npm adaptor that runs on bolt's built-in
// common (its tree has no language-common of its own): the names the npm package's `util`
// subpath exports (3.x), over the same HTTP engine as the built-in adaptors.

import { expandReferences, parseDate } from '@openfn/language-common/internal/helpers';
import { print } from '@openfn/language-common/internal/inspect';
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

export {
  ERROR_ABSOLUTE_URL,
  ERROR_URL_MISMATCH,
  assertRelativeUrl,
  decode,
  encode,
  encodeFormBody,
  expandReferences,
  logResponse,
  makeBasicAuthHeader,
  parseDate,
  parseUrl,
  request,
  throwError,
  uuid,
};

export const get = (url, options) => request('GET', url, options);
export const post = (url, body, options) => request('POST', url, { body, ...options });
export const put = (url, body, options) => request('PUT', url, { body, ...options });
export const del = (url, body, options) => request('DELETE', url, { body, ...options });

// Options serialised in key order (nested objects in braces, undefined values left out), so
// equal agent options give equal keys.
function serialiseOptions(options) {
  return Object.keys(options)
    .filter((key) => options[key] !== undefined)
    .sort()
    .map((key) => {
      let value = options[key];
      if (value && typeof value === 'object') {
        value = Object.keys(value).length ? `{${serialiseOptions(value)}}` : '';
      }
      return `${key}:${value}`;
    })
    .join('|');
}

export function generateAgentKey(baseUrl, agentOptions = {}) {
  const serialised = Object.keys(agentOptions).length ? serialiseOptions(agentOptions) : '';
  return serialised ? `${baseUrl}+${serialised}` : baseUrl;
}

export function normalizeOauthConfig(configuration) {
  const { access_token: snake, accessToken: camel } = configuration;
  if (snake && camel) {
    throw new Error(
      'Both "accessToken" & "access_token" keys found in configuration; please use only "access_token" for OAuth2 credentials.',
    );
  }
  if (snake) return { ...configuration, accessToken: snake };
  print('log', 'Key "access_token" not found in state.configuration; is this a standard OAuth 2.0 JSON credential?');
  if (camel) print('log', 'Using "accessToken" from state.configuration');
  return configuration;
}

export function enableMockClient() {
  throw new Error(
    "enableMockClient() mocks undici's HTTP client for adaptor unit tests; it is not available in bolt",
  );
}
