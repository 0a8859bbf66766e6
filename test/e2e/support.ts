/**
 * @module
 * Helpers for the end-to-end tests: run a command to its exit, talk to a real broker over plain `fetch`
 * (JSON produce, read a whole partition back, describe a topic or a consumer group), wait for a broker's
 * stderr to close, and poll until a condition holds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { REPO_ROOT } from '../support/broker.ts';

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `program args` to its end (SIGKILL after `timeoutMs`) and returns its exit status and output. */
export function runToExit(
  program: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<Exited> {
  const child = spawn(program, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  // 'close', not 'exit': the output is complete only once both pipes have ended.
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

/** Resolves once the child's stderr has ended, so everything it logged has been read. */
export function stderrClosed(child: ChildProcess): Promise<void> {
  const stream = child.stderr;
  if (stream === null || stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
  });
}

let topicCounter = 0;
/** A topic name no other test in this process uses. */
export function uniqueTopic(prefix: string): string {
  topicCounter++;
  return `${prefix}-${process.pid}-${topicCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON request (body, if any, sent as JSON); answers status, headers and the parsed body (or null). */
export async function requestJson<T = unknown>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text === '' ? null : JSON.parse(text)) as T,
  };
}

export interface JsonRecordIn {
  key?: string | null | { base64: string };
  value: string | null | { base64: string };
  headers?: Array<{ key: string; value: string | null | { base64: string } }>;
  partition?: number;
  timestamp?: number;
}

export interface JsonRecordOut {
  offset: number;
  timestamp: number;
  key: string | null | { base64: string };
  value: string | null | { base64: string };
  headers: Array<{ key: string; value: string | null | { base64: string } }>;
}

export interface FetchAnswer {
  records: JsonRecordOut[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

export interface TopicDescription {
  name: string;
  partitions: Array<{ partition: number; logStartOffset: number; highWatermark: number; worker: number }>;
  config: Record<string, string | number>;
}

/** Produces `{records}` as JSON with acks=all; throws on anything but 200. */
export async function produceJson(
  baseUrl: string,
  topic: string,
  records: JsonRecordIn[],
): Promise<Array<{ partition: number; offset: number }>> {
  const answer = await requestJson<{ results: Array<{ partition: number; offset: number }> }>(
    `${baseUrl}/v1/topics/${topic}/records?acks=all`,
    { body: { records } },
  );
  if (answer.status !== 200)
    throw new Error(`produce to ${topic}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.results;
}

/** Every record of one partition from `offset` up to the high watermark, as JSON, in a bounded loop. */
export async function readPartition(
  baseUrl: string,
  topic: string,
  partition: number,
  offset = 0,
): Promise<JsonRecordOut[]> {
  const records: JsonRecordOut[] = [];
  let next = offset;
  for (let round = 0; round < 10_000; round++) {
    const answer = await requestJson<FetchAnswer>(
      `${baseUrl}/v1/topics/${topic}/partitions/${partition}/records?offset=${next}&maxBytes=1048576`,
    );
    if (answer.status !== 200) {
      throw new Error(`fetch ${topic}/${partition}@${next}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    records.push(...answer.body.records);
    if (answer.body.nextOffset >= answer.body.highWatermark || answer.body.records.length === 0)
      return records;
    next = answer.body.nextOffset;
  }
  throw new Error(`fetch ${topic}/${partition}: did not reach the high watermark`);
}

export async function describeTopic(baseUrl: string, topic: string): Promise<TopicDescription> {
  const answer = await requestJson<TopicDescription>(`${baseUrl}/v1/topics/${topic}`);
  if (answer.status !== 200)
    throw new Error(`describe ${topic}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export async function createTopic(
  baseUrl: string,
  name: string,
  partitions: number,
  config?: Record<string, string | number>,
): Promise<TopicDescription> {
  const answer = await requestJson<TopicDescription>(`${baseUrl}/v1/topics`, {
    body: { name, partitions, ...(config ? { config } : {}) },
  });
  if (answer.status !== 201)
    throw new Error(`create ${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export interface GroupDescription {
  groupId: string;
  state: 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';
  protocolType: string;
  assignor: string;
  generationId: number;
  leader: string;
  rebalances: number;
  members: Array<{
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    topics: string[];
    assignment: Array<{ topic: string; partitions: number[] }>;
  }>;
  partitions: Array<{
    topic: string;
    partition: number;
    memberId: string | null;
    committedOffset: number;
    logEndOffset: number;
    lag: number | null;
    metadata: string;
    commitTimestamp: number;
  }>;
}

/** `GET /v1/groups/{group}`; throws on anything but 200. */
export async function describeGroup(baseUrl: string, group: string): Promise<GroupDescription> {
  const answer = await requestJson<GroupDescription>(`${baseUrl}/v1/groups/${encodeURIComponent(group)}`);
  if (answer.status !== 200)
    throw new Error(`describe group ${group}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/**
 * Calls `probe` every `everyMs` until it answers something other than undefined, and returns that; throws
 * after `timeoutMs` with `what` and the last probe error, if any.
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError === null ? '' : `; last error: ${(lastError as Error).message}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
