// node:stream/web: the WHATWG streams (also globals for npm code).
import {
  ReadableStream, WritableStream, TransformStream, ByteLengthQueuingStrategy, CountQueuingStrategy,
  TextEncoderStream, TextDecoderStream, ReadableStreamDefaultReader, ReadableStreamDefaultController,
  WritableStreamDefaultWriter, WritableStreamDefaultController, TransformStreamDefaultController,
} from 'bolt:node/internal/webstreams';
import { CompressionStream, DecompressionStream } from 'bolt:node/internal/fetch';

export {
  ReadableStream, WritableStream, TransformStream, ByteLengthQueuingStrategy, CountQueuingStrategy,
  TextEncoderStream, TextDecoderStream, ReadableStreamDefaultReader, ReadableStreamDefaultController,
  WritableStreamDefaultWriter, WritableStreamDefaultController, TransformStreamDefaultController,
  CompressionStream, DecompressionStream,
};
export default {
  ReadableStream, WritableStream, TransformStream, ByteLengthQueuingStrategy, CountQueuingStrategy,
  TextEncoderStream, TextDecoderStream, ReadableStreamDefaultReader, ReadableStreamDefaultController,
  WritableStreamDefaultWriter, WritableStreamDefaultController, TransformStreamDefaultController,
  CompressionStream, DecompressionStream,
};
