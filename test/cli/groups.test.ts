/**
 * @module
 * `freshet groups list|describe|reset-offsets|delete` against a real broker process: in-process through
 * `main(argv, io)` with fake stdio (exit statuses, tables, --json, errors), plus one run as a child process.
 * A group member is driven over the HTTP endpoints by hand (join → sync → heartbeat), since the CLI has no
 * command that joins a group.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatetime } from '../../src/cli/groups.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { type BrokerHandle, BUN, REPO_ROOT, startBroker } from '../support/broker.ts';

let broker: BrokerHandle;

beforeAll(async () => {
  broker = await startBroker({
    workers: 2,
    args: ['--group-min-session-timeout-ms', '500', '--group-initial-rebalance-delay-ms', '0'],
  });
});
afterAll(async () => {
  await broker?.stop();
});

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** `freshet <args> --url <broker>` in-process. */
async function freshet(...args: string[]): Promise<Run> {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdin: (async function* () {})(),
    stdout: {
      write: (s: string) => {
        out.stdout += s;
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        out.stderr += s;
        return true;
      },
    },
    env: {},
  };
  const status = await main([...args, '--url', broker.url], io);
  return { status, ...out };
}

// biome-ignore lint/suspicious/noExplicitAny: answer bodies are asserted on, not typed
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(broker.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

/** Joins, syncs and heartbeats one member until the returned function makes it leave. */
async function joinMember(
  groupId: string,
  topics: string[],
): Promise<{ memberId: string; leave(): Promise<void> }> {
  const path = `/v1/groups/${encodeURIComponent(groupId)}`;
  const join = await call('POST', `${path}/join`, { topics, sessionTimeoutMs: 3_000, clientId: 'cli-test' });
  expect(join.status, JSON.stringify(join.body)).toBe(200);
  const { memberId, generationId } = join.body;
  expect((await call('POST', `${path}/sync`, { memberId, generationId })).status).toBe(200);
  const timer = setInterval(
    () => void call('POST', `${path}/heartbeat`, { memberId, generationId }).catch(() => {}),
    500,
  );
  return {
    memberId,
    async leave() {
      clearInterval(timer);
      await call('POST', `${path}/leave`, { memberId });
    },
  };
}

let counter = 0;
function unique(prefix: string): string {
  return `cli-${prefix}-${process.pid}-${++counter}`;
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  expect((await call('POST', '/v1/topics', { name: topic, partitions })).status).toBe(201);
}

async function produce(topic: string, partition: number, timestamps: number[]): Promise<void> {
  const records = timestamps.map((timestamp, i) => ({ value: `v${i}`, partition, timestamp }));
  expect((await call('POST', `/v1/topics/${topic}/records`, { records })).status).toBe(200);
}

async function commit(groupId: string, offsets: Array<{ topic: string; partition: number; offset: number }>) {
  const answer = await call('POST', `/v1/groups/${encodeURIComponent(groupId)}/offsets`, { offsets });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

async function committed(groupId: string, topic: string): Promise<Record<number, number>> {
  const answer = await call('GET', `/v1/groups/${encodeURIComponent(groupId)}/offsets?topic=${topic}`);
  if (answer.status === 404) return {};
  const offsets = answer.body.offsets as Array<{ partition: number; offset: number }>;
  return Object.fromEntries(offsets.map((o) => [o.partition, o.offset]));
}

/** Table rows of the output as arrays of cells. */
function rows(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

describe('freshet groups', () => {
  it('lists and describes a group with its members, committed offsets and lag', async () => {
    const topic = unique('lag');
    const groupId = unique('g-lag');
    await createTopic(topic, 3);
    const now = Date.now();
    await produce(topic, 0, [now, now, now, now, now]);
    await produce(topic, 1, [now, now]);
    const member = await joinMember(groupId, [topic]);
    try {
      const path = `/v1/groups/${encodeURIComponent(groupId)}`;
      const description = (await call('GET', path)).body;
      const commitAnswer = await call('POST', `${path}/offsets`, {
        memberId: member.memberId,
        generationId: description.generationId,
        offsets: [{ topic, partition: 0, offset: 1 }],
      });
      expect(commitAnswer.status, JSON.stringify(commitAnswer.body)).toBe(200);

      const list = await freshet('groups', 'list');
      expect(list.status, list.stderr).toBe(0);
      expect(rows(list.stdout)[0]).toEqual(['GROUP', 'STATE', 'MEMBERS']);
      expect(rows(list.stdout)).toContainEqual([groupId, 'Stable', '1']);
      const listJson = await freshet('groups', 'list', '--json');
      expect(JSON.parse(listJson.stdout).groups).toContainEqual({
        groupId,
        protocolType: 'consumer',
        state: 'Stable',
        members: 1,
      });

      const described = await freshet('groups', 'describe', groupId);
      expect(described.status, described.stderr).toBe(0);
      const [header, ...table] = described.stdout.trim().split('\n');
      expect(header).toBe(
        `Group: ${groupId}  State: Stable  Assignor: ${description.assignor}  ` +
          `Generation: ${description.generationId}  Members: 1`,
      );
      expect(rows(table.join('\n'))).toEqual([
        ['TOPIC', 'PARTITION', 'MEMBER', 'COMMITTED', 'LOG-END', 'LAG'],
        [topic, '0', member.memberId, '1', '5', '4'],
        [topic, '1', member.memberId, '-', '2', '-'],
        [topic, '2', member.memberId, '-', '0', '-'],
      ]);
      const json = await freshet('groups', 'describe', groupId, '--json');
      const raw = JSON.parse(json.stdout);
      expect(raw).toMatchObject({ groupId, state: 'Stable', members: [{ memberId: member.memberId }] });
      expect(raw.partitions).toContainEqual(
        expect.objectContaining({ partition: 0, lag: 4, committedOffset: 1 }),
      );

      // An active group's offsets cannot be reset, not even in a dry run, nor can it be deleted.
      for (const dryRun of [[], ['--dry-run']]) {
        const refused = await freshet(
          'groups',
          'reset-offsets',
          groupId,
          '--topic',
          topic,
          '--to-earliest',
          ...dryRun,
        );
        expect(refused.status).toBe(1);
        expect(refused.stderr).toContain(
          `Assignments can only be reset if the group '${groupId}' is inactive, but the current state is Stable.`,
        );
        expect(refused.stdout).toBe('');
      }
      expect(await committed(groupId, topic)).toEqual({ 0: 1 });
      const deleteRefused = await freshet('groups', 'delete', groupId);
      expect(deleteRefused.status).toBe(1);
      expect(deleteRefused.stderr).toContain('NON_EMPTY_GROUP');
    } finally {
      await member.leave();
    }
    const empty = await freshet('groups', 'describe', groupId);
    expect(empty.stdout).toContain('State: Empty');
    expect(rows(empty.stdout.split('\n').slice(1).join('\n'))).toEqual([
      ['TOPIC', 'PARTITION', 'MEMBER', 'COMMITTED', 'LOG-END', 'LAG'],
      [topic, '0', '-', '1', '5', '4'],
    ]);
  });

  it('resets the offsets of an empty group to each kind of target', async () => {
    const topic = unique('reset');
    const groupId = unique('g-reset');
    await createTopic(topic, 2);
    const base = Date.now() - 3_600_000;
    await produce(
      topic,
      0,
      [0, 1, 2, 3, 4, 5].map((i) => base + i * 60_000),
    ); // a record a minute
    await produce(topic, 1, [base, base]);
    await commit(groupId, [{ topic, partition: 0, offset: 3 }]);

    const reset = async (...target: string[]) => {
      const run = await freshet('groups', 'reset-offsets', groupId, '--topic', topic, ...target);
      expect(run.status, run.stderr).toBe(0);
      return run;
    };
    const earliest = await reset('--to-earliest');
    expect(rows(earliest.stdout)).toEqual([
      ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
      [groupId, topic, '0', '0'],
      [groupId, topic, '1', '0'],
    ]);
    expect(await committed(groupId, topic)).toEqual({ 0: 0, 1: 0 });
    await reset('--to-latest');
    expect(await committed(groupId, topic)).toEqual({ 0: 6, 1: 2 });
    await reset('--to-offset', '4');
    expect(await committed(groupId, topic)).toEqual({ 0: 4, 1: 2 });
    // 2.5 minutes after base: partition 0's record at minute 3; partition 1 has none that late → its end.
    await reset('--to-datetime', new Date(base + 150_000).toISOString());
    expect(await committed(groupId, topic)).toEqual({ 0: 3, 1: 2 });
    await reset('--to-datetime', new Date(base - 1).toISOString().replace('Z', '+00:00'));
    expect(await committed(groupId, topic)).toEqual({ 0: 0, 1: 0 });
    const onePartition = await reset('--to-latest', '--partition', '1', '--json');
    expect(JSON.parse(onePartition.stdout)).toEqual({
      groupId,
      topic,
      dryRun: false,
      offsets: [{ topic, partition: 1, offset: 2 }],
    });
    expect(await committed(groupId, topic)).toEqual({ 0: 0, 1: 2 });

    // A dry run prints the same table and commits nothing.
    const dry = await reset('--to-latest', '--dry-run');
    expect(rows(dry.stdout)).toEqual([
      ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
      [groupId, topic, '0', '6'],
      [groupId, topic, '1', '2'],
    ]);
    expect(dry.stderr).toContain('Dry run');
    expect(await committed(groupId, topic)).toEqual({ 0: 0, 1: 2 });

    // A group the broker has never seen gets its first offsets (Kafka's tool allows it too).
    const fresh = unique('g-fresh');
    await freshet('groups', 'reset-offsets', fresh, '--topic', topic, '--to-offset', '99');
    expect(await committed(fresh, topic)).toEqual({ 0: 6, 1: 2 });

    const deleted = await freshet('groups', 'delete', groupId);
    expect(deleted).toEqual({ status: 0, stdout: `Deleted group '${groupId}'\n`, stderr: '' });
    expect((await freshet('groups', 'list', '--json')).stdout).not.toContain(`"${groupId}"`);
    await freshet('groups', 'delete', fresh);
  });

  it('gives usage errors (status 2) for bad reset-offsets flags, before talking to the broker', async () => {
    const topic = unique('usage');
    const groupId = unique('g-usage');
    const usage = async (...args: string[]) => {
      const run = await freshet('groups', 'reset-offsets', ...args);
      expect(run.status, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('Usage: freshet groups reset-offsets <group> [flags]');
      return run.stderr;
    };
    expect(await usage(groupId, '--topic', topic)).toContain(
      'give exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime D (got no target)',
    );
    expect(await usage(groupId, '--topic', topic, '--to-earliest', '--to-offset', '3')).toContain(
      '(got --to-earliest and --to-offset)',
    );
    expect(await usage(groupId, '--to-earliest')).toContain('missing --topic');
    expect(await usage('--topic', topic, '--to-earliest')).toContain('missing argument: <group>');
    expect(await usage(groupId, '--topic', topic, '--to-offset', 'ten')).toContain(
      '--to-offset must be an integer',
    );
    for (const bad of [
      'yesterday',
      '2026-11-21',
      '2026-02-30T10:00:00Z',
      '2026-11-21T25:00:00Z',
      '1700000000000',
    ]) {
      expect(await usage(groupId, '--topic', topic, '--to-datetime', bad)).toContain(
        `--to-datetime takes an ISO-8601 date and time such as 2026-11-21T10:00:00Z, got '${bad}'`,
      );
    }
    expect(await committed(groupId, topic)).toEqual({});
  });

  it('reports broker refusals readably with status 1, in --json too', async () => {
    const missing = unique('g-missing');
    const described = await freshet('groups', 'describe', missing);
    expect(described.status).toBe(1);
    expect(described.stderr).toMatch(/^freshet: GROUP_ID_NOT_FOUND: .+/);
    expect(described.stderr).toContain(missing);
    const json = await freshet('groups', 'delete', missing, '--json');
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stderr).error.code).toBe('GROUP_ID_NOT_FOUND');
    const noTopic = await freshet(
      'groups',
      'reset-offsets',
      missing,
      '--topic',
      unique('none'),
      '--to-latest',
    );
    expect(noTopic.status).toBe(1);
    expect(noTopic.stderr).toContain('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('reads --to-datetime as ISO-8601, local time without a zone', () => {
    expect(parseDatetime('2026-11-21T10:00:00Z')).toBe(Date.UTC(2026, 10, 21, 10));
    expect(parseDatetime('2026-11-21T10:00:00.250+01:30')).toBe(Date.UTC(2026, 10, 21, 8, 30, 0, 250));
    expect(parseDatetime('2026-11-21T10:00')).toBe(new Date(2026, 10, 21, 10).getTime());
    expect(parseDatetime('1969-12-31T23:59:59Z')).toBe(0);
  });

  it('lists the group actions in help', async () => {
    const help = await freshet('groups', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: freshet groups <list|describe|reset-offsets|delete> [flags]');
    const bare = await freshet('groups');
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain('freshet groups <list|describe|reset-offsets|delete>');
    const main = await freshet('--help');
    expect(main.stdout).toContain('groups reset-offsets');
    const reset = await freshet('help', 'groups', 'reset-offsets');
    expect(reset.stdout).toContain('--to-datetime <value>');
    expect(reset.stdout).toContain('--dry-run');
  });

  it('runs as a program with the exit statuses of the in-process runs', () => {
    const run = (...args: string[]) =>
      spawnSync(BUN, ['src/cli/main.ts', ...args, '--url', broker.url], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, FRESHET_URL: '' },
      });
    const list = run('groups', 'list');
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^(GROUP\s+STATE\s+MEMBERS|No groups)$/m);
    const missing = run('groups', 'describe', unique('g-nope'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('GROUP_ID_NOT_FOUND');
    expect(run('groups', 'reset-offsets', 'g', '--topic', 't').status).toBe(2);
  });
});
