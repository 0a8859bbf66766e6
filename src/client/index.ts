/**
 * @module
 * Freshet's TypeScript client (`freshet/client`): Admin, Producer and Consumer over the HTTP API v1, always
 * in msgpack. Needs only fetch, msgpackr, TextEncoder/TextDecoder and AbortController, so it runs unchanged
 * on Bun, Node 20+, Deno and in browsers.
 *
 * ```ts
 * const producer = new Producer({ url: 'http://127.0.0.1:8080' });
 * const { partition, offset } = await producer.send('orders', { key: 'user-1', value: '{"total":3}' });
 * await producer.close();
 *
 * const consumer = new Consumer({ url: 'http://127.0.0.1:8080', autoOffsetReset: 'earliest' });
 * consumer.assign([{ topic: 'orders', partition }]);
 * for await (const record of consumer) console.log(record.offset, utf8(record.value));
 * ```
 *
 * In a cluster, give any broker as `url` (or several as `bootstrap`, to start while one is down):
 * requests for a partition go to its leader, found through the topic's description and `GET /v1/cluster`,
 * and follow it when leadership moves (router.ts).
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
export type { GroupMetadata, RebalanceCallback, SubscribeOptions, TopicPartition } from './group-member.ts';
export {
  DEFAULT_URL,
  HttpClient,
  type HttpOptions,
  type RawAnswer,
  type RequestOptions,
  type RetryHooks,
  type RetryPolicy,
} from './http.ts';
export { Producer, type ProducerOptions } from './producer.ts';
export { type BrokerAddress, brokerUrl, LeaderRouter } from './router.ts';
export type {
  Acks,
  Bytes,
  CommittedOffset,
  ConsumerRecord,
  GroupDescription,
  GroupMemberDescription,
  GroupOverview,
  GroupPartitionLag,
  GroupState,
  GroupTopicPartitions,
  Header,
  HeaderInput,
  OffsetAnswer,
  OffsetCommit,
  OffsetResetTarget,
  OffsetSpec,
  PartitionState,
  ProducerRecord,
  RecordMetadata,
  ResolvedOffset,
  TopicConfig,
  TopicConfigChanges,
  TopicDescription,
  TopicSummary,
} from './types.ts';
