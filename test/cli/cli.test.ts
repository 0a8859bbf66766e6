/**
 * @module
 * The `freshet` command as a user runs it: `bun src/cli/main.ts ...` as a child process against a real
 * broker, with stdin input, exit statuses, --json output and help.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerHandle, BUN, REPO_ROOT, startBroker } from '../support/broker.ts';

let broker: BrokerHandle;

beforeAll(async () => {
  broker = await startBroker({ workers: 2 });
});
afterAll(async () => {
  await broker?.stop();
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function freshet(
  args: string[],
  options: { input?: string; env?: Record<string, string>; url?: boolean } = {},
): Run {
  const withUrl = options.url === false ? args : [...args, '--url', broker.url];
  const result = spawnSync(BUN, ['src/cli/main.ts', ...withUrl], {
    cwd: REPO_ROOT,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, FRESHET_URL: '', ...options.env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let counter = 0;
function topicName(prefix: string): string {
  return `cli-${prefix}-${process.pid}-${++counter}`;
}

describe('freshet topics', () => {
  it('creates, lists, describes, alters and deletes', () => {
    const topic = topicName('crud');
    const created = freshet([
      'topics',
      'create',
      topic,
      '--partitions',
      '3',
      '--config',
      'retention.ms=3600000',
    ]);
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toContain(`Created topic '${topic}' with 3 partitions`);

    const list = freshet(['topics', 'list', '--json']);
    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout).topics).toContainEqual({ name: topic, partitions: 3 });
    expect(freshet(['topics', 'list']).stdout).toMatch(new RegExp(`^${topic}\\s+3$`, 'm'));

    const described = freshet(['topics', 'describe', topic, '--json']);
    const description = JSON.parse(described.stdout);
    expect(description.partitions).toHaveLength(3);
    expect(Number(description.config['retention.ms'])).toBe(3_600_000);
    const human = freshet(['topics', 'describe', topic]).stdout;
    expect(human).toContain('HIGH-WATERMARK');
    expect(human).toContain('retention.ms=3600000');

    const altered = freshet([
      'topics',
      'alter',
      topic,
      '--config',
      'retention.ms=60000',
      '--partitions',
      '4',
      '--json',
    ]);
    expect(altered.status, altered.stderr).toBe(0);
    expect(JSON.parse(altered.stdout).partitions).toHaveLength(4);

    // --delete-config removes the override: the setting is the broker default again (7 days).
    const reverted = freshet(['topics', 'alter', topic, '--delete-config', 'retention.ms', '--json']);
    expect(reverted.status, reverted.stderr).toBe(0);
    expect(Number(JSON.parse(reverted.stdout).config['retention.ms'])).toBe(7 * 24 * 3_600_000);

    const deleted = freshet(['topics', 'delete', topic, '--json']);
    expect(JSON.parse(deleted.stdout)).toEqual({ deleted: topic });
    const gone = freshet(['topics', 'describe', topic]);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('reports broker errors with the Kafka code and exit status 1', () => {
    const topic = topicName('dup');
    expect(freshet(['topics', 'create', topic]).status).toBe(0);
    const again = freshet(['topics', 'create', topic]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^freshet: TOPIC_ALREADY_EXISTS: .+/);
    const json = freshet(['topics', 'create', topic, '--json']);
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stderr).error.code).toBe('TOPIC_ALREADY_EXISTS');
    const invalid = freshet(['topics', 'alter', topic, '--config', 'retention.ms=soon']);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain('INVALID_CONFIG');
  });
});

describe('freshet produce and consume', () => {
  it('produces stdin lines and consumes them back in order', () => {
    const topic = topicName('lines');
    expect(freshet(['topics', 'create', topic, '--partitions', '1']).status).toBe(0);
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ✓`);
    const produced = freshet(['produce', topic], { input: `${lines.join('\n')}\n` });
    expect(produced.status, produced.stderr).toBe(0);
    expect(produced.stderr).toContain('Produced 500 records');
    const consumed = freshet(['consume', topic]);
    expect(consumed.status, consumed.stderr).toBe(0);
    expect(consumed.stdout).toBe(`${lines.join('\n')}\n`);
    const limited = freshet(['consume', topic, '--max', '3', '--offset', '10']);
    expect(limited.stdout).toBe('line 10 ✓\nline 11 ✓\nline 12 ✓\n');
  });

  it('splits keys with --key-separator and prints them with --print-key', () => {
    const topic = topicName('keys');
    expect(freshet(['topics', 'create', topic, '--partitions', '3']).status).toBe(0);
    const produced = freshet(['produce', topic, '--key-separator', ':', '--json'], {
      input: 'alice:1\nbob:2\nalice:3\r\nno-key-here\n',
    });
    expect(produced.status, produced.stderr).toBe(0);
    const summary = JSON.parse(produced.stdout);
    expect(summary.records).toBe(4);
    const consumed = freshet(['consume', topic, '--json']);
    const records = consumed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records).toHaveLength(4);
    const alice = records.filter((r) => r.key === 'alice');
    expect(alice.map((r) => r.value)).toEqual(['1', '3']);
    expect(new Set(alice.map((r) => r.partition)).size).toBe(1);
    expect(records.find((r) => r.value === 'no-key-here').key).toBeNull();
    expect(
      records.every((r) => r.topic === topic && Number.isInteger(r.offset) && Array.isArray(r.headers)),
    ).toBe(true);

    const printed = freshet(['consume', topic, '--print-key', '--key-separator', '=']);
    expect(printed.stdout.trim().split('\n').sort()).toEqual(['=no-key-here', 'alice=1', 'alice=3', 'bob=2']);
  });

  it('reads one partition with --partition and reports offsets', () => {
    const topic = topicName('offsets');
    expect(freshet(['topics', 'create', topic, '--partitions', '2']).status).toBe(0);
    expect(freshet(['produce', topic, '--partition', '1'], { input: 'a\nb\nc\n' }).status).toBe(0);
    expect(freshet(['consume', topic, '--partition', '1']).stdout).toBe('a\nb\nc\n');
    expect(freshet(['consume', topic, '--partition', '0']).stdout).toBe('');
    const offsets = JSON.parse(freshet(['offsets', topic, '--json']).stdout);
    expect(offsets).toEqual({
      topic,
      partitions: [
        { partition: 0, earliest: 0, latest: 0 },
        { partition: 1, earliest: 0, latest: 3 },
      ],
    });
    const at = JSON.parse(
      freshet(['offsets', topic, '--partition', '1', '--at', 'earliest', '--json']).stdout,
    );
    expect(at.partitions).toEqual([{ partition: 1, offset: 0 }]);
    expect(freshet(['offsets', topic]).stdout).toMatch(/^1\s+0\s+3\s+3$/m);
  });

  it('auto-creates the topic on produce', () => {
    const topic = topicName('auto');
    expect(freshet(['produce', topic], { input: 'x\ny\n' }).status).toBe(0);
    expect(freshet(['consume', topic]).stdout).toBe('x\ny\n');
  });

  it('--follow waits for new records until --max', async () => {
    const topic = topicName('follow');
    expect(freshet(['topics', 'create', topic, '--partitions', '1']).status).toBe(0);
    const child = spawn(
      BUN,
      ['src/cli/main.ts', 'consume', topic, '--follow', '--max', '2', '--url', broker.url],
      {
        cwd: REPO_ROOT,
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(freshet(['produce', topic], { input: 'first\nsecond\nthird\n' }).status).toBe(0);
    expect(await exited).toBe(0);
    expect(stdout).toBe('first\nsecond\n');
  });

  it('--follow stops cleanly on SIGINT', async () => {
    const topic = topicName('sigint');
    expect(freshet(['topics', 'create', topic, '--partitions', '1']).status).toBe(0);
    const child = spawn(BUN, ['src/cli/main.ts', 'consume', topic, '--follow', '--url', broker.url], {
      cwd: REPO_ROOT,
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(freshet(['produce', topic], { input: 'seen\n' }).status).toBe(0);
    const deadline = Date.now() + 5_000;
    while (!stdout.includes('seen') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toBe('seen\n');
  });
});

describe('freshet produce interrupted', () => {
  it('sends what was read when Ctrl-C stops an open stdin, and exits 130', async () => {
    const topic = topicName('interrupt');
    const child = spawn(BUN, ['src/cli/main.ts', 'produce', topic, '--url', broker.url], { cwd: REPO_ROOT });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdin.write('typed\nlines\npartial');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('Produced 2 records');
    child.stdin.destroy();
    expect(freshet(['consume', topic]).stdout).toBe('typed\nlines\n');
  });
});

describe('freshet usage', () => {
  it('prints help for every command with exit status 0', () => {
    const top = freshet(['--help'], { url: false });
    expect(top.status).toBe(0);
    expect(top.stdout).toContain('Usage: freshet <command>');
    for (const command of [
      ['topics', 'create'],
      ['topics', 'list'],
      ['topics', 'describe'],
      ['topics', 'delete'],
      ['topics', 'alter'],
      ['produce'],
      ['consume'],
      ['offsets'],
    ]) {
      const help = freshet([...command, '--help'], { url: false });
      expect(help.status, command.join(' ')).toBe(0);
      expect(help.stdout).toContain(`Usage: freshet ${command.join(' ')}`);
      expect(help.stdout).toContain('--url');
    }
    expect(freshet(['topics', '--help'], { url: false }).stdout).toContain('freshet topics <create|list');
    expect(freshet(['help', 'produce'], { url: false }).stdout).toContain('--key-separator');
  });

  it('hands `broker --help` to the broker', () => {
    const help = freshet(['broker', '--help'], { url: false });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('freshet broker');
  });

  it('rejects bad commands, flags and arguments with exit status 2 and a message', () => {
    const bogus = freshet(['bogus'], { url: false });
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toContain("unknown command 'bogus'");
    expect(freshet([], { url: false }).status).toBe(2);
    const flag = freshet(['topics', 'list', '--nope'], { url: false });
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain("'--nope'");
    const missing = freshet(['topics', 'create'], { url: false });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('missing argument');
    const badNumber = freshet(['topics', 'create', 'x', '--partitions', 'many'], { url: false });
    expect(badNumber.status).toBe(2);
    expect(badNumber.stderr).toContain('--partitions must be an integer');
  });

  it('takes the broker address from FRESHET_URL, and explains an unreachable one', () => {
    const viaEnv = freshet(['topics', 'list', '--json'], { url: false, env: { FRESHET_URL: broker.url } });
    expect(viaEnv.status, viaEnv.stderr).toBe(0);
    const down = freshet(['topics', 'list'], { url: false, env: { FRESHET_URL: 'http://127.0.0.1:1' } });
    expect(down.status).toBe(1);
    expect(down.stderr).toContain('NETWORK_EXCEPTION');
    expect(down.stderr).toContain('is a broker running at http://127.0.0.1:1');
  });
});
