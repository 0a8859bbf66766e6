/**
 * @module
 * Freshet's TypeScript client (`freshet/client`): Admin, Producer and Consumer over the HTTP API v1, always
 * in msgpack. Needs only fetch, msgpackr, TextEncoder/TextDecoder and AbortController, so it runs unchanged
 * on Bun, Node 20+, Deno and in browsers.
 */

export { Admin, type AdminOptions, type CreateTopicOptions } from './admin.ts';
export { utf8 } from './codec.ts';
export {
  type AutoOffsetReset,
  Consumer,
  type ConsumerOptions,
  type PollOptions,
  type StartOffset,
  type TopicPartitionOffset,
} from './consumer.ts';
export { FreshetError, type FreshetErrorCode, type FreshetErrorOptions } from './errors.ts';
export {
  DEFAULT_URL,
  HttpClient,
  type HttpOptions,
  type RequestOptions,
  type RetryHooks,
  type RetryPolicy,
} from './http.ts';
export { Producer, type ProducerOptions } from './producer.ts';
export type {
  Acks,
  Bytes,
  ConsumerRecord,
  Header,
  HeaderInput,
  OffsetAnswer,
  OffsetSpec,
  PartitionState,
  ProducerRecord,
  RecordMetadata,
  TopicConfig,
  TopicDescription,
  TopicSummary,
} from './types.ts';
