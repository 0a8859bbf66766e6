/**
 * @module
 * The coordinator's small checks and its errors, each with a readable message: group ids, generations,
 * fencing, and whether two joins of one member ask for the same thing. Pure.
 */
import { BrokerError } from '../shared/errors.ts';
import { partitionKey } from '../shared/partition-key.ts';
import type { Group, Member } from './group.ts';
import type { CommitOffset, JoinGroupRequest } from './group-api.ts';

const ENCODER = new TextEncoder();

const MAX_GROUP_ID_LENGTH = 255;

export function checkGroupId(groupId: string): void {
  if (typeof groupId !== 'string' || groupId.length === 0 || groupId.length > MAX_GROUP_ID_LENGTH) {
    throw new BrokerError('INVALID_GROUP_ID', `group id must be 1 to ${MAX_GROUP_ID_LENGTH} characters`);
  }
}

export function checkGeneration(group: Group, generationId: number): void {
  if (generationId !== group.generationId) {
    throw new BrokerError(
      'ILLEGAL_GENERATION',
      `generation ${generationId} of group '${group.groupId}' is not the current one (${group.generationId}); join again`,
    );
  }
}

export function unknownMember(groupId: string, memberId: string): BrokerError {
  return new BrokerError(
    'UNKNOWN_MEMBER_ID',
    `member '${memberId}' is not in group '${groupId}'; join again`,
  );
}

export function fenced(groupId: string, groupInstanceId: string | null): BrokerError {
  return new BrokerError(
    'FENCED_INSTANCE_ID',
    `another member took group.instance.id '${groupInstanceId}' in group '${groupId}'`,
  );
}

export function rebalancing(groupId: string): BrokerError {
  return new BrokerError('REBALANCE_IN_PROGRESS', `group '${groupId}' is rebalancing; join again`);
}

export function notAvailable(): BrokerError {
  return new BrokerError('COORDINATOR_NOT_AVAILABLE', 'the group coordinator is shutting down');
}

export function inconsistentProtocol(group: Group, names: readonly string[]): BrokerError {
  return new BrokerError(
    'INCONSISTENT_GROUP_PROTOCOL',
    `group '${group.groupId}' uses assignors [${group.candidateProtocols().join(', ')}]; none of [${names.join(', ')}] is among them`,
  );
}

/**
 * Same assignors and topics. Owned partitions are left out: a member's join restating what it owns is no
 * reason to rebalance.
 */
export function sameProtocols(a: Member['protocols'], b: Member['protocols']): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (p, i) => p.name === b[i]!.name && sameList(p.subscription.topics, b[i]!.subscription.topics),
  );
}

/** Same topics for the group's assignor (owned partitions do not matter to a restarted static member). */
export function sameSubscriptions(
  a: Member['protocols'],
  b: Member['protocols'],
  protocolName: string,
): boolean {
  const before = a.find((p) => p.name === protocolName);
  const after = b.find((p) => p.name === protocolName);
  return (
    before !== undefined &&
    after !== undefined &&
    sameList(before.subscription.topics, after.subscription.topics)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...b].sort();
  return [...a].sort().every((v, i) => v === sorted[i]);
}

export function assertNever(state: never): never {
  throw new Error(`unhandled group state ${String(state)}`);
}

/** A commit's offsets: partitions that exist, offsets >= 0, metadata within bounds, no partition twice. */
export function checkCommit(
  offsets: readonly CommitOffset[],
  partitionCount: (topic: string) => number | undefined,
  maxMetadataBytes: number,
): void {
  if (offsets.length === 0) throw new BrokerError('INVALID_REQUEST', 'the commit has no offsets');
  const seen = new Set<string>();
  for (const o of offsets) {
    const count = partitionCount(o.topic);
    if (count === undefined || !Number.isInteger(o.partition) || o.partition < 0 || o.partition >= count) {
      throw new BrokerError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        count === undefined
          ? `topic '${o.topic}' does not exist`
          : `topic '${o.topic}' has no partition ${o.partition} (it has ${count})`,
      );
    }
    if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
      throw new BrokerError(
        'INVALID_REQUEST',
        `offset of ${o.topic}/${o.partition} must be an integer >= 0, got ${o.offset}`,
      );
    }
    if (ENCODER.encode(o.metadata).length > maxMetadataBytes) {
      throw new BrokerError(
        'OFFSET_METADATA_TOO_LARGE',
        `metadata of ${o.topic}/${o.partition} exceeds ${maxMetadataBytes} bytes (--offset-metadata-max-bytes)`,
      );
    }
    const key = partitionKey(o.topic, o.partition);
    if (seen.has(key))
      throw new BrokerError('INVALID_REQUEST', `${o.topic}/${o.partition} appears twice in the commit`);
    seen.add(key);
  }
}

/** A join from a Kafka client (protocol metadata as bytes): the group's leader will assign. */
export function isLeaderAssigned(request: JoinGroupRequest): boolean {
  return request.protocols.every((p) => p.metadata !== undefined);
}

/**
 * One group is leader-assigned (Kafka clients) or coordinator-assigned (HTTP members), never both: a join
 * of the other kind is INCONSISTENT_GROUP_PROTOCOL. Members restored from the log and not joined since
 * count for neither. A join mixing protocols with and without metadata is INVALID_REQUEST.
 */
export function checkSameAssignment(group: Group, request: JoinGroupRequest): void {
  const withMetadata = request.protocols.filter((p) => p.metadata !== undefined).length;
  if (withMetadata !== 0 && withMetadata !== request.protocols.length) {
    throw new BrokerError('INVALID_REQUEST', 'either every protocol of a join carries metadata or none does');
  }
  const leaderAssigned = withMetadata !== 0;
  for (const member of group.members.values()) {
    if (member.restored || member.memberId === request.memberId) continue;
    const theirs = member.protocols.every((p) => p.metadata !== undefined);
    if (theirs !== leaderAssigned) {
      throw new BrokerError(
        'INCONSISTENT_GROUP_PROTOCOL',
        theirs
          ? `group '${group.groupId}' has Kafka-protocol members, whose leader assigns partitions; an HTTP member cannot join it`
          : `group '${group.groupId}' has HTTP members, whose partitions the coordinator assigns; a Kafka client cannot join it`,
      );
    }
    return;
  }
}

/** Same protocols with byte-identical metadata (Kafka's test for "nothing changed" in a join). */
export function sameMetadata(a: Member['protocols'], b: Member['protocols']): boolean {
  if (a.length !== b.length) return false;
  return a.every((p, i) => p.name === b[i]!.name && bytesEqual(p.metadata, b[i]!.metadata));
}

function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
