/**
 * ListOffsets and DeleteRecords over an in-process engine, through the codec: earliest, latest, by time
 * and the largest timestamp; DeleteRecords moving the log start, which ListOffsets and Fetch then see.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteRecordsApi } from '../../../src/kafka/apis/delete-records.ts';
import { fetchApi } from '../../../src/kafka/apis/fetch.ts';
import { listOffsetsApi } from '../../../src/kafka/apis/list-offsets.ts';
import type { ListOffsetsRequest } from '../../../src/kafka/generated/messages.ts';
import { encodeRecordBatch } from '../../../src/records/record-batch.ts';
import { ERRORS } from '../../../src/shared/errors.ts';
import { batchOf, call, createHarness, type Harness } from './support.ts';

const T0 = 1_700_000_000_000;

function listRequest(partitions: Array<[string, number, number]>): ListOffsetsRequest {
  const topics = new Map<string, ListOffsetsRequest.ListOffsetsTopic>();
  for (const [name, partitionIndex, timestamp] of partitions) {
    let t = topics.get(name);
    if (!t) {
      t = { name, partitions: [] };
      topics.set(name, t);
    }
    t.partitions.push({ partitionIndex, timestamp });
  }
  return { replicaId: -1, isolationLevel: 0, topics: [...topics.values()] };
}

let h: Harness;

describe.each([
  ['memory', false],
  ['disk', true],
])('ListOffsets and DeleteRecords (%s log)', (_name, onDisk) => {
  beforeEach(async () => {
    h = await createHarness({ onDisk });
    await h.engine.createTopic('t', 2);
    // Offsets 0..9 with timestamps T0 + 0, 10, ..., 90; the largest timestamp sits in the middle.
    const values = [0, 10, 20, 30, 40, 500, 60, 70, 80, 90];
    for (const [i, ts] of values.entries()) {
      await h.engine.produce({
        topic: 't',
        partition: 0,
        batches: encodeRecordBatch([{ value: new Uint8Array([i]), timestamp: T0 + ts }]),
        acks: -1,
      });
    }
  });
  afterEach(async () => {
    await h.close();
  });

  it.each([1, 4, 5, 7])(
    'v%i: earliest, latest, by time, and none after the last timestamp',
    async (version) => {
      const answer = await call(
        listOffsetsApi,
        version,
        listRequest([
          ['t', 0, -2],
          ['t', 0, -1],
          ['t', 0, T0 + 15],
          ['t', 0, T0 + 60],
          ['t', 0, T0 + 501],
          ['t', 1, -1],
        ]),
        h.ctx,
      );
      const rows = answer!.topics[0]!.partitions.map((p) => [p.errorCode, p.offset, p.timestamp]);
      expect(rows).toEqual([
        [0, 0, -1],
        [0, 10, -1],
        [0, 2, T0 + 20],
        [0, 5, T0 + 500],
        [0, -1, -1],
        [0, 0, -1],
      ]);
      if (version >= 4)
        expect(answer!.topics[0]!.partitions.map((p) => p.leaderEpoch)).toEqual([0, 0, 0, 0, -1, 0]);
    },
  );

  it('v7: -3 is the first record with the largest timestamp; -1 offset on an empty partition', async () => {
    await h.engine.produce({
      topic: 't',
      partition: 0,
      batches: encodeRecordBatch([{ value: null, timestamp: T0 + 500 }]),
      acks: -1,
    });
    const answer = await call(
      listOffsetsApi,
      7,
      listRequest([
        ['t', 0, -3],
        ['t', 1, -3],
      ]),
      h.ctx,
    );
    const [full, empty] = answer!.topics[0]!.partitions;
    expect(full).toMatchObject({ errorCode: 0, offset: 5, timestamp: T0 + 500, leaderEpoch: 0 });
    expect(empty).toMatchObject({ errorCode: 0, offset: -1, timestamp: -1 });
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for a missing topic or partition', async () => {
    const answer = await call(
      listOffsetsApi,
      5,
      listRequest([
        ['nope', 0, -1],
        ['t', 9, -2],
      ]),
      h.ctx,
    );
    expect(answer!.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([
      ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
      ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
    ]);
  });

  it.each([0, 1, 2])(
    'DeleteRecords v%i moves the log start; fetches below it are out of range',
    async (version) => {
      const answer = await call(
        deleteRecordsApi,
        version,
        { topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 4 }] }], timeoutMs: 1000 },
        h.ctx,
      );
      expect(answer!.topics[0]!.partitions[0]).toEqual({ partitionIndex: 0, lowWatermark: 4, errorCode: 0 });
      const earliest = await call(listOffsetsApi, 5, listRequest([['t', 0, -2]]), h.ctx);
      expect(earliest!.topics[0]!.partitions[0]!.offset).toBe(4);
      const fetched = await call(
        fetchApi,
        11,
        {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: 't',
              partitions: [
                { partition: 0, fetchOffset: 3, partitionMaxBytes: 1 << 20 },
                { partition: 0, fetchOffset: 4, partitionMaxBytes: 1 << 20 },
              ],
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        },
        h.ctx,
      );
      const [below, at] = fetched!.responses[0]!.partitions;
      expect(below!.errorCode).toBe(ERRORS.OFFSET_OUT_OF_RANGE.code);
      expect(at).toMatchObject({ errorCode: 0, logStartOffset: 4, highWatermark: 10 });
    },
  );

  it('DeleteRecords: -1 is the high watermark, past the end is OFFSET_OUT_OF_RANGE, below the start changes nothing', async () => {
    const answer = await call(
      deleteRecordsApi,
      1,
      {
        topics: [
          {
            name: 't',
            partitions: [
              { partitionIndex: 0, offset: 11 },
              { partitionIndex: 1, offset: -1 },
            ],
          },
          { name: 'nope', partitions: [{ partitionIndex: 0, offset: 0 }] },
        ],
        timeoutMs: 1000,
      },
      h.ctx,
    );
    expect(answer!.topics[0]!.partitions).toEqual([
      { partitionIndex: 0, lowWatermark: -1, errorCode: ERRORS.OFFSET_OUT_OF_RANGE.code },
      { partitionIndex: 1, lowWatermark: 0, errorCode: 0 },
    ]);
    expect(answer!.topics[1]!.partitions[0]!.errorCode).toBe(ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);

    await h.engine.produce({ topic: 't', partition: 1, batches: batchOf(3), acks: -1 });
    const all = await h.engine.deleteRecords('t', 1, -1);
    expect(all.lowWatermark).toBe(3);
    expect((await h.engine.deleteRecords('t', 1, 1)).lowWatermark).toBe(3);
    expect((await h.engine.listOffset('t', 1, 'earliest')).offset).toBe(3);
  });
});
