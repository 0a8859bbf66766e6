/**
 * @module
 * {records} produce against a real in-process engine: ordering, partitioning, encodings, acks, validation
 * and the request size limit.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.ts';
import { partitionForKey } from '../../src/records/murmur2.ts';
import {
  clientPackr,
  createHarness,
  createTopic,
  expectError,
  type Harness,
  jsonRequest,
  msgpackRequest,
  utf8,
} from './support.ts';

const RECORDS_PATH = (topic: string) => `/v1/topics/${topic}/records`;
const FETCH_PATH = (topic: string, partition: number, query = '') =>
  `/v1/topics/${topic}/partitions/${partition}/records${query}`;

describe('produce {records}', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  it('appends records and answers their offsets in order', async () => {
    await createTopic(h.app, 'one');
    const { res, body } = await jsonRequest(h.app, 'POST', RECORDS_PATH('one'), {
      records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }],
    });
    expect(res.status).toBe(200);
    expect(body).toEqual({
      results: [
        { partition: 0, offset: 0 },
        { partition: 0, offset: 1 },
        { partition: 0, offset: 2 },
      ],
    });
    const again = await jsonRequest(h.app, 'POST', RECORDS_PATH('one'), { records: [{ value: 'd' }] });
    expect(again.body.results).toEqual([{ partition: 0, offset: 3 }]);
    const fetched = await jsonRequest(h.app, 'GET', FETCH_PATH('one', 0));
    expect(fetched.body.records.map((r: { value: string }) => r.value)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('answers results in record order across partitions', async () => {
    await createTopic(h.app, 'spread', 3);
    const partitions = [2, 0, 1, 2, 0, 2];
    const { res, body } = await jsonRequest(h.app, 'POST', RECORDS_PATH('spread'), {
      records: partitions.map((partition, i) => ({ partition, value: `v${i}` })),
    });
    expect(res.status).toBe(200);
    expect(body.results).toEqual([
      { partition: 2, offset: 0 },
      { partition: 0, offset: 0 },
      { partition: 1, offset: 0 },
      { partition: 2, offset: 1 },
      { partition: 0, offset: 1 },
      { partition: 2, offset: 2 },
    ]);
    const p2 = await jsonRequest(h.app, 'GET', FETCH_PATH('spread', 2));
    expect(p2.body.records.map((r: { value: string }) => r.value)).toEqual(['v0', 'v3', 'v5']);
    const p0 = await jsonRequest(h.app, 'GET', FETCH_PATH('spread', 0));
    expect(p0.body.records.map((r: { value: string }) => r.value)).toEqual(['v1', 'v4']);
  });

  it('sends a keyed record to the partition murmur2 picks, as a Java producer would', async () => {
    await createTopic(h.app, 'keyed', 5);
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    const { body } = await jsonRequest(h.app, 'POST', RECORDS_PATH('keyed'), {
      records: keys.map((key) => ({ key, value: 'x' })),
    });
    const expected = keys.map((key) => partitionForKey(utf8(key), 5));
    expect(body.results.map((r: { partition: number }) => r.partition)).toEqual(expected);
    // The keys cover several partitions, so this is not passing by luck of one partition.
    expect(new Set(expected).size).toBeGreaterThan(1);
  });

  it('puts every record without key or partition of one request on one partition', async () => {
    await createTopic(h.app, 'sticky', 8);
    const { body } = await jsonRequest(h.app, 'POST', RECORDS_PATH('sticky'), {
      records: Array.from({ length: 20 }, (_, i) => ({ value: `v${i}`, key: null })),
    });
    const used = new Set(body.results.map((r: { partition: number }) => r.partition));
    expect(used.size).toBe(1);
    expect(body.results.map((r: { offset: number }) => r.offset)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('keeps keys, tombstones, headers (repeated keys, null values) and timestamps', async () => {
    await createTopic(h.app, 'full');
    const headers = [
      { key: 'h', value: 'one' },
      { key: 'h', value: 'two' },
      { key: 'empty', value: null },
    ];
    await jsonRequest(h.app, 'POST', RECORDS_PATH('full'), {
      records: [
        { key: 'k', value: 'v', headers, timestamp: 1_700_000_000_123 },
        { key: 'k', value: null, timestamp: 1_700_000_000_456 },
      ],
    });
    const { body } = await jsonRequest(h.app, 'GET', FETCH_PATH('full', 0));
    expect(body.records).toEqual([
      { offset: 0, timestamp: 1_700_000_000_123, key: 'k', value: 'v', headers },
      { offset: 1, timestamp: 1_700_000_000_456, key: 'k', value: null, headers: [] },
    ]);
  });

  it('stamps records without a timestamp (or with -1) with the time of the request', async () => {
    await createTopic(h.app, 'stamped');
    const before = Date.now();
    await jsonRequest(h.app, 'POST', RECORDS_PATH('stamped'), {
      records: [{ value: 'a' }, { value: 'b', timestamp: -1 }],
    });
    const after = Date.now();
    const { body } = await jsonRequest(h.app, 'GET', FETCH_PATH('stamped', 0));
    for (const record of body.records) {
      expect(record.timestamp).toBeGreaterThanOrEqual(before);
      expect(record.timestamp).toBeLessThanOrEqual(after);
    }
  });

  it('gives the same records from JSON and from msgpack', async () => {
    await createTopic(h.app, 'from-json');
    await createTopic(h.app, 'from-msgpack');
    const timestamp = 1_700_000_000_000;
    const json = [
      { key: 'k1', value: 'hello', headers: [{ key: 'a', value: 'b' }], timestamp },
      { value: { base64: Buffer.from([0, 255, 1]).toString('base64') }, timestamp },
      { key: null, value: null, timestamp },
    ];
    const msgpack = [
      { key: utf8('k1'), value: 'hello', headers: [{ key: 'a', value: utf8('b') }], timestamp },
      { value: new Uint8Array([0, 255, 1]), timestamp },
      { key: null, value: null, timestamp },
    ];
    const a = await jsonRequest(h.app, 'POST', RECORDS_PATH('from-json'), { records: json });
    const b = await msgpackRequest(h.app, 'POST', RECORDS_PATH('from-msgpack'), { records: msgpack });
    expect(b.res.headers.get('content-type')).toBe('application/msgpack');
    expect(b.body).toEqual(a.body);
    for (const fetch of [jsonRequest, msgpackRequest]) {
      const fromJson = await fetch(h.app, 'GET', FETCH_PATH('from-json', 0));
      const fromMsgpack = await fetch(h.app, 'GET', FETCH_PATH('from-msgpack', 0));
      expect(fromJson.body.records).toHaveLength(3);
      expect(fromMsgpack.body).toEqual(fromJson.body);
    }
  });

  it('round-trips binary through JSON base64 and msgpack bin', async () => {
    await createTopic(h.app, 'binary');
    const bytes = new Uint8Array(256).map((_, i) => 255 - i);
    const base64 = Buffer.from(bytes).toString('base64');
    await jsonRequest(h.app, 'POST', RECORDS_PATH('binary'), {
      records: [
        { key: { base64 }, value: { base64 }, headers: [{ key: 'bin', value: { base64 } }] },
        { value: 'text' },
      ],
    });

    const json = await jsonRequest(h.app, 'GET', FETCH_PATH('binary', 0));
    expect(json.body.records[0].key).toEqual({ base64 });
    expect(json.body.records[0].value).toEqual({ base64 });
    expect(json.body.records[0].headers).toEqual([{ key: 'bin', value: { base64 } }]);
    // Valid UTF-8 comes back as a string unless base64 is asked for.
    expect(json.body.records[1].value).toBe('text');
    const forced = await jsonRequest(h.app, 'GET', FETCH_PATH('binary', 0, '?encoding=base64'));
    expect(forced.body.records[1].value).toEqual({ base64: Buffer.from('text').toString('base64') });
    expect(forced.body.records[1].key).toBeNull();

    const mp = await msgpackRequest(h.app, 'GET', FETCH_PATH('binary', 0));
    expect(new Uint8Array(mp.body.records[0].value)).toEqual(bytes);
    expect(new Uint8Array(mp.body.records[0].key)).toEqual(bytes);
    expect(new Uint8Array(mp.body.records[1].value)).toEqual(utf8('text'));
  });

  it('keeps a leading byte-order mark in a UTF-8 value', async () => {
    await createTopic(h.app, 'bom');
    await jsonRequest(h.app, 'POST', RECORDS_PATH('bom'), { records: [{ value: '\uFEFFx' }] });
    const { body } = await jsonRequest(h.app, 'GET', FETCH_PATH('bom', 0));
    expect(body.records[0].value).toBe('\uFEFFx');
  });

  it('auto-creates an unknown topic with the default partition count', async () => {
    const { res } = await jsonRequest(h.app, 'POST', RECORDS_PATH('auto'), { records: [{ value: 'x' }] });
    expect(res.status).toBe(200);
    const described = await jsonRequest(h.app, 'GET', '/v1/topics/auto');
    expect(described.body.partitions).toHaveLength(h.config.defaultPartitions);
  });

  it('answers 202 {} for acks=0 and still appends', async () => {
    await createTopic(h.app, 'fire');
    const { res, body } = await jsonRequest(h.app, 'POST', `${RECORDS_PATH('fire')}?acks=0`, {
      records: [{ value: 'x' }],
    });
    expect(res.status).toBe(202);
    expect(body).toEqual({});
    await expect
      .poll(async () => (await jsonRequest(h.app, 'GET', FETCH_PATH('fire', 0))).body.records.length)
      .toBe(1);
  });

  it('takes acks=1, acks=all and acks=-1', async () => {
    await createTopic(h.app, 'acks');
    for (const acks of ['1', 'all', '-1']) {
      const { res } = await jsonRequest(h.app, 'POST', `${RECORDS_PATH('acks')}?acks=${acks}`, {
        records: [{ value: acks }],
      });
      expect(res.status).toBe(200);
    }
  });

  it('answers an empty record list with no results', async () => {
    await createTopic(h.app, 'empty');
    const { res, body } = await jsonRequest(h.app, 'POST', RECORDS_PATH('empty'), { records: [] });
    expect(res.status).toBe(200);
    expect(body).toEqual({ results: [] });
  });

  describe('errors', () => {
    it('400 INVALID_REQUIRED_ACKS for bad acks', async () => {
      await createTopic(h.app, 't');
      for (const acks of ['2', 'none', '', '-2']) {
        expectError(
          await jsonRequest(h.app, 'POST', `${RECORDS_PATH('t')}?acks=${acks}`, {
            records: [{ value: 'x' }],
          }),
          400,
          'INVALID_REQUIRED_ACKS',
        );
      }
    });

    it('400 INVALID_RECORD naming the index of the bad record, and appends nothing', async () => {
      await createTopic(h.app, 't');
      const bad: Array<[unknown, string]> = [
        [{ key: 'k' }, 'value'],
        [{ value: 5 }, 'value'],
        [{ value: true }, 'value'],
        [{ value: [1, 2] }, 'value'],
        [{ value: 'v', key: { hex: 'ff' } }, 'key'],
        [{ value: { base64: 'not base64!' } }, 'value'],
        [{ value: { base64: 'AAAA', extra: 1 } }, 'value'],
        [{ value: 'v', headers: { a: 'b' } }, 'headers'],
        [{ value: 'v', headers: [{ key: 1, value: 'x' }] }, 'header 0'],
        [{ value: 'v', headers: [{ key: 'a', value: 'x' }, 'h'] }, 'header 1'],
        [{ value: 'v', headers: [{ key: 'a', value: 7 }] }, 'header 0 value'],
        [{ value: 'v', timestamp: -2 }, 'timestamp'],
        [{ value: 'v', timestamp: 1.5 }, 'timestamp'],
        [{ value: 'v', timestamp: '1700000000000' }, 'timestamp'],
        [{ value: 'v', timestamp: 2 ** 53 }, 'timestamp'],
        [{ value: 'v', partition: '0' }, 'partition'],
        [{ value: 'v', partition: 0.5 }, 'partition'],
        ['just a string', 'object'],
        [null, 'object'],
      ];
      for (const [record, mentions] of bad) {
        const answer = await jsonRequest(h.app, 'POST', RECORDS_PATH('t'), {
          records: [{ value: 'fine' }, { value: 'fine too' }, record],
        });
        expectError(answer, 400, 'INVALID_RECORD');
        expect(answer.body.error.message).toContain('record 2');
        expect(answer.body.error.message).toContain(mentions);
      }
      const fetched = await jsonRequest(h.app, 'GET', FETCH_PATH('t', 0));
      expect(fetched.body.records).toEqual([]);
    });

    it('400 INVALID_RECORD for a msgpack record with a value that is not bytes, a string or null', async () => {
      await createTopic(h.app, 't');
      const answer = await msgpackRequest(h.app, 'POST', RECORDS_PATH('t'), {
        records: [{ value: { base64: 'AA==' } }],
      });
      expect(answer.res.status).toBe(400);
      expect(answer.body.error.code).toBe('INVALID_RECORD');
    });

    it('400 INVALID_REQUEST for a body that is not {records: [...]}', async () => {
      for (const body of [{}, { records: 'x' }, [], 'records']) {
        expectError(
          await jsonRequest(h.app, 'POST', RECORDS_PATH('t'), JSON.stringify(body)),
          400,
          'INVALID_REQUEST',
        );
      }
    });

    it('400 INVALID_REQUEST for malformed JSON, naming JSON', async () => {
      const answer = await jsonRequest(h.app, 'POST', RECORDS_PATH('t'), '{"records": [');
      expectError(answer, 400, 'INVALID_REQUEST');
      expect(answer.body.error.message).toMatch(/^malformed JSON body: /);
      const notUtf8 = await h.app.request(RECORDS_PATH('t'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Uint8Array([0x7b, 0xff, 0x7d]),
      });
      expect(notUtf8.status).toBe(400);
      expect((await notUtf8.json()).error.message).toContain('UTF-8');
    });

    it('400 INVALID_REQUEST for malformed msgpack, answered in msgpack', async () => {
      const res = await h.app.request(RECORDS_PATH('t'), {
        method: 'POST',
        headers: { 'content-type': 'application/msgpack' },
        // A map header announcing 2 entries, then a truncated str8.
        body: new Uint8Array([0x82, 0xd9, 0x10, 0x61]),
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/msgpack');
      const body = clientPackr.unpack(new Uint8Array(await res.arrayBuffer()));
      expect(body.error.code).toBe('INVALID_REQUEST');
      expect(body.error.message).toMatch(/^malformed msgpack body: /);
    });

    it('400 INVALID_REQUEST for an empty body and for trailing bytes after the msgpack value', async () => {
      expectError(await jsonRequest(h.app, 'POST', RECORDS_PATH('t'), ''), 400, 'INVALID_REQUEST');
      const packed = clientPackr.pack({ records: [] });
      const res = await h.app.request(RECORDS_PATH('t'), {
        method: 'POST',
        headers: { 'content-type': 'application/msgpack', accept: 'application/json' },
        body: new Uint8Array([...packed, 0xc0]),
      });
      expect(res.status).toBe(400);
    });

    it('404 UNKNOWN_TOPIC_OR_PARTITION for an explicit partition out of range', async () => {
      await createTopic(h.app, 'two', 2);
      for (const partition of [2, -1]) {
        expectError(
          await jsonRequest(h.app, 'POST', RECORDS_PATH('two'), { records: [{ value: 'x', partition }] }),
          404,
          'UNKNOWN_TOPIC_OR_PARTITION',
        );
      }
    });

    it('400 INVALID_TOPIC_EXCEPTION for a bad topic name (nothing is auto-created)', async () => {
      expectError(
        await jsonRequest(h.app, 'POST', RECORDS_PATH('bad!name'), { records: [{ value: 'x' }] }),
        400,
        'INVALID_TOPIC_EXCEPTION',
      );
      expect((await jsonRequest(h.app, 'GET', '/v1/topics')).body.topics).toEqual([]);
    });

    it('400 INVALID_REQUEST for ?partition= with a {records} body', async () => {
      expectError(
        await jsonRequest(h.app, 'POST', `${RECORDS_PATH('t')}?partition=0`, { records: [{ value: 'x' }] }),
        400,
        'INVALID_REQUEST',
      );
    });
  });
});

describe('produce without auto-creation', () => {
  it('404 UNKNOWN_TOPIC_OR_PARTITION for an unknown topic', async () => {
    const h = await createHarness({ config: { autoCreateTopics: false } });
    try {
      expectError(
        await jsonRequest(h.app, 'POST', RECORDS_PATH('missing'), { records: [{ value: 'x' }] }),
        404,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
      // acks=0 still refuses an unknown topic: that is checked before the 202.
      expectError(
        await jsonRequest(h.app, 'POST', `${RECORDS_PATH('missing')}?acks=0`, { records: [{ value: 'x' }] }),
        404,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
    } finally {
      await h.close();
    }
  });
});

describe('request size limit', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ config: { maxRequestBytes: 1024 } });
    await createTopic(h.app, 't');
  });
  afterEach(() => h.close());

  const big = { records: [{ value: 'x'.repeat(2000) }] };

  it('413 RECORD_LIST_TOO_LARGE by Content-Length, before reading the body', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled++;
          controller.enqueue(utf8(JSON.stringify(big)));
          controller.close();
        },
      },
      { highWaterMark: 0 },
    ); // pulled only when read, so `pulled` tells whether the body was read
    const res = await h.app.request(RECORDS_PATH('t'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '5000' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('RECORD_LIST_TOO_LARGE');
    expect(pulled).toBe(0);
  });

  it('413 RECORD_LIST_TOO_LARGE by counting a streamed body without Content-Length', async () => {
    let chunks = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        chunks++;
        controller.enqueue(new Uint8Array(300).fill(0x20));
        if (chunks === 100) controller.close();
      },
    });
    const res = await h.app.request(RECORDS_PATH('t'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('RECORD_LIST_TOO_LARGE');
    // It stopped reading soon after the limit, not at the end of the 30 000 bytes.
    expect(chunks).toBeLessThan(10);
  });

  it('takes a body at the limit', async () => {
    const body = JSON.stringify({ records: [{ value: 'y' }] });
    const padded = body + ' '.repeat(1024 - body.length);
    const { res } = await jsonRequest(h.app, 'POST', RECORDS_PATH('t'), padded);
    expect(res.status).toBe(200);
    expectError(
      await jsonRequest(h.app, 'POST', RECORDS_PATH('t'), `${padded} `),
      413,
      'RECORD_LIST_TOO_LARGE',
    );
  });
});

describe('produce past max.message.bytes', () => {
  let h: Harness;
  let warnings: Array<{ msg: string; fields?: Record<string, unknown> }>;
  beforeEach(async () => {
    warnings = [];
    h = await createHarness();
    await jsonRequest(h.app, 'POST', '/v1/topics', {
      name: 'small',
      partitions: 2,
      config: { 'max.message.bytes': 200 },
    });
  });
  afterEach(() => h.close());

  it('413 MESSAGE_TOO_LARGE for a batch over the topic limit', async () => {
    expectError(
      await jsonRequest(h.app, 'POST', RECORDS_PATH('small'), {
        records: [{ value: 'x'.repeat(500), partition: 0 }],
      }),
      413,
      'MESSAGE_TOO_LARGE',
    );
  });

  it('says which partitions were appended when only some batches fail', async () => {
    const answer = await jsonRequest(h.app, 'POST', RECORDS_PATH('small'), {
      records: [
        { value: 'x'.repeat(500), partition: 0 },
        { value: 'ok', partition: 1 },
      ],
    });
    expectError(answer, 413, 'MESSAGE_TOO_LARGE');
    expect(answer.body.error.message).toContain('partition 1 were appended');
    const p1 = await jsonRequest(h.app, 'GET', FETCH_PATH('small', 1));
    expect(p1.body.records.map((r: { value: string }) => r.value)).toEqual(['ok']);
  });

  it('answers 202 for acks=0 and logs the failed append', async () => {
    const record = (msg: string, fields?: Record<string, unknown>) => warnings.push({ msg, fields });
    const app = createApp(h.engine, {
      config: h.config,
      logger: { debug() {}, info() {}, warn: record, error: record },
    });
    const { res } = await jsonRequest(app, 'POST', `${RECORDS_PATH('small')}?acks=0`, {
      records: [{ value: 'x'.repeat(500), partition: 0 }],
    });
    expect(res.status).toBe(202);
    await expect.poll(() => warnings.length).toBe(1);
    expect(warnings[0]!.msg).toBe('acks=0 produce failed');
    expect(warnings[0]!.fields?.topic).toBe('small');
  });
});
