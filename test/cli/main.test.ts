/**
 * @module
 * `main(argv, io)` in-process: the broker dispatch hook, the progress line on a TTY, line splitting, and
 * produce/consume through fake stdio against a real broker process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { LineSplitter } from '../../src/cli/produce.ts';
import { Progress } from '../../src/cli/progress.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fakeIo(
  options: { stdin?: AsyncIterable<Uint8Array | string>; tty?: boolean; env?: CliIo['env'] } = {},
) {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdin: options.stdin ?? (async function* () {})(),
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
      isTTY: options.tty ?? false,
    },
    env: options.env ?? {},
  };
  return { io, out };
}

describe('main dispatch', () => {
  it('hands `broker` and its flags to the injected runBroker', async () => {
    const calls: string[][] = [];
    const { io } = fakeIo();
    const status = await main(['broker', '--http-port', '0', '--workers', '2'], io, {
      runBroker: async (argv) => {
        calls.push(argv);
      },
    });
    expect(status).toBe(0);
    expect(calls).toEqual([['--http-port', '0', '--workers', '2']]);
  });

  it('answers --help before talking to any broker', async () => {
    const { io, out } = fakeIo();
    expect(await main(['consume', '--help'], io)).toBe(0);
    expect(out.stdout).toContain('Usage: freshet consume <topic> [flags]');
    expect(out.stdout).toContain('--from-beginning');
    expect(out.stdout).toContain('--follow');
  });

  it('prints usage for a missing topics action', async () => {
    const { io, out } = fakeIo();
    expect(await main(['topics'], io)).toBe(2);
    expect(out.stderr).toContain('freshet topics <create|list|describe|delete|alter>');
    expect(await main(['topics', 'frobnicate'], io)).toBe(2);
  });
});

describe('LineSplitter', () => {
  it('splits across chunk boundaries, drops \\r before \\n, and keeps bytes intact', () => {
    const splitter = new LineSplitter();
    const lines: string[] = [];
    for (const chunk of ['ab', 'c\nde', 'f\r\n\nxy']) {
      for (const line of splitter.push(encoder.encode(chunk))) lines.push(decoder.decode(line));
    }
    expect(lines).toEqual(['abc', 'def', '']);
    expect(decoder.decode(splitter.end()!)).toBe('xy');
    expect(splitter.end()).toBeNull();
    const binary = new LineSplitter();
    expect([...binary.push(new Uint8Array([0xff, 0x00, 0x0a]))]).toEqual([new Uint8Array([0xff, 0x00])]);
  });
});

describe('Progress', () => {
  it('draws a bar with a percentage when the input size is known', () => {
    const progress = new Progress({ write: () => true, isTTY: true }, 1000);
    const line = progress.line(500, 50, 40);
    expect(line).toMatch(/^\[#{12}\.{12}\] {2}50%/);
    expect(line).toContain('50 read, 40 acked');
  });

  it('counts without a bar for a pipe, and draws nothing when not a TTY', () => {
    let written = '';
    const sink = {
      write: (s: string) => {
        written += s;
        return true;
      },
      isTTY: false,
    };
    const progress = new Progress(sink, undefined);
    expect(progress.line(2048, 10, 10)).toMatch(/^10 read, 10 acked {2}2\.0 KiB/);
    progress.update(1, 1, 1);
    progress.done();
    expect(written).toBe('');
  });
});

describe('produce and consume in-process', () => {
  let broker: BrokerHandle;
  beforeAll(async () => {
    broker = await startBroker({ workers: 1 });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('shows progress on a TTY for slow input, erases it, and reads the records back', async () => {
    const topic = `cli-progress-${process.pid}`;
    async function* slowInput() {
      for (let i = 0; i < 8; i++) {
        yield encoder.encode(`${i}-a\n${i}-b\n`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      yield 'tail-without-newline';
    }
    const { io, out } = fakeIo({ stdin: slowInput(), tty: true, env: { FRESHET_URL: broker.url } });
    expect(await main(['produce', topic], io)).toBe(0);
    expect(out.stderr).toMatch(/\r\d+ read, \d+ acked/);
    expect(out.stderr).toContain('\r\x1b[K');
    expect(out.stderr).toContain('Produced 17 records');

    const consumed = fakeIo({ env: { FRESHET_URL: broker.url } });
    expect(await main(['consume', topic, '--from-beginning'], consumed.io)).toBe(0);
    const lines = consumed.out.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(17);
    expect(lines[0]).toBe('0-a');
    expect(lines.at(-1)).toBe('tail-without-newline');
  });

  it('prints non-UTF-8 bytes as base64 in --json', async () => {
    const topic = `cli-binary-${process.pid}`;
    const { io } = fakeIo({
      stdin: (async function* () {
        yield new Uint8Array([0xff, 0xfe, 0x0a]);
      })(),
      env: { FRESHET_URL: broker.url },
    });
    expect(await main(['produce', topic], io)).toBe(0);
    const consumed = fakeIo({ env: { FRESHET_URL: broker.url } });
    expect(await main(['consume', topic, '--json'], consumed.io)).toBe(0);
    expect(JSON.parse(consumed.out.stdout).value).toEqual({ base64: '//4=' });
  });

  it('stops reading stdin and exits 1 when the broker refuses the records', async () => {
    const topic = `cli-refused-${process.pid}`;
    const { io: createIo } = fakeIo({ env: { FRESHET_URL: broker.url } });
    expect(await main(['topics', 'create', topic, '--config', 'max.message.bytes=1024'], createIo)).toBe(0);
    const { io, out } = fakeIo({
      stdin: (async function* () {
        yield `${'x'.repeat(4096)}\n`;
      })(),
      env: { FRESHET_URL: broker.url },
    });
    expect(await main(['produce', topic], io)).toBe(1);
    expect(out.stderr).toMatch(/freshet: (MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE): /);
    expect(out.stderr).toContain('0 of 1 records were acknowledged');
  });
});
