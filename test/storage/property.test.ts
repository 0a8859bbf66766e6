/**
 * @module
 * Model-based property tests: random command sequences run against MemoryLog and the file log, each checked
 * after every step against a plain model (a list of batches of records plus logStartOffset).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LogConfig, logConfig } from '../../src/config/log-config.ts';
import type { DecodedRecord } from '../../src/records/record-batch.ts';
import { openFileLog } from '../../src/storage/file-log.ts';
import { MemoryLog } from '../../src/storage/memory-log.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import {
  batchHeaders,
  concatBytes,
  encodeBatch,
  expectBrokerError,
  manualClock,
  readAll,
  slicesBytes,
  text,
  utf8,
} from './support.ts';

interface RecordSpec {
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
  /** Timestamp relative to the clock at append time. */
  delta: number;
}

type Command =
  | { kind: 'append'; batches: RecordSpec[][] }
  | { kind: 'read'; at: number; maxBytes: number }
  | { kind: 'readOutside'; above: boolean }
  | { kind: 'offsetForTimestamp'; delta: number }
  | { kind: 'deleteRecordsBefore'; at: number }
  | { kind: 'truncateTo'; at: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'enforceRetention' }
  | { kind: 'maybeRoll' }
  | { kind: 'reopen' };

interface ModelRecord {
  offset: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
  timestamp: number;
}

interface ModelBatch {
  base: number;
  last: number;
  size: number;
  records: ModelRecord[];
}

/** The plain model: batches in offset order (those wholly below logStartOffset dropped) and the two ends. */
class Model {
  batches: ModelBatch[] = [];
  logStartOffset = 0;
  logEndOffset = 0;

  records(from = this.logStartOffset): ModelRecord[] {
    return this.batches.flatMap((b) => b.records).filter((r) => r.offset >= from);
  }

  batchIndexContaining(offset: number): number {
    return this.batches.findIndex((b) => b.base <= offset && offset <= b.last);
  }

  moveStart(offset: number): void {
    this.logStartOffset = offset;
    this.batches = this.batches.filter((b) => b.last >= offset);
  }
}

const recordSpec: fc.Arbitrary<RecordSpec> = fc.record({
  key: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
  value: fc.option(fc.string({ maxLength: 24 }), { nil: null }),
  headers: fc.array(
    fc.tuple(fc.string({ maxLength: 4 }), fc.option(fc.string({ maxLength: 6 }), { nil: null })),
    {
      maxLength: 2,
    },
  ),
  delta: fc.integer({ min: -5_000, max: 5_000 }),
});

const fraction = fc.double({ min: 0, max: 1, noNaN: true });

function commandArb(reopen: boolean): fc.Arbitrary<Command> {
  const weighted: Array<fc.WeightedArbitrary<Command>> = [
    {
      weight: 6,
      arbitrary: fc
        .array(fc.array(recordSpec, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 })
        .map((batches) => ({ kind: 'append', batches })),
    },
    {
      weight: 4,
      arbitrary: fc
        .record({ at: fraction, maxBytes: fc.integer({ min: 0, max: 1_500 }) })
        .map((r) => ({ kind: 'read', ...r })),
    },
    { weight: 1, arbitrary: fc.boolean().map((above) => ({ kind: 'readOutside', above })) },
    {
      weight: 2,
      arbitrary: fc
        .integer({ min: -8_000, max: 8_000 })
        .map((delta) => ({ kind: 'offsetForTimestamp', delta })),
    },
    { weight: 1, arbitrary: fraction.map((at) => ({ kind: 'deleteRecordsBefore', at })) },
    { weight: 1, arbitrary: fraction.map((at) => ({ kind: 'truncateTo', at })) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 40_000 }).map((ms) => ({ kind: 'advance', ms })) },
    { weight: 2, arbitrary: fc.constant({ kind: 'enforceRetention' }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'maybeRoll' }) },
  ];
  if (reopen) weighted.push({ weight: 1, arbitrary: fc.constant({ kind: 'reopen' }) });
  return fc.oneof(...weighted);
}

const configArb: fc.Arbitrary<Partial<LogConfig>> = fc.record({
  segmentBytes: fc.integer({ min: 150, max: 1_500 }),
  segmentMs: fc.integer({ min: 1_000, max: 60_000 }),
  retentionMs: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 120_000 })),
  retentionBytes: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 3_000 })),
  indexIntervalBytes: fc.integer({ min: 1, max: 600 }),
  // Small values keep background fsyncs in flight while truncation and retention delete segments.
  flushMessages: fc.constantFrom(1, 2, 7, Number.MAX_SAFE_INTEGER),
});

interface Subject {
  log: PartitionLog;
  reopen?: () => Promise<PartitionLog>;
  dispose(): Promise<void>;
}

type SubjectFactory = (config: Partial<LogConfig>, clock: () => number) => Promise<Subject>;

const memorySubject: SubjectFactory = async (config, clock) => {
  const log = new MemoryLog({ config: logConfig(config), clock });
  return { log, dispose: () => log.close() };
};

const fileSubject: SubjectFactory = async (config, clock) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-property-'));
  const options = { config: logConfig(config), clock };
  const subject: Subject = {
    log: await openFileLog(dir, options),
    reopen: async () => {
      await subject.log.close();
      subject.log = await openFileLog(dir, options);
      return subject.log;
    },
    dispose: async () => {
      // A close that hangs (the failure being reported) must not leave the directory behind.
      const grace = new Promise((resolve) => setTimeout(resolve, 1_000).unref());
      await Promise.race([subject.log.close().catch(() => {}), grace]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return subject;
};

function plain(record: DecodedRecord): ModelRecord {
  return {
    offset: record.offset,
    key: text(record.key),
    value: text(record.value),
    headers: record.headers.map((h) => [h.key, text(h.value)]),
    timestamp: record.timestamp,
  };
}

/** Picks an offset in [logStartOffset, logEndOffset] from a fraction. */
function pick(model: Model, at: number): number {
  const span = model.logEndOffset - model.logStartOffset;
  return model.logStartOffset + Math.min(span, Math.floor(at * (span + 1)));
}

async function checkState(log: PartitionLog, model: Model, step: string): Promise<void> {
  expect([log.logStartOffset, log.logEndOffset], step).toEqual([model.logStartOffset, model.logEndOffset]);
  expect(log.flushedOffset, step).toBeLessThanOrEqual(log.logEndOffset);
  expect(log.segmentCount, step).toBeGreaterThanOrEqual(1);
  const live = model.batches.reduce((sum, b) => sum + b.size, 0);
  expect(log.sizeInBytes, step).toBeGreaterThanOrEqual(live);
}

async function checkContent(log: PartitionLog, model: Model, step: string): Promise<void> {
  expect((await readAll(log)).map(plain), step).toEqual(model.records());
}

/** Checks a raw read and a decoding read at `from` against the model's batches. */
async function checkRead(log: PartitionLog, model: Model, from: number, maxBytes: number, step: string) {
  const raw = await log.read(from, maxBytes);
  const decoded = await log.readRecords(from, maxBytes);
  if (from === model.logEndOffset) {
    expect([raw.slices.length, raw.sizeInBytes, raw.nextOffset], step).toEqual([0, 0, from]);
    expect([decoded.records.length, decoded.nextOffset], step).toEqual([0, from]);
    return;
  }
  const headers = batchHeaders(slicesBytes(raw.slices));
  const first = model.batchIndexContaining(from);
  const expected = model.batches.slice(first, first + headers.length);
  expect(
    headers.map((h) => [h.baseOffset, h.baseOffset + h.lastOffsetDelta, h.sizeInBytes]),
    step,
  ).toEqual(expected.map((b) => [b.base, b.last, b.size]));
  expect(headers.length, step).toBeGreaterThanOrEqual(1);
  expect(raw.sizeInBytes, step).toBe(expected.reduce((sum, b) => sum + b.size, 0));
  if (headers.length > 1) expect(raw.sizeInBytes, step).toBeLessThanOrEqual(maxBytes);
  expect(raw.nextOffset, step).toBe(expected.at(-1)!.last + 1);
  expect([raw.logStartOffset, raw.logEndOffset], step).toEqual([model.logStartOffset, model.logEndOffset]);

  expect(decoded.nextOffset, step).toBeGreaterThan(from);
  expect(
    model.batches.some((b) => b.last + 1 === decoded.nextOffset),
    step,
  ).toBe(true);
  expect(decoded.records.map(plain), step).toEqual(
    model.records(from).filter((r) => r.offset < decoded.nextOffset),
  );
}

async function run(factory: SubjectFactory, config: Partial<LogConfig>, commands: Command[]): Promise<void> {
  const clock = manualClock(1_000_000_000);
  const subject = await factory(config, clock);
  const model = new Model();
  /** Base of the last appended batch while it is known to sit in the active segment (never deleted). */
  let inActive: number | null = null;
  try {
    for (const [i, command] of commands.entries()) {
      const step = `step ${i}: ${JSON.stringify(command)}`;
      const log = subject.log;
      switch (command.kind) {
        case 'append': {
          const now = clock();
          const encoded = command.batches.map((specs) =>
            encodeBatch(
              specs.map((r) => ({
                key: r.key === null ? null : utf8(r.key),
                value: r.value === null ? null : utf8(r.value),
                headers: r.headers.map(([key, value]) => ({
                  key,
                  value: value === null ? null : utf8(value),
                })),
                timestamp: now + r.delta,
              })),
            ),
          );
          const result = await log.append(concatBytes(encoded));
          expect(result.baseOffset, step).toBe(model.logEndOffset);
          command.batches.forEach((specs, b) => {
            const base = model.logEndOffset;
            const records = specs.map((r, k) => ({
              offset: base + k,
              key: r.key,
              value: r.value,
              headers: r.headers,
              timestamp: now + r.delta,
            }));
            model.batches.push({ base, last: base + specs.length - 1, size: encoded[b]!.length, records });
            model.logEndOffset = base + specs.length;
          });
          expect(result.lastOffset, step).toBe(model.logEndOffset - 1);
          inActive = model.batches.at(-1)!.base;
          break;
        }
        case 'read':
          await checkRead(log, model, pick(model, command.at), command.maxBytes, step);
          break;
        case 'readOutside': {
          const offset = command.above ? model.logEndOffset + 1 : model.logStartOffset - 1;
          await expectBrokerError(log.read(offset, 1000), 'OFFSET_OUT_OF_RANGE');
          break;
        }
        case 'offsetForTimestamp': {
          const target = clock() + command.delta;
          const hit = model.records().find((r) => r.timestamp >= target);
          const expected = hit === undefined ? null : { offset: hit.offset, timestamp: hit.timestamp };
          expect(await log.offsetForTimestamp(target), step).toEqual(expected);
          break;
        }
        case 'deleteRecordsBefore': {
          const offset = pick(model, command.at);
          expect(await log.deleteRecordsBefore(offset), step).toBe(Math.max(offset, model.logStartOffset));
          if (offset > model.logStartOffset) model.moveStart(offset);
          break;
        }
        case 'truncateTo': {
          const offset = pick(model, command.at);
          await log.truncateTo(offset);
          if (offset < model.logEndOffset) {
            const cut = model.batchIndexContaining(offset);
            if (offset <= model.logStartOffset || cut < 0) {
              model.batches = [];
              model.logStartOffset = model.logEndOffset = offset;
            } else {
              model.logEndOffset = model.batches[cut]!.base;
              model.batches = model.batches.slice(0, cut);
              model.logStartOffset = Math.min(model.logStartOffset, model.logEndOffset);
            }
            if (inActive !== null && offset <= inActive) inActive = null;
          }
          break;
        }
        case 'advance':
          clock.advance(command.ms);
          break;
        case 'enforceRetention': {
          const before = model.logStartOffset;
          const deleted = await log.enforceRetention();
          const after = log.logStartOffset;
          expect(deleted, step).toBeGreaterThanOrEqual(0);
          expect(after, step).toBeGreaterThanOrEqual(before);
          // Whole segments go, so the new start is a batch boundary (or the untouched old start).
          const boundaries = [before, model.logEndOffset, ...model.batches.map((b) => b.base)];
          expect(boundaries, step).toContain(after);
          if (deleted === 0) expect(after, step).toBe(before);
          if (inActive !== null) {
            expect(after, `${step}: active segment deleted`).toBeLessThanOrEqual(Math.max(before, inActive));
          }
          if (after > before) model.moveStart(after);
          await checkContent(log, model, step);
          break;
        }
        case 'maybeRoll':
          await log.maybeRoll();
          inActive = null;
          break;
        case 'reopen': {
          const reopened = await subject.reopen!();
          expect(reopened.flushedOffset, step).toBe(model.logEndOffset);
          await checkContent(reopened, model, step);
          break;
        }
      }
      await checkState(subject.log, model, step);
    }
    await checkContent(subject.log, model, 'end');
    if (model.logEndOffset > model.logStartOffset) {
      await checkRead(subject.log, model, model.logStartOffset, 0, 'end');
    }
  } finally {
    await subject.dispose();
  }
}

describe.each([
  { name: 'MemoryLog', factory: memorySubject, reopen: false },
  { name: 'FileLog', factory: fileSubject, reopen: true },
])('$name against the model', ({ factory, reopen }) => {
  it('agrees with the model over random command sequences', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(commandArb(reopen), { maxLength: 40 }), (config, commands) =>
        run(factory, config, commands),
      ),
      // A hung run (an append whose promise never settles) fails with its counterexample instead of
      // timing the whole test out.
      { numRuns: 60, timeout: 3_000, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true },
    );
  });
});
