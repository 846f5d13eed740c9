// node:http: the client side (request/get → ClientRequest → IncomingMessage) over bolt's
// HTTP host; servers are refused. See internal/http_client.js.

import {
  Agent, globalAgent, ClientRequest, IncomingMessage, OutgoingMessage, METHODS, STATUS_CODES, maxHeaderSize,
  request, get, validateHeaderName, validateHeaderValue, Server, ServerResponse, createServer,
  setMaxIdleHTTPParsers,
} from 'bolt:node/internal/http_client';

export {
  Agent, globalAgent, ClientRequest, IncomingMessage, OutgoingMessage, METHODS, STATUS_CODES, maxHeaderSize,
  request, get, validateHeaderName, validateHeaderValue, Server, ServerResponse, createServer,
  setMaxIdleHTTPParsers,
};

export default {
  Agent, globalAgent, ClientRequest, IncomingMessage, OutgoingMessage, METHODS, STATUS_CODES, maxHeaderSize,
  request, get, validateHeaderName, validateHeaderValue, Server, ServerResponse, createServer,
  setMaxIdleHTTPParsers,
};
