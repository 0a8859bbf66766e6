/**
 * @module
 * The shapes the client exchanges with the broker's HTTP API v1 (docs/http-api.md) and hands to callers.
 * Declared here rather than imported, because the client never imports server code.
 */

/** Bytes, or a string sent as its UTF-8 encoding. */
export type Bytes = Uint8Array | string;

export interface Header {
  key: string;
  value: Uint8Array | null;
}

/** A header as a producer gives it: the value may be a string (UTF-8). */
export interface HeaderInput {
  key: string;
  value: Bytes | null;
}

export interface ProducerRecord {
  key?: Bytes | null;
  value: Bytes | null;
  /** An ordered list (Kafka allows repeated keys), or an object for unique keys. */
  headers?: HeaderInput[] | Record<string, Bytes | null>;
  /** Pins the record to a partition; otherwise the key's murmur2 hash, else a sticky partition, picks it. */
  partition?: number;
  /** CreateTime, epoch ms; defaults to the time the batch is built. */
  timestamp?: number | Date;
}

/** Where a record landed. With acks=0 the offset is -1 (the broker does not say). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Header[];
}

export type TopicConfig = Record<string, string | number>;

export interface PartitionState {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  /** The partition worker that owns it. */
  worker: number;
}

export interface TopicDescription {
  name: string;
  partitions: PartitionState[];
  /** Every setting by its Kafka name, the topic's overrides merged over the broker defaults. */
  config: TopicConfig;
}

export interface TopicSummary {
  name: string;
  partitions: number;
}

/** `earliest`, `latest`, or a time (Date or epoch ms): the first offset whose timestamp is at or after it. */
export type OffsetSpec = 'earliest' | 'latest' | Date | number;

export interface OffsetAnswer {
  /** -1 when no record has a timestamp at or after the time asked for. */
  offset: number;
  timestamp?: number;
}

/** Kafka's acks: 0 (fire and forget), 1 or 'all' (-1). One broker: 1 and 'all' wait for the same thing. */
export type Acks = 0 | 1 | -1 | 'all';
