// node:https: node:http's client for `https:` URLs, with the TLS options (`ca`, `cert`,
// `key`, `rejectUnauthorized`) of the request or its agent; servers are refused.

import { makeHttps } from 'bolt:node/internal/http_client';

const https = makeHttps();
export const { Agent, globalAgent, request, get, Server, createServer } = https;
export default https;
