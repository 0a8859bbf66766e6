/**
 * @module
 * Offset look-ups by earliest, latest and time, and their errors.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createHarness,
  createTopic,
  expectError,
  type Harness,
  jsonRequest,
  msgpackRequest,
} from './support.ts';

const OFFSETS = (topic: string, partition: number | string, at?: string) =>
  `/v1/topics/${topic}/partitions/${partition}/offsets${at === undefined ? '' : `?at=${at}`}`;

describe('offsets', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
    await createTopic(h.app, 't', 2);
    await jsonRequest(h.app, 'POST', '/v1/topics/t/records', {
      records: [1000, 2000, 3000].map((timestamp) => ({ value: `at ${timestamp}`, timestamp, partition: 0 })),
    });
  });
  afterEach(() => h.close());

  it('answers earliest and latest', async () => {
    expect((await jsonRequest(h.app, 'GET', OFFSETS('t', 0, 'earliest'))).body).toEqual({ offset: 0 });
    expect((await jsonRequest(h.app, 'GET', OFFSETS('t', 0, 'latest'))).body).toEqual({ offset: 3 });
    expect((await jsonRequest(h.app, 'GET', OFFSETS('t', 0))).body).toEqual({ offset: 3 });
    expect((await jsonRequest(h.app, 'GET', OFFSETS('t', 1, 'latest'))).body).toEqual({ offset: 0 });
  });

  it('answers the first record at or after a time, and -1 without a timestamp when there is none', async () => {
    expect((await jsonRequest(h.app, 'GET', OFFSETS('t', 0, '1500'))).body).toEqual({
      offset: 1,
      timestamp: 2000,
    });
    expect((await jsonRequest(h.app, 'GET', OFFSETS('t', 0, '3000'))).body).toEqual({
      offset: 2,
      timestamp: 3000,
    });
    expect((await jsonRequest(h.app, 'GET', OFFSETS('t', 0, '3001'))).body).toEqual({ offset: -1 });
    expect((await msgpackRequest(h.app, 'GET', OFFSETS('t', 0, '3001'))).body).toEqual({ offset: -1 });
  });

  it('400 INVALID_REQUEST for a bad `at` or partition, 404 for unknown ones', async () => {
    for (const at of ['soon', '-5', '1.5', '']) {
      const answer = await jsonRequest(h.app, 'GET', OFFSETS('t', 0, at));
      expectError(answer, 400, 'INVALID_REQUEST');
      expect(answer.body.error.message).toContain("'at'");
    }
    expectError(await jsonRequest(h.app, 'GET', OFFSETS('t', 'p', 'latest')), 400, 'INVALID_REQUEST');
    expectError(
      await jsonRequest(h.app, 'GET', OFFSETS('t', 2, 'latest')),
      404,
      'UNKNOWN_TOPIC_OR_PARTITION',
    );
    expectError(
      await jsonRequest(h.app, 'GET', OFFSETS('nope', 0, 'latest')),
      404,
      'UNKNOWN_TOPIC_OR_PARTITION',
    );
  });
});
