/**
 * @module
 * `freshet consume <topic>`: prints records of every partition (or `--partition`) as lines: the value, or
 * `key<sep>value` with `--print-key`; with `--json` one JSON object per record. Without `--follow` it reads
 * up to each partition's high watermark as of the start and exits; with it, it waits for new records until
 * `--max` or Ctrl-C.
 */
import { Admin, Consumer, type ConsumerRecord, type StartOffset } from '../client/index.ts';
import type { Command } from './command.ts';
import { bytesForJson, integerFlag, jsonLine, UsageError, write } from './io.ts';

const textDecoder = new TextDecoder();

function parseStart(values: Record<string, unknown>): StartOffset | undefined {
  const offset = values.offset as string | undefined;
  if (values['from-beginning'] === true) {
    if (offset !== undefined) throw new UsageError('--from-beginning and --offset cannot be used together');
    return 'earliest';
  }
  if (offset === undefined) return undefined;
  if (offset === 'earliest' || offset === 'latest') return offset;
  return integerFlag('offset', offset);
}

function recordLine(record: ConsumerRecord, json: boolean, keySeparator: string | null): string {
  if (json) {
    return jsonLine({
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: bytesForJson(record.key),
      value: bytesForJson(record.value),
      headers: record.headers.map((h) => ({ key: h.key, value: bytesForJson(h.value) })),
    });
  }
  const value = record.value === null ? '' : textDecoder.decode(record.value);
  if (keySeparator === null) return `${value}\n`;
  const key = record.key === null ? '' : textDecoder.decode(record.key);
  return `${key}${keySeparator}${value}\n`;
}

export const consume: Command = {
  name: 'consume',
  args: '<topic>',
  summary: 'Print the records of a topic, one per line.',
  options: {
    'from-beginning': { type: 'boolean' },
    offset: { type: 'string', short: 'o' },
    partition: { type: 'string', short: 'p' },
    follow: { type: 'boolean', short: 'f' },
    max: { type: 'string', short: 'n' },
    'print-key': { type: 'boolean' },
    'key-separator': { type: 'string', short: 'K' },
  },
  flagHelp: {
    'from-beginning': 'start at the earliest offset',
    offset: 'start at earliest, latest or this offset (in every partition read)',
    partition: 'read only this partition',
    follow: 'keep waiting for new records (until --max or Ctrl-C)',
    max: 'stop after this many records',
    'print-key': 'print key<separator>value',
    'key-separator': 'separator for --print-key (default a tab)',
  },
  details: [
    'Starts at the earliest offset, or the latest with --follow, unless --from-beginning or --offset says.',
    'Without --follow it stops at the high watermark each partition had when it started.',
    'With --json each record is {topic, partition, offset, timestamp, key, value, headers}; bytes that are',
    'not UTF-8 appear as {"base64": ...}.',
  ].join('\n'),
  positionals: 1,
  async run(ctx, values, [topic]) {
    const follow = values.follow === true;
    const start = parseStart(values) ?? (follow ? 'latest' : 'earliest');
    const max = integerFlag('max', values.max as string | undefined, 1);
    const only = integerFlag('partition', values.partition as string | undefined);
    const separatorFlag = values['key-separator'] as string | undefined;
    const keySeparator =
      values['print-key'] === true || separatorFlag !== undefined ? (separatorFlag ?? '\t') : null;

    const admin = new Admin({ http: ctx.http, retries: 2 });
    // The ends to stop at, as each partition's leader has them (in a cluster, not any broker's description).
    const description = await admin.withLeaderOffsets(await admin.describeTopic(topic!));
    let partitions = description.partitions;
    if (only !== undefined) {
      partitions = partitions.filter((p) => p.partition === only);
      if (partitions.length === 0) {
        throw new UsageError(
          `topic '${topic}' has ${description.partitions.length} partitions, no partition ${only}`,
        );
      }
    }
    // An explicit offset out of the log is an error to report; otherwise a position that retention
    // overtook restarts at the earliest record.
    const consumer = new Consumer({
      http: ctx.http,
      autoOffsetReset: typeof start === 'number' ? 'none' : 'earliest',
      fetchMaxWaitMs: follow ? 1000 : 100,
    });
    const onAbort = () => void consumer.close();
    ctx.io.signal?.addEventListener('abort', onAbort, { once: true });
    if (ctx.io.signal?.aborted) onAbort();
    const ends = new Map(partitions.map((p) => [p.partition, p.highWatermark]));
    const reachedEnd = () =>
      partitions.every((p) => {
        const position = consumer.position(topic!, p.partition);
        return position !== null && position >= ends.get(p.partition)!;
      });

    let count = 0;
    try {
      consumer.assign(partitions.map((p) => ({ topic: topic!, partition: p.partition, offset: start })));
      while (!ctx.io.signal?.aborted) {
        if (!follow && reachedEnd()) break;
        const records = await consumer.poll({
          maxWaitMs: follow ? 1000 : 200,
          maxRecords: max === undefined ? 500 : Math.min(500, max - count),
        });
        let out = '';
        for (const record of records) {
          // Without --follow, records appended after the start are not ours to print.
          if (!follow && record.offset >= ends.get(record.partition)!) continue;
          out += recordLine(record, ctx.json, keySeparator);
          count++;
        }
        if (out.length > 0) await write(ctx.io.stdout, out);
        if (max !== undefined && count >= max) break;
      }
    } finally {
      ctx.io.signal?.removeEventListener('abort', onAbort);
      await consumer.close();
    }
    if (!ctx.json && ctx.io.stderr.isTTY) {
      await write(ctx.io.stderr, `Consumed ${count} ${count === 1 ? 'record' : 'records'}\n`);
    }
    return 0;
  },
};
