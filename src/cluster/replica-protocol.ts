/**
 * @module
 * How a follower fetches from its leader: msgpack over HTTP, `POST /v1/internal/replica-fetch` on the
 * leader's HTTP port (the brokers' registrations in etcd say where). One request carries every partition
 * the follower follows on that leader, as Kafka's replica fetcher does; the leader answers each with whole
 * batches from `fetchOffset` (its log end, not its high watermark: followers copy everything), its high
 * watermark and log start, or an error, or `diverging` when the follower's log has a suffix the leader's
 * does not (see replica-manager.ts). The leader long-polls up to `maxWaitMs` while no partition has data.
 *
 * `fetchOffset` is also how the leader learns what the follower has: everything below it.
 *
 * The answer is framed so the record bytes are never re-encoded: a 4-byte big-endian length, a msgpack
 * header (`partitions` with `recordsLength` in place of `records`), then every partition's records back to
 * back in header order (`encodeFetchResponse` / `decodeFetchResponse`).
 */

import { BrokerError, type ErrorName } from '../shared/errors.ts';
import { packInternal as pack, unpackInternal as unpack } from '../shared/internal-msgpack.ts';

export const REPLICA_FETCH_PATH = '/v1/internal/replica-fetch';

/** Bytes per partition per answer (at least one batch), and over the whole answer. */
export const REPLICA_FETCH_PARTITION_BYTES = 1024 * 1024;
export const REPLICA_FETCH_TOTAL_BYTES = 8 * 1024 * 1024;

export interface ReplicaFetchRequest {
  replicaId: number;
  maxWaitMs: number;
  partitions: ReplicaFetchTarget[];
}

export interface ReplicaFetchTarget {
  topic: string;
  partition: number;
  /** The leader epoch the follower follows: older → FENCED_LEADER_EPOCH, newer → UNKNOWN_LEADER_EPOCH. */
  leaderEpoch: number;
  /** The follower's log end offset. */
  fetchOffset: number;
  /**
   * The epoch of the follower's last batch, sent until the leader has once answered without `diverging`
   * (after every change of leader): the leader checks that the follower's log is a prefix of its own.
   */
  lastFetchedEpoch?: number;
}

export interface ReplicaFetchPartition {
  topic: string;
  partition: number;
  error?: ErrorName;
  message?: string;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
  /** The follower must cut its log: at most `endOffset`, and where its own epoch `epoch` ends. */
  diverging?: { epoch: number; endOffset: number };
  /** Whole batches from fetchOffset (absent when none). */
  records?: Uint8Array;
}

export interface ReplicaFetchResponse {
  partitions: ReplicaFetchPartition[];
}

function isInt(value: unknown, min: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min;
}

/** A request as it came off the wire, checked; INVALID_REQUEST naming what is wrong. */
export function parseReplicaFetchRequest(value: unknown): ReplicaFetchRequest {
  const bad = (what: string): never => {
    throw new BrokerError('INVALID_REQUEST', `replica fetch request: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return bad('not an object');
  const { replicaId, maxWaitMs, partitions } = value as Record<string, unknown>;
  if (!isInt(replicaId, 0)) bad('replicaId is not a node id');
  if (!isInt(maxWaitMs, 0)) bad('maxWaitMs is not a duration');
  if (!Array.isArray(partitions) || partitions.length > 100_000) return bad('partitions is not a list');
  const targets: ReplicaFetchTarget[] = partitions.map((p: unknown, i) => {
    if (typeof p !== 'object' || p === null) return bad(`partitions[${i}] is not an object`);
    const { topic, partition, leaderEpoch, fetchOffset, lastFetchedEpoch } = p as Record<string, unknown>;
    if (
      typeof topic !== 'string' ||
      !isInt(partition, 0) ||
      !isInt(leaderEpoch, 0) ||
      !isInt(fetchOffset, 0)
    ) {
      return bad(`partitions[${i}] needs topic, partition, leaderEpoch and fetchOffset`);
    }
    if (lastFetchedEpoch !== undefined && !isInt(lastFetchedEpoch, -1))
      bad(`partitions[${i}].lastFetchedEpoch`);
    return {
      topic,
      partition,
      leaderEpoch,
      fetchOffset,
      ...(lastFetchedEpoch === undefined ? {} : { lastFetchedEpoch: lastFetchedEpoch as number }),
    };
  });
  return { replicaId: replicaId as number, maxWaitMs: maxWaitMs as number, partitions: targets };
}

/** The leader's answer as bytes: length-prefixed msgpack header, then the records, uncopied into msgpack. */
export function encodeFetchResponse(response: ReplicaFetchResponse): Uint8Array {
  const parts: Uint8Array[] = [];
  const partitions = response.partitions.map(({ records, ...rest }) => {
    if (records && records.length > 0) parts.push(records);
    return { ...rest, recordsLength: records?.length ?? 0 };
  });
  const header = pack({ partitions });
  const total = 4 + header.length + parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  let pos = 4 + header.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** The follower's side of `encodeFetchResponse`: the records are views into `bytes`. */
export function decodeFetchResponse(bytes: Uint8Array): ReplicaFetchResponse {
  if (bytes.length < 4) throw new Error('replica fetch answer too short');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  if (4 + headerLength > bytes.length) throw new Error('replica fetch answer cut short');
  const header = unpack(bytes.subarray(4, 4 + headerLength)) as {
    partitions: Array<Omit<ReplicaFetchPartition, 'records'> & { recordsLength: number }>;
  };
  let pos = 4 + headerLength;
  const partitions = header.partitions.map(({ recordsLength, ...rest }) => {
    if (recordsLength <= 0) return rest;
    if (pos + recordsLength > bytes.length) throw new Error('replica fetch answer cut short');
    const records = bytes.subarray(pos, pos + recordsLength);
    pos += recordsLength;
    return { ...rest, records };
  });
  return { partitions };
}
