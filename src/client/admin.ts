/**
 * @module
 * `Admin`: topic management and offset look-ups over the HTTP API (docs/http-api.md, `/v1/topics`).
 * Reads retry on retriable errors and overload (not on UNKNOWN_TOPIC_OR_PARTITION); writes (create, delete, alter) are sent once, since sending
 * them again after a lost answer would turn success into TOPIC_ALREADY_EXISTS or UNKNOWN_TOPIC_OR_PARTITION.
 */
import { FreshetError } from './errors.ts';
import {
  DEFAULT_RETRY_POLICY,
  HttpClient,
  type HttpOptions,
  type RetryPolicy,
  topicPath,
  withRetries,
} from './http.ts';
import type { OffsetAnswer, OffsetSpec, TopicConfig, TopicDescription, TopicSummary } from './types.ts';

export interface AdminOptions extends HttpOptions, Partial<RetryPolicy> {
  /** Share one HttpClient between clients; its options then win over url/fetch/headers here. */
  http?: HttpClient;
}

export interface CreateTopicOptions {
  /** Default: the broker's `--default-partitions`. */
  partitions?: number;
  /** Overrides by Kafka name, e.g. `{"retention.ms": 60000, "cleanup.policy": "compact"}`. */
  config?: TopicConfig;
}

export class Admin {
  readonly http: HttpClient;
  private readonly retry: RetryPolicy;

  constructor(options: AdminOptions = {}) {
    this.http = options.http ?? new HttpClient(options);
    this.retry = {
      retries: options.retries ?? DEFAULT_RETRY_POLICY.retries,
      retryBackoffMs: options.retryBackoffMs ?? DEFAULT_RETRY_POLICY.retryBackoffMs,
      maxRetryBackoffMs: options.maxRetryBackoffMs ?? DEFAULT_RETRY_POLICY.maxRetryBackoffMs,
    };
  }

  createTopic(name: string, options: CreateTopicOptions = {}): Promise<TopicDescription> {
    return this.http.request('POST', '/v1/topics', {
      body: { name, partitions: options.partitions, config: options.config },
    });
  }

  async listTopics(): Promise<TopicSummary[]> {
    const answer = await this.read<{ topics: TopicSummary[] }>('/v1/topics');
    return answer.topics;
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return this.read(topicPath(name));
  }

  async deleteTopic(name: string): Promise<void> {
    await this.http.request('DELETE', topicPath(name));
  }

  alterTopicConfig(name: string, config: TopicConfig): Promise<TopicDescription> {
    return this.http.request('PATCH', `${topicPath(name)}/config`, { body: { config } });
  }

  /** Grows the topic to `count` partitions in total (never shrinks: INVALID_PARTITIONS). */
  createPartitions(name: string, count: number): Promise<TopicDescription> {
    return this.http.request('POST', `${topicPath(name)}/partitions`, { body: { count } });
  }

  /**
   * The earliest or latest offset of a partition, or the first offset whose timestamp is at or after a time
   * (a Date or epoch ms; offset -1 when there is none).
   */
  listOffset(topic: string, partition: number, spec: OffsetSpec): Promise<OffsetAnswer> {
    return this.read(`${topicPath(topic)}/partitions/${partition}/offsets`, { at: offsetQuery(spec) });
  }

  /** A GET, retried on overload and network trouble; a missing topic is an answer, not worth retrying. */
  private read<T>(path: string, query?: Record<string, string | number>): Promise<T> {
    return withRetries(this.retry, () => this.http.request<T>('GET', path, query ? { query } : {}), {
      retryIf: (err) => err.code !== 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  }
}

/** The `at` parameter of the offsets endpoint. */
export function offsetQuery(spec: OffsetSpec): string {
  if (spec === 'earliest' || spec === 'latest') return spec;
  const time = spec instanceof Date ? spec.getTime() : spec;
  if (!Number.isSafeInteger(time)) {
    throw new FreshetError(
      'INVALID_REQUEST',
      `offset spec must be earliest, latest or a time, got ${String(spec)}`,
    );
  }
  return String(time);
}
