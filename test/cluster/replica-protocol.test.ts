/**
 * @module
 * The leader's check of a follower's fetch request (`parseReplicaFetchRequest` in
 * `src/cluster/replica-protocol.ts`): valid requests come out as typed, with `lastFetchedEpoch` only when
 * sent; every malformed one is INVALID_REQUEST with a message naming what is wrong. Also through msgpackr,
 * as the request travels between brokers.
 */
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { parseReplicaFetchRequest, type ReplicaFetchRequest } from '../../src/cluster/replica-protocol.ts';
import { BrokerError } from '../../src/shared/errors.ts';

const VALID: ReplicaFetchRequest = {
  replicaId: 2,
  maxWaitMs: 500,
  partitions: [
    { topic: 'orders', partition: 0, leaderEpoch: 3, fetchOffset: 100 },
    { topic: 'orders', partition: 1, leaderEpoch: 0, fetchOffset: 0, lastFetchedEpoch: 2 },
  ],
};

/** VALID with the first partition changed by `changes`; `undefined` removes a field. */
function withPartition(changes: Record<string, unknown>, index = 0): Record<string, unknown> {
  const partitions: Record<string, unknown>[] = VALID.partitions.map((p) => ({ ...p }));
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete partitions[index]![key];
    else partitions[index]![key] = value;
  }
  return { ...VALID, partitions };
}

function withRequest(changes: Record<string, unknown>): Record<string, unknown> {
  const request: Record<string, unknown> = { ...VALID };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete request[key];
    else request[key] = value;
  }
  return request;
}

/** The BrokerError `parseReplicaFetchRequest(value)` throws (fails the test when it does not). */
function refusal(value: unknown): BrokerError {
  let caught: unknown;
  try {
    parseReplicaFetchRequest(value);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected INVALID_REQUEST').toBeInstanceOf(BrokerError);
  const error = caught as BrokerError;
  expect(error.code, error.message).toBe('INVALID_REQUEST');
  return error;
}

describe('parseReplicaFetchRequest: valid requests', () => {
  it('returns the request as sent, lastFetchedEpoch only on the partition that carries it', () => {
    const parsed = parseReplicaFetchRequest(structuredClone(VALID));
    expect(parsed).toEqual(VALID);
    expect('lastFetchedEpoch' in parsed.partitions[0]!).toBe(false);
    expect(parsed.partitions[1]!.lastFetchedEpoch).toBe(2);
  });

  it.each([
    { name: 'no partitions', request: { replicaId: 0, maxWaitMs: 0, partitions: [] } },
    {
      name: 'lastFetchedEpoch -1 (an empty log)',
      request: {
        replicaId: 1,
        maxWaitMs: 0,
        partitions: [{ topic: 't', partition: 0, leaderEpoch: 0, fetchOffset: 0, lastFetchedEpoch: -1 }],
      },
    },
    {
      name: 'offsets past 2^32',
      request: {
        replicaId: 7,
        maxWaitMs: 10_000,
        partitions: [
          { topic: 't', partition: 5, leaderEpoch: 12, fetchOffset: 2 ** 40 + 3, lastFetchedEpoch: 11 },
        ],
      },
    },
    {
      name: 'an empty topic name (the leader answers it UNKNOWN_TOPIC_OR_PARTITION, not the parser)',
      request: {
        replicaId: 1,
        maxWaitMs: 1,
        partitions: [{ topic: '', partition: 0, leaderEpoch: 0, fetchOffset: 0 }],
      },
    },
  ])('$name', ({ request }) => {
    expect(parseReplicaFetchRequest(structuredClone(request))).toEqual(request);
  });

  it('drops fields it does not know', () => {
    const parsed = parseReplicaFetchRequest({
      ...withPartition({ rackId: 'r1' }),
      clusterId: 'x',
    });
    expect(parsed).toEqual(VALID);
  });

  it('takes a lastFetchedEpoch that is present but undefined as absent', () => {
    const parsed = parseReplicaFetchRequest(withPartition({ lastFetchedEpoch: undefined }, 1));
    expect('lastFetchedEpoch' in parsed.partitions[1]!).toBe(false);
    const explicit = { ...VALID, partitions: [{ ...VALID.partitions[0]!, lastFetchedEpoch: undefined }] };
    expect('lastFetchedEpoch' in parseReplicaFetchRequest(explicit).partitions[0]!).toBe(false);
  });

  it('survives the msgpack trip between brokers unchanged', () => {
    const request: ReplicaFetchRequest = {
      replicaId: 3,
      maxWaitMs: 500,
      partitions: [
        { topic: 'orders', partition: 0, leaderEpoch: 9, fetchOffset: 2 ** 45 + 1 },
        { topic: 'payments', partition: 7, leaderEpoch: 1, fetchOffset: 12, lastFetchedEpoch: -1 },
      ],
    };
    expect(parseReplicaFetchRequest(unpack(pack(request)))).toEqual(request);
  });
});

describe('parseReplicaFetchRequest: malformed requests are INVALID_REQUEST naming what is wrong', () => {
  it.each([null, undefined, 'fetch', 42, true])('not an object: %j', (value) => {
    expect(refusal(value).message).toMatch(/not an object/);
  });

  it.each([
    ['replicaId missing', { replicaId: undefined }, /replicaId/],
    ['replicaId negative', { replicaId: -1 }, /replicaId/],
    ['replicaId fractional', { replicaId: 1.5 }, /replicaId/],
    ['replicaId a string', { replicaId: '2' }, /replicaId/],
    ['replicaId past 2^53', { replicaId: 2 ** 53 }, /replicaId/],
    ['maxWaitMs missing', { maxWaitMs: undefined }, /maxWaitMs/],
    ['maxWaitMs negative', { maxWaitMs: -1 }, /maxWaitMs/],
    ['maxWaitMs a string', { maxWaitMs: '500' }, /maxWaitMs/],
    ['maxWaitMs fractional', { maxWaitMs: 0.5 }, /maxWaitMs/],
    ['partitions missing', { partitions: undefined }, /partitions/],
    ['partitions an object', { partitions: { 0: VALID.partitions[0] } }, /partitions/],
    ['partitions a string', { partitions: 'orders-0' }, /partitions/],
    ['partitions null', { partitions: null }, /partitions/],
  ] as const)('%s', (_, changes, names) => {
    expect(refusal(withRequest(changes)).message).toMatch(names);
  });

  it('an array is not a request (it has no replicaId)', () => {
    expect(refusal([VALID]).message).toMatch(/replicaId/);
  });

  it('more than 100 000 partitions', () => {
    const partitions = Array.from({ length: 100_001 }, (_, i) => ({
      topic: 't',
      partition: i,
      leaderEpoch: 0,
      fetchOffset: 0,
    }));
    expect(refusal({ replicaId: 1, maxWaitMs: 0, partitions }).message).toMatch(/partitions/);
  });

  it.each([null, 'orders', 7, true])('a partition entry that is not an object: %j', (entry) => {
    const request = { ...VALID, partitions: [VALID.partitions[0], entry] };
    expect(refusal(request).message).toMatch(/partitions\[1\]/);
  });

  it.each([
    ['topic missing', { topic: undefined }, 'topic'],
    ['topic a number', { topic: 7 }, 'topic'],
    ['topic null', { topic: null }, 'topic'],
    ['partition missing', { partition: undefined }, 'partition'],
    ['partition negative', { partition: -1 }, 'partition'],
    ['partition fractional', { partition: 0.5 }, 'partition'],
    ['partition a string', { partition: '0' }, 'partition'],
    ['leaderEpoch missing', { leaderEpoch: undefined }, 'leaderEpoch'],
    ['leaderEpoch negative', { leaderEpoch: -1 }, 'leaderEpoch'],
    ['leaderEpoch a string', { leaderEpoch: '3' }, 'leaderEpoch'],
    ['fetchOffset missing', { fetchOffset: undefined }, 'fetchOffset'],
    ['fetchOffset negative', { fetchOffset: -5 }, 'fetchOffset'],
    ['fetchOffset fractional', { fetchOffset: 1.25 }, 'fetchOffset'],
    ['fetchOffset past 2^53', { fetchOffset: 2 ** 53 + 2 }, 'fetchOffset'],
    ['fetchOffset a BigInt (an unsafe int64 off the wire)', { fetchOffset: 10n }, 'fetchOffset'],
    ['lastFetchedEpoch below -1', { lastFetchedEpoch: -2 }, 'lastFetchedEpoch'],
    ['lastFetchedEpoch a string', { lastFetchedEpoch: '2' }, 'lastFetchedEpoch'],
    ['lastFetchedEpoch null', { lastFetchedEpoch: null }, 'lastFetchedEpoch'],
    ['lastFetchedEpoch fractional', { lastFetchedEpoch: 1.5 }, 'lastFetchedEpoch'],
  ] as const)('%s: names the partition entry and the field', (_, changes, field) => {
    const message = refusal(withPartition(changes, 1)).message;
    expect(message).toContain('partitions[1]');
    expect(message).toContain(field);
  });

  it('the first bad partition is the one named', () => {
    const request = withPartition({ fetchOffset: -1 }, 0);
    (request.partitions as Record<string, unknown>[])[1]!.partition = -1;
    expect(refusal(request).message).toContain('partitions[0]');
  });
});
