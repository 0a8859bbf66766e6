/**
 * @module
 * Helpers for the tests that drive unmodified Kafka clients (kcat, kafka-python, kafkajs, @platformatic/kafka)
 * against a real broker's Kafka door: find the tools (a missing one FAILS the test with what to install: nothing is ever
 * skipped), run them to their exit with a bounded time, keep track of every broker and child process a test
 * starts so `afterEach` stops them even when the test failed, and compute where Java's partitioner puts a key.
 *
 * Debugging a client that fails (the variables are read here, at the test edge):
 *   FRESHET_KCAT_DEBUG=1     adds `-d protocol,broker,msg` to every kcat run (its stderr is in the failure)
 *   FRESHET_KAFKA_DEBUG=1    kafka-python logs at DEBUG to stderr; kafkajs logs at DEBUG
 *   FRESHET_PYTHON=<path>    the python3 that has kafka-python (default: Debian's /usr/bin/python3, then PATH's)
 *   FRESHET_KCAT=<path>      the kcat binary (default: kcat on PATH)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { murmur2, toPositive } from '../../../src/records/murmur2.ts';
import { type BrokerHandle, REPO_ROOT, type StartBrokerOptions, startBroker } from '../../support/broker.ts';

export { BUN, REPO_ROOT } from '../../support/broker.ts';

export const KCAT_INSTALL_HINT =
  "Debian's kcat 1.7 (`apt-get install -y kcat`; .ci/run installs it), or set FRESHET_KCAT to a kcat binary";
export const KAFKA_PYTHON_INSTALL_HINT =
  "Debian's kafka-python 2.0 (`apt-get install -y python3-kafka`; .ci/run installs it), or set " +
  'FRESHET_PYTHON to a python3 that can `import kafka`';

export const DEBUG = process.env.FRESHET_KAFKA_DEBUG === '1';
const KCAT_DEBUG = process.env.FRESHET_KCAT_DEBUG === '1';

// ------------------------------------------------------------------ tools (fail, never skip)

let kcatPath: string | null = null;

/** The kcat binary; throws (so the test fails) with what to install when there is none. */
export function requireKcat(): string {
  if (kcatPath !== null) return kcatPath;
  const candidate = process.env.FRESHET_KCAT || 'kcat';
  const probe = spawnSync(candidate, ['-V'], { encoding: 'utf8' });
  if (probe.status !== 0 || !/librdkafka/.test(probe.stdout + probe.stderr)) {
    throw new Error(
      `These tests need kcat. Install ${KCAT_INSTALL_HINT}.\n` +
        `${candidate} -V: ${probe.error?.message ?? (probe.stderr || probe.stdout).trim()}`,
    );
  }
  kcatPath = candidate;
  return candidate;
}

let pythonPath: string | null = null;

/** The first python3 that has kafka-python: $FRESHET_PYTHON, Debian's, then PATH's; else throws. */
export function requireKafkaPython(): string {
  if (pythonPath !== null) return pythonPath;
  const candidates = [process.env.FRESHET_PYTHON, '/usr/bin/python3', 'python3'].filter(
    (c): c is string => !!c,
  );
  const tried: string[] = [];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import kafka, sys; sys.stdout.write(kafka.__version__)'], {
      encoding: 'utf8',
    });
    if (probe.status === 0) {
      pythonPath = candidate;
      return candidate;
    }
    tried.push(`${candidate}: ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}`);
  }
  throw new Error(
    `These tests need kafka-python. Install ${KAFKA_PYTHON_INSTALL_HINT}.\n${tried.join('\n')}`,
  );
}

// ------------------------------------------------------------------ processes and brokers a test owns

const liveChildren = new Set<ChildProcess>();
const liveBrokers = new Set<BrokerHandle>();
const tempDirs = new Set<string>();

/** Starts a broker (Kafka door on a free port, no initial rebalance delay) that `cleanup()` will stop. */
export async function startKafkaBroker(options: StartBrokerOptions = {}): Promise<BrokerHandle> {
  const broker = await startBroker({
    ...options,
    args: ['--group-initial-rebalance-delay-ms', '0', ...(options.args ?? [])],
  });
  liveBrokers.add(broker);
  return broker;
}

/** A temp dir that `cleanup()` removes. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `freshet-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

/** Tracks a child this test spawned so `cleanup()` kills it (by its own PID) if it is still running. */
export function track(child: ChildProcess): ChildProcess {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

/** For afterEach: SIGKILLs every child still running, stops every broker, removes the temp dirs. */
export async function cleanup(): Promise<void> {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  liveChildren.clear();
  const brokers = [...liveBrokers];
  liveBrokers.clear();
  await Promise.all(brokers.map((b) => b.stop().catch(() => {})));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Stops one broker now (a restart test), leaving its data dir when the caller passed its own. */
export async function stopBroker(broker: BrokerHandle): Promise<void> {
  liveBrokers.delete(broker);
  await broker.stop();
}

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin, which is then closed. */
  input?: string | Uint8Array;
  env?: Record<string, string>;
  /** SIGKILL after this long; default 60 s. */
  timeoutMs?: number;
}

/** Runs `program args` to its end (SIGKILL after the timeout) and returns its status and output. */
export function runToExit(
  program: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<Exited> {
  const child = track(
    spawn(program, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 4_000_000) stderr = stderr.slice(-2_000_000);
  });
  if (options.input !== undefined) {
    child.stdin!.on('error', () => {});
    child.stdin!.end(options.input);
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last `chars` characters of a text, for failure messages. */
export function tail(text: string, chars = 4000): string {
  return text.length <= chars ? text : `…${text.slice(-chars)}`;
}

/** Throws unless the run exited 0, with its output (and the broker's log) in the message. */
export function expectSuccess(what: string, run: Exited, broker?: BrokerHandle): Exited {
  if (run.code === 0) return run;
  throw new Error(
    `${what} failed (exit ${run.code}, signal ${run.signal})\n--- stderr:\n${tail(run.stderr)}\n` +
      `--- stdout:\n${tail(run.stdout, 1500)}${broker ? `\n--- broker log:\n${tail(broker.stderr(), 3000)}` : ''}`,
  );
}

// ------------------------------------------------------------------ kcat

/** Runs `kcat -b <broker> ...args` (with FRESHET_KCAT_DEBUG, protocol debugging on) to its exit. */
export function kcat(
  broker: BrokerHandle,
  args: readonly string[],
  options: RunOptions = {},
): Promise<Exited> {
  const debug = KCAT_DEBUG ? ['-d', 'protocol,broker,msg,cgrp'] : [];
  return runToExit(requireKcat(), ['-b', broker.kafkaAddress, ...debug, ...args], options);
}

/** kcat's consume format used by these tests: partition, offset, timestamp, key, value, tab-separated. */
export const KCAT_FORMAT = '%p\\t%o\\t%T\\t%k\\t%s\\n';

export interface KcatRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string;
  value: string;
}

/** Parses kcat output written with `KCAT_FORMAT` (ignoring anything else it printed). */
export function parseKcatRecords(stdout: string): KcatRecord[] {
  const out: KcatRecord[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const [partition, offset, timestamp, key, ...value] = line.split('\t');
    if (key === undefined) throw new Error(`kcat printed a line that is no record: ${JSON.stringify(line)}`);
    out.push({
      partition: Number(partition),
      offset: Number(offset),
      timestamp: Number(timestamp),
      key,
      value: value.join('\t'),
    });
  }
  return out;
}

// ------------------------------------------------------------------ small things

const encoder = new TextEncoder();

/** The partition Java's default partitioner (and librdkafka's murmur2_random) picks for a key. */
export function javaPartition(key: string, partitions: number): number {
  return toPositive(murmur2(encoder.encode(key))) % partitions;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** The values that occur more than once. */
export function duplicates<T>(values: readonly T[]): T[] {
  const seen = new Set<T>();
  const twice = new Set<T>();
  for (const v of values) (seen.has(v) ? twice : seen).add(v);
  return [...twice];
}

let counter = 0;
/** A topic or group name no other test in this process uses. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}
