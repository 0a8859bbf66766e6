/**
 * @module
 * The records of `__consumer_offsets`: committed offsets and group metadata as key/value pairs, in Kafka's
 * own byte formats so the log holds what a Kafka tool expects to find there. Pure: bytes ↔ objects.
 *
 * All formats are Kafka's classic (non-flexible) encodings, big-endian:
 *   string           int16 length + UTF-8 bytes (length -1 = null, only where "nullable")
 *   bytes            int32 length + bytes (length -1 = null, only where "nullable")
 *   array            int32 count + the elements (never null)
 *   int64            kept as a JS number: a value outside the safe integers is refused
 *
 * The key's leading int16 version says what the record is; keys of any other version (KIP-848's consumer
 * group records, share groups, ...) decode to null and are skipped, as Kafka skips record types it does
 * not know. A null value is a tombstone.
 *
 *   OffsetCommitKey v1 (v0 reads the same)       OffsetCommitValue v3 (written; v0-v2 read)
 *     int16  version = 1                           int16  version = 3
 *     string group                                 int64  offset
 *     string topic                                 int32  leaderEpoch        (v3+; -1 before)
 *     int32  partition                             string metadata
 *                                                  int64  commitTimestamp
 *                                                  int64  expireTimestamp    (v1 only; read and ignored)
 *
 *   GroupMetadataKey v2                          GroupMetadataValue v3 (written; v0-v2 read)
 *     int16  version = 2                           int16  version = 3
 *     string group                                 string protocolType
 *                                                  int32  generation
 *                                                  nullable string protocol     (null while no generation runs)
 *                                                  nullable string leader       (null while no leader)
 *                                                  int64  currentStateTimestamp (v2+; -1 before)
 *                                                  array  members:
 *                                                    string memberId
 *                                                    nullable string groupInstanceId (v3+; null before)
 *                                                    string clientId
 *                                                    string clientHost
 *                                                    int32  rebalanceTimeout  (v1+; = sessionTimeout before)
 *                                                    int32  sessionTimeout
 *                                                    bytes  subscription      (ConsumerProtocolSubscription)
 *                                                    bytes  assignment        (ConsumerProtocolAssignment)
 *
 *   ConsumerProtocolSubscription v1 (written; v0-v3 read, later versions read as v3 and the rest ignored)
 *     int16  version = 1
 *     array  topics: string
 *     nullable bytes userData                     (written null; read and dropped)
 *     array  ownedPartitions: string topic, array partitions: int32   (v1+)
 *     int32  generationId                         (v2+; read and dropped)
 *     nullable string rackId                      (v3+; read and dropped)
 *
 *   ConsumerProtocolAssignment v1 (written; v0-v3 read, as the subscription)
 *     int16  version = 1
 *     array  assignedPartitions: string topic, array partitions: int32
 *     nullable bytes userData                     (written null; read and dropped)
 *
 * Freshet's '' for "no protocol" / "no leader" is written as null and read back as ''. Empty subscription
 * or assignment bytes (Kafka writes them for a member that has no assignment yet) read as empty.
 *
 * Decoding never reads out of range and never loops on a length it has not checked against the bytes
 * left: anything truncated, oversized or otherwise malformed throws BrokerError CORRUPT_MESSAGE.
 * Encoding refuses what the format cannot hold (an int32 out of range, an unsafe int64, a string over
 * 32767 UTF-8 bytes) with INVALID_RECORD.
 */
import { BrokerError } from '../shared/errors.ts';
import type { CommittedOffset, Subscription, TopicPartitions } from './group-api.ts';

/** The internal topic these records live in (partition 0): the coordinator's, never a user topic. */
export const OFFSETS_TOPIC = '__consumer_offsets';

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  subscription: Subscription;
  assignment: TopicPartitions[];
  /**
   * The bytes as a Kafka client sent them (leader-assigned groups: the JoinGroup metadata and the leader's
   * assignment), written as they are; without them `subscription` / `assignment` are encoded. Set on
   * decode when re-encoding the fields would not reproduce the stored bytes.
   */
  subscriptionBytes?: Uint8Array;
  assignmentBytes?: Uint8Array;
}

export interface StoredGroup {
  protocolType: string;
  /** '' while no generation has chosen a protocol (stored as null). */
  protocolName: string;
  generationId: number;
  /** '' while there is no leader (stored as null). */
  leader: string;
  /** When the group entered its current state (epoch ms); -1 when unknown (records older than v2). */
  stateTimestamp: number;
  members: StoredMember[];
}

export type GroupRecord =
  /** `offset: null` is a tombstone: the offset was deleted or expired. */
  | { kind: 'offset'; groupId: string; topic: string; partition: number; offset: CommittedOffset | null }
  /** `group: null` is a tombstone: the group was deleted (its offsets need tombstones of their own). */
  | { kind: 'group'; groupId: string; group: StoredGroup | null };

const OFFSET_COMMIT_KEY_VERSION = 1;
const GROUP_METADATA_KEY_VERSION = 2;
const OFFSET_COMMIT_VALUE_VERSION = 3;
const GROUP_METADATA_VALUE_VERSION = 3;
const CONSUMER_PROTOCOL_VERSION = 1;
/** The newest consumer protocol version whose layout we know; later ones are read as this one. */
const CONSUMER_PROTOCOL_KNOWN_VERSION = 3;

const MAX_STRING_BYTES = 0x7fff;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const TWO_POW_32 = 0x100000000;

const textEncoder = new TextEncoder();
/** Fatal so garbage is reported, not turned into U+FFFD; ignoreBOM so a leading U+FEFF survives. */
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ------------------------------------------------------------------------------------------- encode

function invalid(message: string): BrokerError {
  return new BrokerError('INVALID_RECORD', message);
}

/** A growable big-endian buffer for the classic encodings. */
class Writer {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  int16(value: number): void {
    this.reserve(2);
    this.view.setInt16(this.pos, value);
    this.pos += 2;
  }

  int32(value: number, what: string): void {
    if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
      throw invalid(`${what} ${value} is not an int32`);
    }
    this.reserve(4);
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }

  int64(value: number, what: string): void {
    if (!Number.isSafeInteger(value)) throw invalid(`${what} ${value} is not a safe integer`);
    const high = Math.floor(value / TWO_POW_32);
    this.reserve(8);
    this.view.setInt32(this.pos, high);
    this.view.setUint32(this.pos + 4, value - high * TWO_POW_32);
    this.pos += 8;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  string(value: string, what: string): void {
    const bytes = textEncoder.encode(value);
    if (bytes.length > MAX_STRING_BYTES) {
      throw invalid(`${what} is ${bytes.length} UTF-8 bytes; at most ${MAX_STRING_BYTES} fit`);
    }
    this.int16(bytes.length);
    this.raw(bytes);
  }

  nullableString(value: string | null, what: string): void {
    if (value === null) this.int16(-1);
    else this.string(value, what);
  }

  bytes(value: Uint8Array): void {
    this.int32(value.length, 'bytes length');
    this.raw(value);
  }

  nullBytes(): void {
    this.int32(-1, 'bytes length');
  }

  array<T>(items: readonly T[], what: string, write: (item: T) => void): void {
    this.int32(items.length, `${what} count`);
    for (const item of items) write(item);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function writeTopicPartitions(w: Writer, list: readonly TopicPartitions[], what: string): void {
  w.array(list, what, (tp) => {
    w.string(tp.topic, `${what} topic`);
    w.array(tp.partitions, `${what} partitions`, (p) => w.int32(p, `${what} partition`));
  });
}

/** ConsumerProtocolSubscription v1 bytes (what a Kafka consumer sends as JoinGroup metadata). */
export function encodeSubscription(subscription: Subscription): Uint8Array {
  const w = new Writer();
  w.int16(CONSUMER_PROTOCOL_VERSION);
  w.array(subscription.topics, 'subscription topics', (topic) => w.string(topic, 'subscription topic'));
  w.nullBytes(); // userData
  writeTopicPartitions(w, subscription.ownedPartitions, 'owned partitions');
  return w.finish();
}

/** ConsumerProtocolAssignment v1 bytes (what a Kafka consumer expects from SyncGroup). */
export function encodeAssignment(assignment: readonly TopicPartitions[]): Uint8Array {
  const w = new Writer();
  w.int16(CONSUMER_PROTOCOL_VERSION);
  writeTopicPartitions(w, assignment, 'assignment');
  w.nullBytes(); // userData
  return w.finish();
}

function encodeGroupValue(group: StoredGroup): Uint8Array {
  const w = new Writer();
  w.int16(GROUP_METADATA_VALUE_VERSION);
  w.string(group.protocolType, 'protocolType');
  w.int32(group.generationId, 'generationId');
  w.nullableString(group.protocolName === '' ? null : group.protocolName, 'protocolName');
  w.nullableString(group.leader === '' ? null : group.leader, 'leader');
  w.int64(group.stateTimestamp, 'stateTimestamp');
  w.array(group.members, 'members', (member) => {
    w.string(member.memberId, 'memberId');
    w.nullableString(member.groupInstanceId, 'groupInstanceId');
    w.string(member.clientId, 'clientId');
    w.string(member.clientHost, 'clientHost');
    w.int32(member.rebalanceTimeoutMs, 'rebalanceTimeoutMs');
    w.int32(member.sessionTimeoutMs, 'sessionTimeoutMs');
    w.bytes(member.subscriptionBytes ?? encodeSubscription(member.subscription));
    w.bytes(member.assignmentBytes ?? encodeAssignment(member.assignment));
  });
  return w.finish();
}

/**
 * The key and value of `record` as stored in `__consumer_offsets` (value null for a tombstone). Throws
 * INVALID_RECORD for what the format cannot hold, or an offset whose topic/partition differ from the key's.
 */
export function encodeGroupRecord(record: GroupRecord): { key: Uint8Array; value: Uint8Array | null } {
  const key = new Writer();
  if (record.kind === 'offset') {
    key.int16(OFFSET_COMMIT_KEY_VERSION);
    key.string(record.groupId, 'groupId');
    key.string(record.topic, 'topic');
    key.int32(record.partition, 'partition');
    const offset = record.offset;
    if (offset === null) return { key: key.finish(), value: null };
    if (offset.topic !== record.topic || offset.partition !== record.partition) {
      throw invalid(
        `offset for ${offset.topic}-${offset.partition} filed under ${record.topic}-${record.partition}`,
      );
    }
    const value = new Writer();
    value.int16(OFFSET_COMMIT_VALUE_VERSION);
    value.int64(offset.offset, 'offset');
    value.int32(offset.leaderEpoch, 'leaderEpoch');
    value.string(offset.metadata, 'metadata');
    value.int64(offset.commitTimestamp, 'commitTimestamp');
    return { key: key.finish(), value: value.finish() };
  }
  key.int16(GROUP_METADATA_KEY_VERSION);
  key.string(record.groupId, 'groupId');
  return { key: key.finish(), value: record.group === null ? null : encodeGroupValue(record.group) };
}

// ------------------------------------------------------------------------------------------- decode

function corrupt(message: string): BrokerError {
  return new BrokerError('CORRUPT_MESSAGE', message);
}

/** A bounds-checked big-endian reader; every failure is CORRUPT_MESSAGE naming `what` and the position. */
class Reader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly what: string;
  private pos = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.what = what;
  }

  fail(message: string): BrokerError {
    return corrupt(`${this.what}: ${message} (at byte ${this.pos} of ${this.bytes.length})`);
  }

  private need(n: number, field: string): void {
    if (n > this.bytes.length - this.pos) {
      throw this.fail(`${field} needs ${n} bytes, ${this.bytes.length - this.pos} left`);
    }
  }

  int16(field: string): number {
    this.need(2, field);
    const value = this.view.getInt16(this.pos);
    this.pos += 2;
    return value;
  }

  int32(field: string): number {
    this.need(4, field);
    const value = this.view.getInt32(this.pos);
    this.pos += 4;
    return value;
  }

  int64(field: string): number {
    this.need(8, field);
    const value = this.view.getInt32(this.pos) * TWO_POW_32 + this.view.getUint32(this.pos + 4);
    // Both parts are exact; the sum is exact exactly when it is a safe integer.
    if (!Number.isSafeInteger(value)) throw this.fail(`${field} is not a safe integer`);
    this.pos += 8;
    return value;
  }

  nullableString(field: string): string | null {
    const length = this.int16(`${field} length`);
    if (length === -1) return null;
    if (length < 0) throw this.fail(`${field} length ${length} is invalid`);
    this.need(length, field);
    const start = this.pos;
    this.pos += length;
    try {
      return textDecoder.decode(this.bytes.subarray(start, start + length));
    } catch {
      this.pos = start;
      throw this.fail(`${field} is not valid UTF-8`);
    }
  }

  string(field: string): string {
    const value = this.nullableString(field);
    if (value === null) throw this.fail(`${field} is null`);
    return value;
  }

  nullableBytes(field: string): Uint8Array | null {
    const length = this.int32(`${field} length`);
    if (length === -1) return null;
    if (length < 0) throw this.fail(`${field} length ${length} is invalid`);
    this.need(length, field);
    const start = this.pos;
    this.pos += length;
    return this.bytes.subarray(start, start + length);
  }

  bytesField(field: string): Uint8Array {
    const value = this.nullableBytes(field);
    if (value === null) throw this.fail(`${field} is null`);
    return value;
  }

  /** `minSize` is the fewest bytes one element takes, so a count no input could hold fails at once. */
  array<T>(field: string, minSize: number, read: () => T): T[] {
    const count = this.int32(`${field} count`);
    if (count < 0) throw this.fail(`${field} count ${count} is invalid`);
    if (count * minSize > this.bytes.length - this.pos) {
      throw this.fail(`${field} count ${count} overruns the ${this.bytes.length - this.pos} bytes left`);
    }
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(read());
    return items;
  }

  end(): void {
    if (this.pos !== this.bytes.length) {
      throw this.fail(`${this.bytes.length - this.pos} bytes left over after the last field`);
    }
  }
}

function readTopicPartitions(r: Reader, field: string): TopicPartitions[] {
  // Smallest element: an empty topic name (2) and an empty partition array (4).
  return r.array(field, 6, () => ({
    topic: r.string(`${field} topic`),
    partitions: r.array(`${field} partitions`, 4, () => r.int32(`${field} partition`)),
  }));
}

function readProtocolVersion(r: Reader): number {
  const version = r.int16('version');
  if (version < 0) throw r.fail(`version ${version} is invalid`);
  return version;
}

/** Reads ConsumerProtocolSubscription v0-v3 (later versions as v3); throws CORRUPT_MESSAGE. */
export function decodeSubscription(bytes: Uint8Array): Subscription {
  if (bytes.length === 0) return { topics: [], ownedPartitions: [] };
  const r = new Reader(bytes, 'ConsumerProtocolSubscription');
  const version = readProtocolVersion(r);
  const topics = r.array('topics', 2, () => r.string('topic'));
  r.nullableBytes('userData');
  const ownedPartitions = version >= 1 ? readTopicPartitions(r, 'ownedPartitions') : [];
  if (version >= 2) r.int32('generationId');
  if (version >= 3) r.nullableString('rackId');
  // Kafka's rule for this message: a later version only appends fields, so read it as the latest known.
  if (version <= CONSUMER_PROTOCOL_KNOWN_VERSION) r.end();
  return { topics, ownedPartitions };
}

/** Reads ConsumerProtocolAssignment v0-v3; throws CORRUPT_MESSAGE. */
export function decodeAssignment(bytes: Uint8Array): TopicPartitions[] {
  if (bytes.length === 0) return [];
  const r = new Reader(bytes, 'ConsumerProtocolAssignment');
  const version = readProtocolVersion(r);
  const assignment = readTopicPartitions(r, 'assignedPartitions');
  r.nullableBytes('userData');
  if (version <= CONSUMER_PROTOCOL_KNOWN_VERSION) r.end();
  return assignment;
}

const EMPTY_SUBSCRIPTION: Subscription = Object.freeze({ topics: [], ownedPartitions: [] }) as Subscription;

/** Stored bytes that re-encoding the fields read from them would not give back (empty bytes never do). */
function saysMore(stored: Uint8Array, reencoded: Uint8Array): boolean {
  if (stored.length === 0) return false;
  if (stored.length !== reencoded.length) return true;
  for (let i = 0; i < stored.length; i++) if (stored[i] !== reencoded[i]) return true;
  return false;
}

/** A consumer-protocol blob a client wrote may not parse; the group still loads, with that part empty. */
function orEmpty<T>(read: () => T, empty: T): T {
  try {
    return read();
  } catch {
    return empty;
  }
}

function decodeOffsetValue(bytes: Uint8Array, topic: string, partition: number): CommittedOffset {
  const r = new Reader(bytes, 'OffsetCommitValue');
  const version = r.int16('version');
  if (version < 0 || version > OFFSET_COMMIT_VALUE_VERSION) {
    throw r.fail(`unsupported version ${version} (0-${OFFSET_COMMIT_VALUE_VERSION} are known)`);
  }
  const offset = r.int64('offset');
  const leaderEpoch = version >= 3 ? r.int32('leaderEpoch') : -1;
  const metadata = r.string('metadata');
  const commitTimestamp = r.int64('commitTimestamp');
  if (version === 1) r.int64('expireTimestamp');
  r.end();
  return { topic, partition, offset, metadata, leaderEpoch, commitTimestamp };
}

function decodeGroupValue(bytes: Uint8Array): StoredGroup {
  const r = new Reader(bytes, 'GroupMetadataValue');
  const version = r.int16('version');
  if (version < 0 || version > GROUP_METADATA_VALUE_VERSION) {
    throw r.fail(`unsupported version ${version} (0-${GROUP_METADATA_VALUE_VERSION} are known)`);
  }
  const protocolType = r.string('protocolType');
  const generationId = r.int32('generation');
  const protocolName = r.nullableString('protocol') ?? '';
  const leader = r.nullableString('leader') ?? '';
  const stateTimestamp = version >= 2 ? r.int64('currentStateTimestamp') : -1;
  // Smallest member: three empty strings, an int32 and two empty byte strings (v0).
  const members = r.array('members', 18, (): StoredMember => {
    const memberId = r.string('memberId');
    const groupInstanceId = version >= 3 ? r.nullableString('groupInstanceId') : null;
    const clientId = r.string('clientId');
    const clientHost = r.string('clientHost');
    const rebalanceTimeout = version >= 1 ? r.int32('rebalanceTimeout') : null;
    const sessionTimeoutMs = r.int32('sessionTimeout');
    const subscriptionBytes = r.bytesField('subscription').slice();
    const assignmentBytes = r.bytesField('assignment').slice();
    // Other protocol types (Kafka Connect's, ...) carry bytes of their own layout: read where they parse,
    // and kept as they are below.
    const subscription = orEmpty(() => decodeSubscription(subscriptionBytes), EMPTY_SUBSCRIPTION);
    const assignment = orEmpty(() => decodeAssignment(assignmentBytes), []);
    return {
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      sessionTimeoutMs,
      // Kafka's reading of v0, which had one timeout for both.
      rebalanceTimeoutMs: rebalanceTimeout ?? sessionTimeoutMs,
      subscription,
      assignment,
      // Kept only when they say more than the fields read from them (a Kafka client's userData, another
      // protocol type's layout): re-encoding would not give them back.
      ...(saysMore(subscriptionBytes, encodeSubscription(subscription)) ? { subscriptionBytes } : {}),
      ...(saysMore(assignmentBytes, encodeAssignment(assignment)) ? { assignmentBytes } : {}),
    };
  });
  r.end();
  return { protocolType, protocolName, generationId, leader, stateTimestamp, members };
}

/**
 * The record stored as `key`/`value` (value null: a tombstone), or null for a key version this broker
 * does not know (skip it). Throws CORRUPT_MESSAGE for anything malformed, including a value version it
 * does not know under a key it does.
 */
export function decodeGroupRecord(key: Uint8Array, value: Uint8Array | null): GroupRecord | null {
  const r = new Reader(key, 'group record key');
  const version = r.int16('version');
  if (version === 0 || version === 1) {
    const groupId = r.string('group');
    const topic = r.string('topic');
    const partition = r.int32('partition');
    r.end();
    const offset = value === null ? null : decodeOffsetValue(value, topic, partition);
    return { kind: 'offset', groupId, topic, partition, offset };
  }
  if (version === GROUP_METADATA_KEY_VERSION) {
    const groupId = r.string('group');
    r.end();
    return { kind: 'group', groupId, group: value === null ? null : decodeGroupValue(value) };
  }
  if (version < 0) throw r.fail(`key version ${version} is invalid`);
  return null;
}

// ------------------------------------------------------------------------------------------- replay

/** What a record overwrites: two records with the same identity describe the same thing, the later one wins. */
export function groupRecordIdentity(record: GroupRecord): string {
  return record.kind === 'offset'
    ? `offset\u0000${record.groupId}\u0000${record.topic}\u0000${record.partition}`
    : `group\u0000${record.groupId}`;
}

/**
 * The state `records` (in log order) leave behind, as the records that hold it: the last record of each
 * identity, tombstones removed (with what they delete), in the order they were last written. This is how
 * a replay is to be read, and what a snapshot for `GroupLog.compact` is.
 */
export function foldGroupRecords(records: Iterable<GroupRecord>): GroupRecord[] {
  const live = new Map<string, GroupRecord>();
  for (const record of records) {
    const identity = groupRecordIdentity(record);
    live.delete(identity);
    const tombstone = record.kind === 'offset' ? record.offset === null : record.group === null;
    if (!tombstone) live.set(identity, record);
  }
  return [...live.values()];
}
