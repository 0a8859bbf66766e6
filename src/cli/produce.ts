/**
 * @module
 * `freshet produce <topic>`: one record per stdin line (split on `\n`, a trailing `\r` dropped, bytes kept
 * as they are), optionally `key<sep>value` with `--key-separator`. Records are sent without awaiting each
 * one, so they batch; `Producer.ready()` paces reading to the producer's buffer. A progress line is drawn
 * on stderr when it is a terminal and the input takes a while. Ctrl-C stops reading, sends what was read,
 * and exits with status 130.
 */
import { type Acks, FreshetError, type HeaderInput, Producer } from '../client/index.ts';
import type { Command } from './command.ts';
import { integerFlag, jsonLine, UsageError, write } from './io.ts';
import { Progress } from './progress.ts';

const NEWLINE = 0x0a;
const CR = 0x0d;
const textEncoder = new TextEncoder();

/** Splits a byte stream into lines; a last line without a newline is returned by `end()`. */
export class LineSplitter {
  private rest: Uint8Array = new Uint8Array(0);

  *push(chunk: Uint8Array): Generator<Uint8Array> {
    let data = chunk;
    if (this.rest.length > 0) {
      data = new Uint8Array(this.rest.length + chunk.length);
      data.set(this.rest);
      data.set(chunk, this.rest.length);
    }
    let start = 0;
    for (let i = data.indexOf(NEWLINE); i >= 0; i = data.indexOf(NEWLINE, start)) {
      yield trimCr(data.slice(start, i));
      start = i + 1;
    }
    this.rest = data.slice(start);
  }

  end(): Uint8Array | null {
    const last = this.rest;
    this.rest = new Uint8Array(0);
    return last.length > 0 ? trimCr(last) : null;
  }
}

function trimCr(line: Uint8Array): Uint8Array {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return -1;
  const first = needle[0]!;
  outer: for (let i = haystack.indexOf(first); i >= 0 && i <= haystack.length - needle.length; ) {
    for (let j = 1; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) {
        i = haystack.indexOf(first, i + 1);
        continue outer;
      }
    }
    return i;
  }
  return -1;
}

function parseAcks(value: string | undefined): Acks {
  if (value === undefined || value === 'all' || value === '-1') return 'all';
  if (value === '0') return 0;
  if (value === '1') return 1;
  throw new UsageError(`--acks must be 0, 1 or all, got '${value}'`);
}

function parseHeaders(values: string[] | undefined): HeaderInput[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  return values.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--header takes key=value, got '${pair}'`);
    return { key: pair.slice(0, eq), value: pair.slice(eq + 1) };
  });
}

interface PartitionSummary {
  partition: number;
  firstOffset: number;
  lastOffset: number;
  records: number;
}

export const produce: Command = {
  name: 'produce',
  args: '<topic>',
  summary: 'Send each line of stdin as a record (the topic is auto-created if the broker allows).',
  options: {
    'key-separator': { type: 'string', short: 'K' },
    partition: { type: 'string', short: 'p' },
    acks: { type: 'string' },
    header: { type: 'string', short: 'H', multiple: true },
    'linger-ms': { type: 'string' },
  },
  flagHelp: {
    'key-separator': 'split each line at the first SEP into key and value (no SEP in a line: null key)',
    partition: 'send every record to this partition (default: key hash, else sticky)',
    acks: '0, 1 or all (default all)',
    header: 'add a header to every record, repeatable: --header source=cli',
    'linger-ms': 'how long a record waits for others to join its batch (default 5)',
  },
  details: [
    'Prints a summary on stderr (with --json: a JSON object on stdout with offsets per partition).',
    '',
    'Examples:',
    '  seq 1 1000 | freshet produce numbers',
    "  printf 'user1:hello\\nuser2:bye\\n' | freshet produce chat --key-separator :",
  ].join('\n'),
  positionals: 1,
  async run(ctx, values, [topic]) {
    const separatorText = values['key-separator'] as string | undefined;
    if (separatorText === '') throw new UsageError('--key-separator must not be empty');
    const separator = separatorText === undefined ? null : textEncoder.encode(separatorText);
    const partition = integerFlag('partition', values.partition as string | undefined);
    const headers = parseHeaders(values.header as string[] | undefined);
    const producer = new Producer({
      http: ctx.http,
      acks: parseAcks(values.acks as string | undefined),
      lingerMs: integerFlag('linger-ms', values['linger-ms'] as string | undefined),
    });
    const progress = new Progress(ctx.io.stderr, ctx.io.stdinSize);
    const partitions = new Map<number, PartitionSummary>();
    let readBytes = 0;
    let records = 0;
    let acknowledged = 0;
    let failure: unknown = null;
    let interrupted = false;

    const sendLine = (line: Uint8Array) => {
      let key: Uint8Array | null = null;
      let value = line;
      if (separator !== null) {
        const at = indexOfBytes(line, separator);
        if (at >= 0) {
          key = line.subarray(0, at);
          value = line.subarray(at + separator.length);
        }
      }
      records++;
      producer.send(topic!, { key, value, partition, headers }).then(
        (meta) => {
          acknowledged++;
          const summary = partitions.get(meta.partition);
          if (summary === undefined) {
            partitions.set(meta.partition, {
              partition: meta.partition,
              firstOffset: meta.offset,
              lastOffset: meta.offset,
              records: 1,
            });
          } else {
            summary.firstOffset = Math.min(summary.firstOffset, meta.offset);
            summary.lastOffset = Math.max(summary.lastOffset, meta.offset);
            summary.records++;
          }
        },
        (err: unknown) => {
          failure ??= err;
        },
      );
    };

    const splitter = new LineSplitter();
    try {
      const chunks = ctx.io.stdin[Symbol.asyncIterator]();
      const signal = ctx.io.signal;
      // Ctrl-C stops reading; what was read is still sent before exiting.
      const interrupt = new Promise<'interrupted'>((resolve) => {
        if (signal?.aborted) resolve('interrupted');
        signal?.addEventListener('abort', () => resolve('interrupted'), { once: true });
      });
      for (;;) {
        const next = await Promise.race([chunks.next(), interrupt]);
        if (next === 'interrupted') {
          interrupted = true;
          break;
        }
        if (next.done) break;
        const chunk = next.value;
        const bytes = typeof chunk === 'string' ? textEncoder.encode(chunk) : chunk;
        readBytes += bytes.length;
        for (const line of splitter.push(bytes)) {
          if (failure !== null) break;
          if (producer.full) await producer.ready();
          sendLine(line);
        }
        if (failure !== null) break;
        progress.update(readBytes, records, acknowledged);
      }
      const last = interrupted ? null : splitter.end();
      if (last !== null && failure === null) sendLine(last);
      await producer.close();
    } finally {
      progress.done();
    }
    if (failure !== null) {
      await write(ctx.io.stderr, `freshet: ${acknowledged} of ${records} records were acknowledged\n`);
      throw failure instanceof FreshetError
        ? failure
        : new FreshetError('UNKNOWN_SERVER_ERROR', String(failure));
    }
    const summaries = [...partitions.values()].sort((a, b) => a.partition - b.partition);
    if (ctx.json) {
      await write(ctx.io.stdout, jsonLine({ topic, records: acknowledged, partitions: summaries }));
    } else {
      const where = summaries
        .map((s) => `partition ${s.partition}: offsets ${s.firstOffset}..${s.lastOffset}`)
        .join('; ');
      const noun = acknowledged === 1 ? 'record' : 'records';
      await write(
        ctx.io.stderr,
        `Produced ${acknowledged} ${noun} to '${topic}'${where ? ` (${where})` : ''}\n`,
      );
    }
    return interrupted ? 130 : 0;
  },
};
