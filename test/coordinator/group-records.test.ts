/**
 * @module
 * The `__consumer_offsets` record codec: round trips, golden bytes written by hand from Kafka's layouts
 * (so a wire change is deliberate), older versions Kafka wrote, and decoding garbage never doing anything
 * but return a record or throw CORRUPT_MESSAGE.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TopicPartitions } from '../../src/coordinator/group-api.ts';
import {
  decodeGroupRecord,
  encodeGroupRecord,
  foldGroupRecords,
  type GroupRecord,
  type StoredGroup,
  type StoredMember,
} from '../../src/coordinator/group-records.ts';
import { BrokerError, type ErrorName } from '../../src/shared/errors.ts';

/** Bytes from hex pairs; spaces, `|` and newlines only lay them out, `#` starts a comment to the line's end. */
function hex(text: string): Uint8Array {
  const digits = text.replace(/#[^\n]*/g, '').replace(/[\s|]/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error(`not hex pairs: ${digits}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function expectBrokerError(fn: () => unknown, code: ErrorName): BrokerError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(BrokerError);
  expect((err as BrokerError).code, (err as Error).message).toBe(code);
  return err as BrokerError;
}

function roundTrip(record: GroupRecord): GroupRecord | null {
  const { key, value } = encodeGroupRecord(record);
  return decodeGroupRecord(key, value);
}

const member = (overrides: Partial<StoredMember> = {}): StoredMember => ({
  memberId: 'consumer-1-5f3c',
  groupInstanceId: null,
  clientId: 'consumer-1',
  clientHost: '/10.0.0.7',
  sessionTimeoutMs: 45_000,
  rebalanceTimeoutMs: 300_000,
  subscription: {
    topics: ['orders', 'payments'],
    ownedPartitions: [{ topic: 'orders', partitions: [0, 2] }],
  },
  assignment: [
    { topic: 'orders', partitions: [0, 2] },
    { topic: 'payments', partitions: [1] },
  ],
  ...overrides,
});

const group = (overrides: Partial<StoredGroup> = {}): StoredGroup => ({
  protocolType: 'consumer',
  protocolName: 'range',
  generationId: 4,
  leader: 'consumer-1-5f3c',
  stateTimestamp: 1_700_000_000_000,
  members: [member()],
  ...overrides,
});

const offset = (
  groupId: string,
  topic: string,
  partition: number,
  value: number,
  extra: { metadata?: string; leaderEpoch?: number; commitTimestamp?: number } = {},
): GroupRecord => ({
  kind: 'offset',
  groupId,
  topic,
  partition,
  offset: {
    topic,
    partition,
    offset: value,
    metadata: extra.metadata ?? '',
    leaderEpoch: extra.leaderEpoch ?? -1,
    commitTimestamp: extra.commitTimestamp ?? 1_700_000_000_000,
  },
});

describe('round trips', () => {
  const cases: Array<[string, GroupRecord]> = [
    ['an offset', offset('g', 'orders', 3, 42, { metadata: 'm', leaderEpoch: 7 })],
    ['offset 0 at epoch 0, empty group id', offset('', 't', 0, 0, { commitTimestamp: 0 })],
    ['the largest safe offset', offset('g', 't', 0x7fffffff, Number.MAX_SAFE_INTEGER)],
    ['a negative int64 (-1)', offset('g', 't', 1, -1, { commitTimestamp: -1 })],
    [
      'unicode everywhere',
      offset('gr\u00fcppe-\u{1f600}', '\u65e5\u672c', 1, 9, { metadata: '\ufeffcaf\u00e9 \u{1f680}' }),
    ],
    ['an offset tombstone', { kind: 'offset', groupId: 'g', topic: 't', partition: 2, offset: null }],
    ['a stable group', { kind: 'group', groupId: 'g', group: group() }],
    [
      'an empty group (no protocol, no leader, no members)',
      {
        kind: 'group',
        groupId: 'g',
        group: group({ protocolName: '', leader: '', generationId: 0, stateTimestamp: -1, members: [] }),
      },
    ],
    [
      'static members, empty subscriptions and assignments',
      {
        kind: 'group',
        groupId: '\u00e9quipe',
        group: group({
          members: [
            member({ memberId: 'a', groupInstanceId: 'host-1' }),
            member({
              memberId: 'b',
              groupInstanceId: '\u{1f916}',
              subscription: { topics: [], ownedPartitions: [] },
              assignment: [],
            }),
            member({ memberId: 'c', clientId: '', clientHost: '' }),
          ],
        }),
      },
    ],
    ['a group tombstone', { kind: 'group', groupId: 'g', group: null }],
  ];

  it.each(cases)('%s', (_name, record) => {
    expect(roundTrip(record)).toEqual(record);
  });

  it('keeps strings of exactly 32767 UTF-8 bytes', () => {
    const record = offset('g', 't', 0, 1, { metadata: 'x'.repeat(0x7fff) });
    expect(roundTrip(record)).toEqual(record);
  });
});

describe('golden bytes (Kafka layouts, written out by hand)', () => {
  const SUBSCRIPTION = hex(`
    0001                  # version 1
    00000001 0001 74      # topics ['t']
    ffffffff              # userData null
    00000001 0001 74      # ownedPartitions: t
      00000001 00000000     # [0]
  `);
  const ASSIGNMENT = hex(`
    0001                  # version 1
    00000001 0001 74      # t
      00000002 00000000 00000001   # [0, 1]
    ffffffff              # userData null
  `);

  const OFFSET_KEY = hex('0001 | 0002 6731 | 0001 74 | 00000003');
  const OFFSET_VALUE = hex(`
    0003                  # version 3
    000000000000002a      # offset 42
    00000005              # leaderEpoch 5
    0001 6d               # metadata 'm'
    0000018bcfe56800      # commitTimestamp 1700000000000
  `);
  const GROUP_KEY = hex('0002 | 0002 6731');
  const GROUP_VALUE = hex(`
    0003                              # version 3
    0008 636f6e73756d6572             # protocolType 'consumer'
    00000007                          # generation 7
    0005 72616e6765                   # protocol 'range'
    0002 6d31                         # leader 'm1'
    0000018bcfe56800                  # currentStateTimestamp
    00000001                          # one member:
      0002 6d31                         # memberId 'm1'
      0002 6931                         # groupInstanceId 'i1'
      0001 63                           # clientId 'c'
      0002 2f68                         # clientHost '/h'
      0000ea60                          # rebalanceTimeout 60000
      0000afc8                          # sessionTimeout 45000
      0000001c ${toHex(SUBSCRIPTION)}   # subscription (28 bytes)
      00000019 ${toHex(ASSIGNMENT)}     # assignment (25 bytes)
  `);
  const EMPTY_GROUP_VALUE = hex(`
    0003 | 0008 636f6e73756d6572 | 00000000 | ffff | ffff | ffffffffffffffff | 00000000
  `);

  const offsetRecord = offset('g1', 't', 3, 42, { metadata: 'm', leaderEpoch: 5 });
  const groupRecord: GroupRecord = {
    kind: 'group',
    groupId: 'g1',
    group: {
      protocolType: 'consumer',
      protocolName: 'range',
      generationId: 7,
      leader: 'm1',
      stateTimestamp: 1_700_000_000_000,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: 'i1',
          clientId: 'c',
          clientHost: '/h',
          sessionTimeoutMs: 45_000,
          rebalanceTimeoutMs: 60_000,
          subscription: { topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [0] }] },
          assignment: [{ topic: 't', partitions: [0, 1] }],
        },
      ],
    },
  };

  it('OffsetCommitKey v1 / OffsetCommitValue v3', () => {
    const { key, value } = encodeGroupRecord(offsetRecord);
    expect(toHex(key)).toBe(toHex(OFFSET_KEY));
    expect(toHex(value)).toBe(toHex(OFFSET_VALUE));
    expect(decodeGroupRecord(OFFSET_KEY, OFFSET_VALUE)).toEqual(offsetRecord);
  });

  it('GroupMetadataKey v2 / GroupMetadataValue v3 with consumer protocol v1 bytes', () => {
    expect(SUBSCRIPTION.length).toBe(28);
    expect(ASSIGNMENT.length).toBe(25);
    const { key, value } = encodeGroupRecord(groupRecord);
    expect(toHex(key)).toBe(toHex(GROUP_KEY));
    expect(toHex(value)).toBe(toHex(GROUP_VALUE));
    expect(decodeGroupRecord(GROUP_KEY, GROUP_VALUE)).toEqual(groupRecord);
  });

  it('an empty group: protocol and leader are null on the wire', () => {
    const record: GroupRecord = {
      kind: 'group',
      groupId: 'g1',
      group: {
        protocolType: 'consumer',
        protocolName: '',
        generationId: 0,
        leader: '',
        stateTimestamp: -1,
        members: [],
      },
    };
    expect(toHex(encodeGroupRecord(record).value)).toBe(toHex(EMPTY_GROUP_VALUE));
    expect(decodeGroupRecord(GROUP_KEY, EMPTY_GROUP_VALUE)).toEqual(record);
  });

  it('tombstones: the key alone, value null', () => {
    expect(encodeGroupRecord({ kind: 'group', groupId: 'g1', group: null })).toEqual({
      key: GROUP_KEY,
      value: null,
    });
    expect(
      encodeGroupRecord({ kind: 'offset', groupId: 'g1', topic: 't', partition: 3, offset: null }),
    ).toEqual({
      key: OFFSET_KEY,
      value: null,
    });
    expect(decodeGroupRecord(OFFSET_KEY, null)).toEqual({
      kind: 'offset',
      groupId: 'g1',
      topic: 't',
      partition: 3,
      offset: null,
    });
  });
});

describe('versions Kafka wrote before', () => {
  it('reads OffsetCommitKey v0 and OffsetCommitValue v0, v1 (expireTimestamp) and v2', () => {
    const key = hex('0000 | 0001 67 | 0001 74 | 00000001');
    const expected = {
      topic: 't',
      partition: 1,
      offset: 5,
      metadata: 'm',
      leaderEpoch: -1,
      commitTimestamp: 9,
    };
    const v0 = hex('0000 | 0000000000000005 | 0001 6d | 0000000000000009');
    const v1 = hex('0001 | 0000000000000005 | 0001 6d | 0000000000000009 | ffffffffffffffff');
    const v2 = hex('0002 | 0000000000000005 | 0001 6d | 0000000000000009');
    for (const value of [v0, v1, v2]) {
      expect(decodeGroupRecord(key, value)).toEqual({
        kind: 'offset',
        groupId: 'g',
        topic: 't',
        partition: 1,
        offset: expected,
      });
    }
  });

  it('reads GroupMetadataValue v0 (one timeout, no timestamp) with consumer protocol v0 and empty bytes', () => {
    const subscriptionV0 = hex('0000 | 00000001 0001 74 | ffffffff');
    const value = hex(`
      0000 | 0008 636f6e73756d6572 | 00000002 | 0005 72616e6765 | 0001 61
      00000002
        0001 61 | 0001 63 | 0001 68 | 00002710 | 0000000d ${toHex(subscriptionV0)} | 00000000
        0001 62 | 0001 63 | 0001 68 | 00002710 | 00000000 | 00000000
    `);
    const base = {
      groupInstanceId: null,
      clientId: 'c',
      clientHost: 'h',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      assignment: [],
    };
    expect(decodeGroupRecord(hex('0002 0001 67'), value)).toEqual({
      kind: 'group',
      groupId: 'g',
      group: {
        protocolType: 'consumer',
        protocolName: 'range',
        generationId: 2,
        leader: 'a',
        stateTimestamp: -1,
        members: [
          // A v0 blob does not re-encode to itself (Freshet writes v1), so its bytes are kept as read.
          {
            ...base,
            memberId: 'a',
            subscription: { topics: ['t'], ownedPartitions: [] },
            subscriptionBytes: subscriptionV0,
          },
          { ...base, memberId: 'b', subscription: { topics: [], ownedPartitions: [] } },
        ],
      },
    });
  });

  it('reads a later consumer protocol version as the latest it knows, ignoring what follows', () => {
    const subscriptionV9 = hex('0009 | 00000001 0001 74 | ffffffff | 00000000 | 00000003 | ffff | deadbeef');
    const assignmentV9 = hex('0009 | 00000000 | ffffffff | 0102');
    const value = hex(`
      0003 | 0008 636f6e73756d6572 | 00000001 | ffff | ffff | 0000000000000000
      00000001
        0001 61 | ffff | 0001 63 | 0001 68 | 00000001 | 00000002
        ${subscriptionV9.length.toString(16).padStart(8, '0')} ${toHex(subscriptionV9)}
        ${assignmentV9.length.toString(16).padStart(8, '0')} ${toHex(assignmentV9)}
    `);
    const decoded = decodeGroupRecord(hex('0002 0001 67'), value);
    expect(decoded).toMatchObject({
      group: { members: [{ subscription: { topics: ['t'], ownedPartitions: [] }, assignment: [] }] },
    });
  });

  it('skips key versions it does not know (KIP-848 and share group records)', () => {
    expect(decodeGroupRecord(hex('0003 0001 67'), hex('0000'))).toBeNull();
    expect(decodeGroupRecord(hex('7fff'), null)).toBeNull();
  });

  it('refuses a value version it does not know under a key it knows', () => {
    expectBrokerError(() => decodeGroupRecord(hex('0002 0001 67'), hex('0004 0000')), 'CORRUPT_MESSAGE');
    expectBrokerError(
      () => decodeGroupRecord(hex('0001 0001 67 0001 74 00000000'), hex('0004 0000')),
      'CORRUPT_MESSAGE',
    );
  });
});

describe('malformed input', () => {
  const key = encodeGroupRecord(offset('g', 't', 0, 1)).key;

  it.each([
    ['an empty key', new Uint8Array(0), null],
    ['a one-byte key', hex('00'), null],
    ['a negative key version', hex('ffff 0001 67'), null],
    ['a string running past the key', hex('0002 0009 67'), null],
    ['bytes left over in the key', hex('0002 0001 67 00'), null],
    ['a null group id', hex('0002 ffff'), null],
    ['invalid UTF-8', hex('0002 0002 c328'), null],
    ['an int64 beyond 2^53', key, hex('0003 7fffffffffffffff ffffffff 0000 0000000000000000')],
    [
      'a member count no input could hold',
      hex('0002 0001 67'),
      hex('0003 0000 00000000 ffff ffff 0000000000000000 7fffffff'),
    ],
    [
      'a negative array count',
      hex('0002 0001 67'),
      hex('0003 0000 00000000 ffff ffff 0000000000000000 ffffffff'),
    ],
    ['an empty value', key, new Uint8Array(0)],
  ])('%s: CORRUPT_MESSAGE', (_name, k, v) => {
    const err = expectBrokerError(() => decodeGroupRecord(k, v), 'CORRUPT_MESSAGE');
    expect(err.message.length).toBeGreaterThan(10);
  });

  it('refuses to encode what the format cannot hold, with INVALID_RECORD', () => {
    expectBrokerError(() => encodeGroupRecord(offset('g', 't', 0, 2 ** 53)), 'INVALID_RECORD');
    expectBrokerError(() => encodeGroupRecord(offset('g', 't', 0, 1.5)), 'INVALID_RECORD');
    expectBrokerError(() => encodeGroupRecord(offset('g', 't', 2 ** 31, 1)), 'INVALID_RECORD');
    expectBrokerError(
      () => encodeGroupRecord(offset('g', 't', 0, 1, { metadata: 'x'.repeat(0x8000) })),
      'INVALID_RECORD',
    );
    expectBrokerError(
      () =>
        encodeGroupRecord({ kind: 'group', groupId: 'g', group: group({ generationId: -(2 ** 31) - 1 }) }),
      'INVALID_RECORD',
    );
    const mismatched = offset('g', 't', 0, 1);
    expectBrokerError(
      () => encodeGroupRecord({ ...mismatched, partition: 1 } as GroupRecord),
      'INVALID_RECORD',
    );
  });
});

describe('properties', () => {
  const str = fc.string({ unit: 'binary', maxLength: 12 });
  const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
  const int64 = fc.maxSafeInteger();
  const topicPartitions: fc.Arbitrary<TopicPartitions[]> = fc.array(
    fc.record({ topic: str, partitions: fc.array(int32, { maxLength: 4 }) }),
    { maxLength: 3 },
  );
  const storedMember: fc.Arbitrary<StoredMember> = fc.record({
    memberId: str,
    groupInstanceId: fc.option(str, { nil: null }),
    clientId: str,
    clientHost: str,
    sessionTimeoutMs: int32,
    rebalanceTimeoutMs: int32,
    subscription: fc.record({ topics: fc.array(str, { maxLength: 3 }), ownedPartitions: topicPartitions }),
    assignment: topicPartitions,
  });
  const storedGroup: fc.Arbitrary<StoredGroup> = fc.record({
    protocolType: str,
    protocolName: str,
    generationId: int32,
    leader: str,
    stateTimestamp: int64,
    members: fc.array(storedMember, { maxLength: 3 }),
  });
  const record: fc.Arbitrary<GroupRecord> = fc.oneof(
    fc
      .record({
        groupId: str,
        topic: str,
        partition: int32,
        value: fc.option(
          fc.record({ offset: int64, metadata: str, leaderEpoch: int32, commitTimestamp: int64 }),
          {
            nil: null,
          },
        ),
      })
      .map(
        ({ groupId, topic, partition, value }): GroupRecord => ({
          kind: 'offset',
          groupId,
          topic,
          partition,
          offset: value === null ? null : { topic, partition, ...value },
        }),
      ),
    fc
      .record({ groupId: str, group: fc.option(storedGroup, { nil: null }) })
      .map(({ groupId, group }): GroupRecord => ({ kind: 'group', groupId, group })),
  );

  /** What decoding may do with any input: return a record or null, or throw CORRUPT_MESSAGE. */
  function decodesOrRefuses(key: Uint8Array, value: Uint8Array | null): void {
    const err = thrown(() => {
      const decoded = decodeGroupRecord(key, value);
      expect(decoded === null || decoded.kind === 'offset' || decoded.kind === 'group').toBe(true);
    });
    if (err === undefined) return;
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).code).toBe('CORRUPT_MESSAGE');
  }

  it('decode(encode(record)) is the record', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(roundTrip(r)).toEqual(r);
      }),
    );
  });

  it('random bytes decode to a record or null, or throw CORRUPT_MESSAGE', () => {
    const bytes = fc.uint8Array({ maxLength: 64 });
    // Half the keys start with a version we know, so the values get decoded too.
    const key = fc.oneof(
      bytes,
      fc
        .tuple(fc.constantFrom(0, 1, 2), bytes)
        .map(([version, rest]) => new Uint8Array([0, version, ...rest])),
      fc.constantFrom(hex('0002 0001 67'), hex('0001 0001 67 0001 74 00000000')),
    );
    fc.assert(
      fc.property(key, fc.option(bytes, { nil: null }), (k, v) => decodesOrRefuses(k, v)),
      { numRuns: 2000 },
    );
  });

  it('every truncation of a valid record throws CORRUPT_MESSAGE', () => {
    fc.assert(
      fc.property(record, fc.nat(), fc.boolean(), (r, cut, inKey) => {
        const { key, value } = encodeGroupRecord(r);
        if (inKey || value === null) {
          const short = key.subarray(0, cut % key.length);
          expectBrokerError(() => decodeGroupRecord(short, value), 'CORRUPT_MESSAGE');
        } else {
          const short = value.subarray(0, cut % value.length);
          expectBrokerError(() => decodeGroupRecord(key, short), 'CORRUPT_MESSAGE');
        }
      }),
    );
  });

  it('a valid record with bytes overwritten decodes or throws CORRUPT_MESSAGE', () => {
    fc.assert(
      fc.property(
        record,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (r, edits) => {
          const { key, value } = encodeGroupRecord(r);
          const target = value !== null && value.length > 0 ? value : key;
          for (const [at, byte] of edits) target[at % target.length] = byte;
          decodesOrRefuses(key, value);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('foldGroupRecords', () => {
  it('keeps the last record per identity, drops tombstones, orders by last write', () => {
    const g: GroupRecord = { kind: 'group', groupId: 'g', group: group() };
    const records: GroupRecord[] = [
      offset('g', 't', 0, 1),
      offset('g', 't', 1, 1),
      g,
      offset('g', 't', 0, 2),
      { kind: 'offset', groupId: 'g', topic: 't', partition: 1, offset: null },
      offset('h', 't', 1, 7),
      { kind: 'group', groupId: 'h', group: null },
    ];
    expect(foldGroupRecords(records)).toEqual([g, offset('g', 't', 0, 2), offset('h', 't', 1, 7)]);
  });
});
