import { describe, expect, it } from 'vitest';
import type { MessageDescriptor } from '../../src/kafka/codec/descriptor.ts';
import {
  encodeRequestFrame,
  encodeResponseFrame,
  parseRequest,
  peekRequestHeader,
  requestHeaderVersion,
} from '../../src/kafka/codec/frame.ts';
import {
  decodeMessage,
  decodeVersionedData,
  encodeMessage,
  encodeVersionedData,
} from '../../src/kafka/codec/message-codec.ts';
import { Reader } from '../../src/kafka/codec/reader.ts';
import { Writer } from '../../src/kafka/codec/writer.ts';
import {
  ApiVersionsResponse,
  ConsumerProtocolSubscription,
  FetchRequest,
  type FetchResponse,
  FetchResponse as FetchResponseDescriptor,
  ProduceRequest,
  ProduceResponse,
} from '../../src/kafka/generated/messages.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import { concat } from './arbitraries.ts';
import { arr, cstr, fromHex, i8, i16, i32, i64, NO_TAGS, str, toHex, uvarint } from './fixtures/golden.ts';

function encode<T>(descriptor: MessageDescriptor<T>, version: number, value: T): string {
  const w = new Writer();
  encodeMessage(descriptor, version, value, w);
  return toHex(w.toBytes());
}

function decode<T>(descriptor: MessageDescriptor<T>, version: number, hex: string): T {
  const r = new Reader(fromHex(hex));
  const value = decodeMessage(descriptor, version, r);
  expect(r.remaining).toBe(0);
  return value;
}

function caught(fn: () => unknown): BrokerError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BrokerError) return err;
    throw err;
  }
  throw new Error('expected a BrokerError');
}

const FETCH_PARTITION: FetchResponse.PartitionData = {
  partitionIndex: 0,
  errorCode: 0,
  highWatermark: 10,
  lastStableOffset: 10,
  logStartOffset: 0,
  abortedTransactions: null,
  preferredReadReplica: -1,
  records: null,
};
const fetchResponse = (partition: FetchResponse.PartitionData): FetchResponse => ({
  throttleTimeMs: 0,
  errorCode: 0,
  sessionId: 0,
  responses: [{ topic: 't', partitions: [partition] }],
});
// FetchResponse v12 up to (and excluding) the partition's tagged section.
const FETCH_V12_PREFIX = `${i32(0) + i16(0) + i32(0)}02${cstr('t')}02${i32(0)}${i16(0)}${i64(10)}${i64(10)}${i64(0)}00${i32(-1)}00`;

describe('tagged fields', () => {
  it('a known tagged field is written only when it differs from its default', () => {
    const atDefault = encode(
      FetchResponseDescriptor,
      12,
      fetchResponse({ ...FETCH_PARTITION, currentLeader: { leaderId: -1, leaderEpoch: -1 } }),
    );
    expect(atDefault).toBe(`${FETCH_V12_PREFIX}${NO_TAGS}${NO_TAGS}${NO_TAGS}`);
    const set = encode(
      FetchResponseDescriptor,
      12,
      fetchResponse({ ...FETCH_PARTITION, currentLeader: { leaderId: 3, leaderEpoch: -1 } }),
    );
    expect(set).toBe(`${FETCH_V12_PREFIX}0101${uvarint(9)}${i32(3)}${i32(-1)}00${NO_TAGS}${NO_TAGS}`);
  });

  it('tagged fields are written in tag order, whatever the property order', () => {
    const hex = encode(ApiVersionsResponse, 3, {
      errorCode: 0,
      apiKeys: [],
      throttleTimeMs: 0,
      zkMigrationReady: true,
      finalizedFeatures: [{ name: 'f', maxVersionLevel: 2, minVersionLevel: 1 }],
    });
    expect(hex).toBe(`${i16(0)}01${i32(0)}0202${uvarint(8)}02${cstr('f')}${i16(2)}${i16(1)}00030101`);
  });

  it('unknown tags are skipped on decode; absent known ones decode as their defaults', () => {
    const hex = `${FETCH_V12_PREFIX}02${uvarint(7)}${uvarint(3)}aabbcc${uvarint(40)}${uvarint(0)}${NO_TAGS}${NO_TAGS}`;
    const decoded = decode(FetchResponseDescriptor, 12, hex);
    expect(decoded.responses[0]!.partitions[0]).toEqual({
      ...FETCH_PARTITION,
      divergingEpoch: { epoch: -1, endOffset: -1 },
      currentLeader: { leaderId: -1, leaderEpoch: -1 },
      snapshotId: { endOffset: -1, epoch: -1 },
    });
  });

  it('a known tagged field must fill exactly its declared size', () => {
    const short = `${FETCH_V12_PREFIX}0101${uvarint(10)}${i32(3)}${i32(-1)}00ff${NO_TAGS}${NO_TAGS}`;
    const err = caught(() => decode(FetchResponseDescriptor, 12, short));
    expect(err.code).toBe('INVALID_REQUEST');
    expect(err.message).toBe(
      'FetchResponse v12: responses[0].partitions[0].currentLeader: tagged field 1 left 1 of its 10 bytes unread',
    );
  });
});

describe('versions, defaults and nulls', () => {
  it('fields a version lacks decode as defaults; undefined encodes as the default', () => {
    const hex = i32(-1) + i32(500) + i32(1) + i32(0x7fffffff) + i8(0) + arr(0);
    expect(encode(FetchRequest, 4, { maxWaitMs: 500, minBytes: 1, topics: [] })).toBe(hex);
    expect(decode(FetchRequest, 4, hex)).toMatchObject({
      clusterId: null,
      replicaId: -1,
      maxBytes: 0x7fffffff,
      sessionEpoch: -1,
      rackId: '',
      forgottenTopicsData: [],
      replicaState: { replicaId: -1, replicaEpoch: -1 },
    });
  });

  it('a non-default value for a field the version lacks throws unless the field is ignorable', () => {
    const err = caught(() =>
      encode(FetchRequest, 4, {
        maxWaitMs: 1,
        minBytes: 1,
        topics: [],
        forgottenTopicsData: [{ topic: 't', partitions: [1] }],
      }),
    );
    expect(err.code).toBe('UNSUPPORTED_VERSION');
    expect(err.message).toMatch(/^FetchRequest v4: forgottenTopicsData: /);
    // throttleTimeMs is ignorable: Produce v0 responses simply do not carry it.
    expect(encode(ProduceResponse, 0, { responses: [], throttleTimeMs: 100 })).toBe(arr(0));
  });

  it('null only where the version allows it', () => {
    const produce = (name: string | null) =>
      encode(ProduceRequest, 3, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1,
        topicData: [{ name: name as string, partitionData: [] }],
      });
    expect(caught(() => produce(null)).message).toBe(
      'ProduceRequest v3: topicData[0].name: null in a version where the field is not nullable',
    );
    const hex = str(null) + i16(1) + i32(1) + arr(1) + str(null) + arr(0);
    const err = caught(() => decode(ProduceRequest, 3, hex));
    expect(err.code).toBe('INVALID_REQUEST');
    expect(err.message).toBe(
      'ProduceRequest v3: topicData[0].name: null in a version where the field is not nullable',
    );
  });

  it('array elements are never null', () => {
    const hex = arr(1) + str(null);
    expect(caught(() => decode(ConsumerProtocolSubscription, 0, `${hex}ffffffff`)).message).toBe(
      'ConsumerProtocolSubscription v0: topics: null element at [0]',
    );
    expect(
      caught(() =>
        encode(ConsumerProtocolSubscription, 0, { topics: [null as unknown as string], userData: null }),
      ).message,
    ).toBe('ConsumerProtocolSubscription v0: topics[0]: array elements cannot be null');
  });

  it('versions outside the schema are refused', () => {
    const err = caught(() => encode(ProduceRequest, 12, { acks: 1, timeoutMs: 1, topicData: [] }));
    expect(err.code).toBe('UNSUPPORTED_VERSION');
    expect(err.message).toMatch(/ProduceRequest v12 is outside its versions 0-11/);
  });

  it('names the failing field in type errors', () => {
    const err = caught(() => encode(ProduceRequest, 3, { acks: 70000, timeoutMs: 1, topicData: [] }));
    expect(err.message).toBe('ProduceRequest v3: acks: cannot encode 70000 as int16');
  });
});

describe('a synthetic schema: features the served messages do not use', () => {
  const Synthetic: MessageDescriptor<Record<string, unknown>> = {
    type: 'data',
    name: 'Synthetic',
    validVersions: '0-1',
    flexibleVersions: '1+',
    fields: [
      { name: 'a', type: 'uint16', versions: '0+' },
      { name: 'b', type: 'uint32', versions: '0+' },
      { name: 'c', type: 'float64', versions: '0+' },
      { name: 'ids', type: '[]uuid', versions: '0+' },
      { name: 'legacy', type: 'string', versions: '0+', flexibleVersions: 'none' },
      {
        name: 'maybe',
        type: 'struct',
        struct: 'Maybe',
        versions: '0+',
        nullableVersions: '0+',
        fields: [{ name: 'x', type: 'int8', versions: '0+' }],
      },
    ],
  };
  const uuid = '00112233-4455-6677-8899-aabbccddeeff';
  const value = { a: 65535, b: 2 ** 32 - 1, c: -0.25, ids: [uuid], legacy: 'L', maybe: null };

  it('v0: classic encodings, nullable struct marker -1', () => {
    const hex = `ffff${'ffffffff'}bfd0000000000000${arr(1)}00112233445566778899aabbccddeeff${str('L')}ff`;
    expect(encode(Synthetic, 0, value)).toBe(hex);
    expect(decode(Synthetic, 0, hex)).toEqual(value);
  });

  it('v1: compact arrays, but the field-level flexibleVersions keeps the classic string; struct marker 1', () => {
    const v = { ...value, maybe: { x: 5 } };
    const hex = `ffff${'ffffffff'}bfd0000000000000${'02'}00112233445566778899aabbccddeeff${str('L')}010500${NO_TAGS}`;
    expect(encode(Synthetic, 1, v)).toBe(hex);
    expect(decode(Synthetic, 1, hex)).toEqual(v);
  });
});

describe('versioned data (consumer protocol)', () => {
  it('round-trips with its int16 version prefix', () => {
    const w = new Writer();
    const subscription = {
      topics: ['a', 'b'],
      userData: null,
      ownedPartitions: [{ topic: 'a', partitions: [0, 1] }],
      generationId: 4,
      rackId: 'r1',
    };
    encodeVersionedData(ConsumerProtocolSubscription, 3, subscription, w);
    const bytes = w.toBytes();
    expect(toHex(bytes.subarray(0, 2))).toBe('0003');
    expect(decodeVersionedData(ConsumerProtocolSubscription, new Reader(bytes))).toEqual({
      version: 3,
      value: subscription,
    });
  });

  it('a newer version is read with the newest known layout, extra bytes ignored (as Kafka does)', () => {
    const hex = `${i16(9) + arr(1) + str('a')}ffffffff${arr(0)}${i32(2)}${str(null)}c0ffee`;
    const { version, value } = decodeVersionedData(ConsumerProtocolSubscription, new Reader(fromHex(hex)));
    expect(version).toBe(9);
    expect(value).toEqual({
      topics: ['a'],
      userData: null,
      ownedPartitions: [],
      generationId: 2,
      rackId: null,
    });
    expect(
      caught(() => decodeVersionedData(ConsumerProtocolSubscription, new Reader(fromHex('ffff')))).code,
    ).toBe('INVALID_REQUEST');
  });
});

describe('frames', () => {
  it('unknown API keys and unsupported versions', () => {
    const unknown = caught(() => parseRequest(fromHex(i16(999) + i16(0) + i32(1) + str(null))));
    expect([unknown.code, unknown.message]).toEqual(['INVALID_REQUEST', 'unknown API key 999']);
    const tooNew = caught(() => parseRequest(fromHex(i16(18) + i16(4) + i32(7) + str('x') + NO_TAGS)));
    expect([tooNew.code, tooNew.message]).toEqual([
      'UNSUPPORTED_VERSION',
      'ApiVersionsRequest v4 is not supported',
    ]);
    const notServed = caught(() =>
      parseRequest(fromHex(i16(0) + i16(2) + i32(7) + str('x')), {
        isSupported: (_key, version) => version >= 3,
      }),
    );
    expect(notServed.code).toBe('UNSUPPORTED_VERSION');
    expect(caught(() => parseRequest(fromHex('0012'))).message).toMatch(/2-byte frame is too short/);
  });

  it('peekRequestHeader reads what an ApiVersions error answer needs', () => {
    expect(peekRequestHeader(fromHex(`${i16(18) + i16(4) + i32(7)}ffff00`))).toEqual({
      apiKey: 18,
      apiVersion: 4,
      correlationId: 7,
    });
    expect(peekRequestHeader(fromHex('0012000400'))).toBeNull();
  });

  it('header versions follow the flexible versions', () => {
    expect(requestHeaderVersion(18, 2)).toBe(1);
    expect(requestHeaderVersion(18, 3)).toBe(2);
    expect(requestHeaderVersion(18, 4)).toBe(2);
    expect(requestHeaderVersion(0, 8)).toBe(1);
    expect(requestHeaderVersion(0, 9)).toBe(2);
    expect(requestHeaderVersion(7, 0)).toBe(0);
  });

  it('a Fetch response carries the stored batch by reference, not by copy', () => {
    const batch = new Uint8Array(4096).fill(0x42);
    const writer = encodeResponseFrame(1, 12, 99, fetchResponse({ ...FETCH_PARTITION, records: batch }));
    const chunks = writer.finish();
    expect(chunks).toContain(batch);
    const frame = concat(chunks);
    expect(new DataView(frame.buffer).getInt32(0)).toBe(frame.length - 4);
    const r = new Reader(frame, 4);
    expect(r.int32()).toBe(99);
    r.skipTaggedFields();
    const decoded = decodeMessage(FetchResponseDescriptor, 12, r);
    expect(decoded.responses[0]!.partitions[0]!.records).toEqual(batch);
  });

  it('records in a parsed request are views of the frame', () => {
    const frame = encodeRequestFrame(
      { apiKey: 0, apiVersion: 9, correlationId: 1, clientId: null },
      {
        acks: 1,
        timeoutMs: 1,
        topicData: [{ name: 't', partitionData: [{ index: 0, records: fromHex('0102') }] }],
      },
    )
      .toBytes()
      .subarray(4);
    const parsed = parseRequest(frame);
    if (parsed.apiKey !== 0) throw new Error('expected Produce');
    const records = parsed.body.topicData[0]!.partitionData[0]!.records!;
    expect(toHex(records)).toBe('0102');
    expect(records.buffer).toBe(frame.buffer);
  });
});
