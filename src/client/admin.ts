/**
 * @module
 * `Admin`: topic management, offset look-ups and consumer-group administration over the HTTP API
 * (docs/http-api.md, `/v1/topics` and `/v1/groups`).
 * Reads retry on retriable errors and overload (not on UNKNOWN_TOPIC_OR_PARTITION); writes (create, delete, alter) are sent once, since sending
 * them again after a lost answer would turn success into TOPIC_ALREADY_EXISTS or UNKNOWN_TOPIC_OR_PARTITION.
 * Offset commits are the exception: committing the same offsets twice leaves the same state, so they retry.
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
import type {
  CommittedOffset,
  GroupDescription,
  GroupOverview,
  OffsetAnswer,
  OffsetCommit,
  OffsetResetTarget,
  OffsetSpec,
  PartitionState,
  ResolvedOffset,
  TopicConfig,
  TopicConfigChanges,
  TopicDescription,
  TopicSummary,
} from './types.ts';

export interface AdminOptions extends HttpOptions, Partial<RetryPolicy> {
  /** Share one HttpClient between clients; its options then win over url/fetch/headers here. */
  http?: HttpClient;
}

export interface CreateTopicOptions {
  /** Default: the broker's `--default-partitions`. */
  partitions?: number;
  /** Overrides by Kafka name, e.g. `{"retention.ms": 60000, "cleanup.policy": "compact"}`. */
  config?: TopicConfig;
  /**
   * Replicas of each partition; default: the broker's default replication factor. A single broker (no
   * `--etcd`) refuses anything but 1 with INVALID_REPLICATION_FACTOR; a cluster takes up to its live
   * broker count.
   */
  replicationFactor?: number;
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

  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<TopicDescription> {
    const { partitions, config, replicationFactor } = options;
    return this.learnt(
      await this.http.request('POST', '/v1/topics', {
        body: { name, partitions, config, replicationFactor },
      }),
    );
  }

  async listTopics(): Promise<TopicSummary[]> {
    const answer = await this.read<{ topics: TopicSummary[] }>('/v1/topics');
    return answer.topics;
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    return this.learnt(await this.read<TopicDescription>(topicPath(name)));
  }

  async deleteTopic(name: string): Promise<void> {
    await this.http.request('DELETE', topicPath(name));
  }

  /**
   * Changes the topic's overrides by Kafka name: a value sets one, `null` removes one (the setting goes back to
   * the broker default); settings not named stay as they are.
   */
  async alterTopicConfig(name: string, config: TopicConfigChanges): Promise<TopicDescription> {
    return this.learnt(await this.http.request('PATCH', `${topicPath(name)}/config`, { body: { config } }));
  }

  /**
   * Moves a partition's replicas to `replicas` (a cluster only): the new replicas copy the log first, then
   * the old ones are dropped and leadership moves into the new set. Resolves once the move is recorded,
   * with the partition as it stands (`targetReplicas` while it is in progress).
   */
  async reassignPartition(topic: string, partition: number, replicas: number[]): Promise<PartitionState> {
    return this.http.request('POST', `${topicPath(topic)}/partitions/${partition}/reassign`, {
      body: { replicas },
    });
  }

  /** Grows the topic to `count` partitions in total (never shrinks: INVALID_PARTITIONS). */
  async createPartitions(name: string, count: number): Promise<TopicDescription> {
    return this.learnt(await this.http.request('POST', `${topicPath(name)}/partitions`, { body: { count } }));
  }

  /**
   * The earliest or latest offset of a partition, or the first offset whose timestamp is at or after a time
   * (a Date or epoch ms; offset -1 when there is none).
   */
  listOffset(topic: string, partition: number, spec: OffsetSpec): Promise<OffsetAnswer> {
    return this.read(
      `${topicPath(topic)}/partitions/${partition}/offsets`,
      { at: offsetQuery(spec) },
      { topic, partition },
    );
  }

  /**
   * The description with each partition's logStartOffset and highWatermark as its leader has them. A
   * cluster broker's description is current only for the partitions it leads, so when the description
   * names leaders each leader is asked (earliest and latest offsets); a single broker's is returned as is.
   * With `bestEffort`, a partition whose leader does not answer keeps the description's values.
   */
  async withLeaderOffsets(
    description: TopicDescription,
    options: { bestEffort?: boolean } = {},
  ): Promise<TopicDescription> {
    if (!description.partitions.some((p) => p.leader !== undefined)) return description;
    const { name } = description;
    const partitions = await Promise.all(
      description.partitions.map(async (state) => {
        try {
          const [earliest, latest] = await Promise.all([
            this.listOffset(name, state.partition, 'earliest'),
            this.listOffset(name, state.partition, 'latest'),
          ]);
          return { ...state, logStartOffset: earliest.offset, highWatermark: latest.offset };
        } catch (err) {
          if (options.bestEffort) return state;
          throw err;
        }
      }),
    );
    return { ...description, partitions };
  }

  async listGroups(): Promise<GroupOverview[]> {
    const answer = await this.read<{ groups: GroupOverview[] }>('/v1/groups');
    return answer.groups;
  }

  /** State, members and lag per partition; GROUP_ID_NOT_FOUND when the broker knows no such group. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    return this.read(groupPath(groupId));
  }

  /** Deletes a group and its offsets; NON_EMPTY_GROUP while it has members. */
  async deleteGroup(groupId: string): Promise<void> {
    await this.http.request('DELETE', groupPath(groupId));
  }

  /** The offsets a group committed, on every topic or on one. */
  async fetchOffsets(groupId: string, topic?: string): Promise<CommittedOffset[]> {
    const answer = await this.read<{ offsets: CommittedOffset[] }>(
      `${groupPath(groupId)}/offsets`,
      topic === undefined ? undefined : { topic },
    );
    return answer.offsets;
  }

  /**
   * An admin commit (no memberId): the broker takes it only while the group has no members
   * (UNKNOWN_MEMBER_ID otherwise). Nothing is written unless every partition exists.
   */
  async commitOffsets(groupId: string, offsets: OffsetCommit[]): Promise<void> {
    const body = {
      offsets: offsets.map(({ topic, partition, offset, metadata }) => ({
        topic,
        partition,
        offset,
        metadata,
      })),
    };
    await withRetries(
      this.retry,
      () => this.http.request('POST', `${groupPath(groupId)}/offsets`, { body }),
      {
        retryIf: (err) => err.code !== 'UNKNOWN_TOPIC_OR_PARTITION',
      },
    );
  }

  /**
   * The offsets `resetOffsets` would commit, without committing them: per partition of `topic` (or of
   * `partitions`), the log start, the log end, `{offset}` clamped into [log start, log end], or the first
   * offset at or after `{timestamp}` (the log end when no record is that recent, as Kafka's tool does).
   */
  async resolveOffsets(
    topic: string,
    to: OffsetResetTarget,
    partitions?: number[],
  ): Promise<ResolvedOffset[]> {
    checkResetTarget(to);
    let description = await this.describeTopic(topic);
    // {offset} is clamped into the log's range, which only each partition's leader knows for sure.
    if (typeof to === 'object' && 'offset' in to) description = await this.withLeaderOffsets(description);
    let states = description.partitions;
    if (partitions !== undefined) {
      const wanted = new Set(partitions);
      states = states.filter((p) => wanted.has(p.partition));
      const missing = [...wanted].filter((p) => !states.some((s) => s.partition === p));
      if (missing.length > 0) {
        throw new FreshetError(
          'UNKNOWN_TOPIC_OR_PARTITION',
          `topic '${topic}' has ${description.partitions.length} partitions, no partition ${missing.join(', ')}`,
          { retriable: false },
        );
      }
    }
    const resolved = await Promise.all(
      states.map(async (state): Promise<ResolvedOffset> => {
        const { partition } = state;
        let offset: number;
        if (to === 'earliest' || to === 'latest') {
          offset = (await this.listOffset(topic, partition, to)).offset;
        } else if ('offset' in to) {
          offset = Math.min(Math.max(to.offset, state.logStartOffset), state.highWatermark);
        } else {
          offset = (await this.listOffset(topic, partition, to.timestamp)).offset;
          if (offset === -1) offset = (await this.listOffset(topic, partition, 'latest')).offset;
        }
        return { topic, partition, offset };
      }),
    );
    return resolved.sort((a, b) => a.partition - b.partition);
  }

  /**
   * Moves a group's committed offsets on `topic` (every partition, or `partitions`) as `resolveOffsets`
   * resolves them, commits them as an admin commit (so only while the group has no members:
   * UNKNOWN_MEMBER_ID otherwise) and answers what it wrote.
   */
  async resetOffsets(
    groupId: string,
    topic: string,
    to: OffsetResetTarget,
    partitions?: number[],
  ): Promise<ResolvedOffset[]> {
    const offsets = await this.resolveOffsets(topic, to, partitions);
    if (offsets.length > 0) await this.commitOffsets(groupId, offsets);
    return offsets;
  }

  /**
   * A GET, retried on overload, network trouble and leadership moves (for a partition's `route`); a missing
   * topic is an answer, not worth retrying.
   */
  private read<T>(
    path: string,
    query?: Record<string, string | number>,
    route?: { topic: string; partition: number },
  ): Promise<T> {
    const options = { ...(query ? { query } : {}), ...(route ? { route } : {}) };
    return withRetries(this.retry, () => this.http.request<T>('GET', path, options), {
      retryIf: (err) => err.code !== 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  }

  /** Hands a description's leaders to the router, so that requests for its partitions go straight there. */
  private learnt(description: TopicDescription): TopicDescription {
    this.http.router.learn(description);
    return description;
  }
}

/** `/v1/groups/{group}`, the id URL-encoded; an empty id would address the group list instead. */
export function groupPath(groupId: string): string {
  if (groupId === '') throw new FreshetError('INVALID_GROUP_ID', 'group id must not be empty');
  return `/v1/groups/${encodeURIComponent(groupId)}`;
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

function checkResetTarget(to: OffsetResetTarget): void {
  if (to === 'earliest' || to === 'latest') return;
  if (typeof to === 'object' && to !== null) {
    if ('offset' in to && Number.isSafeInteger(to.offset)) return;
    if ('timestamp' in to && Number.isSafeInteger(to.timestamp) && to.timestamp >= 0) return;
  }
  throw new FreshetError(
    'INVALID_REQUEST',
    `reset target must be earliest, latest, {offset} or {timestamp >= 0}, got ${JSON.stringify(to)}`,
  );
}
