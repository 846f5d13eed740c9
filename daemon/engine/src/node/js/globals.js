// The globals Node gives module code, for npm modules only (the loader binds each free
// variable of that name to these exports; see engine/node/mod.rs). Job code never sees them,
// as in OpenFn. `global`/`globalThis` are an object whose prototype is the real global
// object and which carries these names, so writes by npm code stay away from jobs.

import { Buffer as NodeBuffer, atob, btoa } from 'node:buffer';
import process from 'node:process';
import { console as nodeConsole } from 'node:console';
import {
  setTimeout as nodeSetTimeout, clearTimeout as nodeClearTimeout, setInterval as nodeSetInterval,
  clearInterval as nodeClearInterval, setImmediate as nodeSetImmediate, clearImmediate as nodeClearImmediate,
  queueMicrotask as nodeQueueMicrotask,
} from 'node:timers';
import { performance as nodePerformance } from 'node:perf_hooks';
import { webcrypto } from 'node:crypto';
import { TextEncoder as NodeTextEncoder, TextDecoder as NodeTextDecoder } from 'bolt:node/internal/encoding';
import { URL as NodeURL, URLSearchParams as NodeURLSearchParams } from 'bolt:node/internal/url';
import {
  Event as NodeEvent, EventTarget as NodeEventTarget, AbortController as NodeAbortController,
  AbortSignal as NodeAbortSignal,
} from 'bolt:node/internal/event_target';
import { Blob as NodeBlob, File as NodeFile } from 'bolt:node/internal/blob';
import {
  ReadableStream as NodeReadableStream, WritableStream as NodeWritableStream, TransformStream as NodeTransformStream,
  ByteLengthQueuingStrategy as NodeByteLengthQueuingStrategy, CountQueuingStrategy as NodeCountQueuingStrategy,
  TextEncoderStream as NodeTextEncoderStream, TextDecoderStream as NodeTextDecoderStream,
} from 'bolt:node/internal/webstreams';
import {
  fetch as nodeFetch, Headers as NodeHeaders, Request as NodeRequest, Response as NodeResponse,
  FormData as NodeFormData, CompressionStream as NodeCompressionStream, DecompressionStream as NodeDecompressionStream,
} from 'bolt:node/internal/fetch';

// ---- structuredClone ----------------------------------------------------------------------

function dataCloneError(value) {
  return new DOMException(`${typeof value === 'function' ? value.toString().slice(0, 60) : String(value)} could not be cloned.`, 'DataCloneError');
}

const ERROR_TYPES = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

function cloneValue(value, memory) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    if (typeof value === 'symbol') throw dataCloneError(value);
    return value;
  }
  if (typeof value === 'function') throw dataCloneError(value);
  if (memory.has(value)) return memory.get(value);
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  let out;
  switch (tag) {
    case 'Boolean': case 'Number': case 'String': case 'BigInt':
      out = Object(value.valueOf());
      memory.set(value, out);
      return out;
    case 'Date':
      out = new Date(value.getTime());
      memory.set(value, out);
      return out;
    case 'RegExp':
      out = new RegExp(value.source, value.flags);
      memory.set(value, out);
      return out;
    case 'ArrayBuffer':
      out = value.slice(0);
      memory.set(value, out);
      return out;
    case 'DataView': {
      const buffer = cloneValue(value.buffer, memory);
      out = new DataView(buffer, value.byteOffset, value.byteLength);
      memory.set(value, out);
      return out;
    }
    case 'Map':
      out = new Map();
      memory.set(value, out);
      for (const [k, v] of value) out.set(cloneValue(k, memory), cloneValue(v, memory));
      return out;
    case 'Set':
      out = new Set();
      memory.set(value, out);
      for (const v of value) out.add(cloneValue(v, memory));
      return out;
    case 'Error': {
      const Kind = ERROR_TYPES[value.name] || Error;
      out = new Kind(value.message);
      memory.set(value, out);
      if (value.stack !== undefined) out.stack = value.stack;
      if ('cause' in value) out.cause = cloneValue(value.cause, memory);
      return out;
    }
    default:
      break;
  }
  if (ArrayBuffer.isView(value)) {
    const buffer = cloneValue(value.buffer, memory);
    // A Buffer clones to a plain Uint8Array, as in Node.
    const Kind = value instanceof NodeBuffer ? Uint8Array : value.constructor;
    out = new Kind(buffer, value.byteOffset, value.length);
    memory.set(value, out);
    return out;
  }
  if (value instanceof NodeBlob) {
    memory.set(value, value);
    return value;
  }
  if (tag === 'WeakMap' || tag === 'WeakSet' || tag === 'Promise' || tag === 'WeakRef' || value instanceof NodeEventTarget) {
    throw dataCloneError(value);
  }
  out = Array.isArray(value) ? new Array(value.length) : {};
  memory.set(value, out);
  for (const key of Object.keys(value)) out[key] = cloneValue(value[key], memory);
  return out;
}

function nodeStructuredClone(value, options = undefined) {
  if (arguments.length === 0) {
    throw new TypeError("The \"value\" argument must be specified");
  }
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError('The "options" argument must be of type object.');
  }
  return cloneValue(value, new Map());
}

// ---- the global object npm code sees ------------------------------------------------------

const nodeCrypto = webcrypto;

const values = {
  AbortController: NodeAbortController,
  AbortSignal: NodeAbortSignal,
  Blob: NodeBlob,
  Buffer: NodeBuffer,
  ByteLengthQueuingStrategy: NodeByteLengthQueuingStrategy,
  CompressionStream: NodeCompressionStream,
  CountQueuingStrategy: NodeCountQueuingStrategy,
  DecompressionStream: NodeDecompressionStream,
  Event: NodeEvent,
  EventTarget: NodeEventTarget,
  File: NodeFile,
  FormData: NodeFormData,
  Headers: NodeHeaders,
  ReadableStream: NodeReadableStream,
  Request: NodeRequest,
  Response: NodeResponse,
  TextDecoder: NodeTextDecoder,
  TextDecoderStream: NodeTextDecoderStream,
  TextEncoder: NodeTextEncoder,
  TextEncoderStream: NodeTextEncoderStream,
  TransformStream: NodeTransformStream,
  URL: NodeURL,
  URLSearchParams: NodeURLSearchParams,
  WritableStream: NodeWritableStream,
  atob,
  btoa,
  clearImmediate: nodeClearImmediate,
  clearInterval: nodeClearInterval,
  clearTimeout: nodeClearTimeout,
  console: nodeConsole,
  crypto: nodeCrypto,
  fetch: nodeFetch,
  performance: nodePerformance,
  process,
  queueMicrotask: nodeQueueMicrotask,
  setImmediate: nodeSetImmediate,
  setInterval: nodeSetInterval,
  setTimeout: nodeSetTimeout,
  structuredClone: nodeStructuredClone,
};

const nodeGlobal = Object.create(globalThis);
for (const [name, value] of Object.entries(values)) {
  Object.defineProperty(nodeGlobal, name, { value, writable: true, enumerable: false, configurable: true });
}
Object.defineProperty(nodeGlobal, 'global', { value: nodeGlobal, writable: true, enumerable: false, configurable: true });
Object.defineProperty(nodeGlobal, 'globalThis', { value: nodeGlobal, writable: true, enumerable: false, configurable: true });

export {
  NodeAbortController as AbortController, NodeAbortSignal as AbortSignal, NodeBlob as Blob, NodeBuffer as Buffer,
  NodeByteLengthQueuingStrategy as ByteLengthQueuingStrategy, NodeCompressionStream as CompressionStream,
  NodeCountQueuingStrategy as CountQueuingStrategy, NodeDecompressionStream as DecompressionStream,
  NodeEvent as Event, NodeEventTarget as EventTarget, NodeFile as File, NodeFormData as FormData,
  NodeHeaders as Headers, NodeReadableStream as ReadableStream, NodeRequest as Request, NodeResponse as Response,
  NodeTextDecoder as TextDecoder, NodeTextDecoderStream as TextDecoderStream, NodeTextEncoder as TextEncoder,
  NodeTextEncoderStream as TextEncoderStream, NodeTransformStream as TransformStream, NodeURL as URL,
  NodeURLSearchParams as URLSearchParams, NodeWritableStream as WritableStream, atob, btoa,
  nodeClearImmediate as clearImmediate, nodeClearInterval as clearInterval, nodeClearTimeout as clearTimeout,
  nodeConsole as console, nodeCrypto as crypto, nodeFetch as fetch, nodeGlobal as global,
  nodeGlobal as globalThis, nodePerformance as performance, process, nodeQueueMicrotask as queueMicrotask,
  nodeSetImmediate as setImmediate, nodeSetInterval as setInterval, nodeSetTimeout as setTimeout,
  nodeStructuredClone as structuredClone,
};
export default nodeGlobal;
