/**
 * @module
 * The client runs unchanged on every runtime: `smoke-script.ts` (produce and consume through src/client)
 * under Bun and Deno against a real broker (vitest itself covers Node), and a browser bundle of
 * src/client that pulls in no Node built-in.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerHandle, BUN, REPO_ROOT, startBroker } from '../support/broker.ts';
import { uniqueTopic } from './helpers.ts';

const DENO = path.join(REPO_ROOT, 'node_modules/.bin/deno');
const SCRIPT = 'test/client/smoke-script.ts';

let broker: BrokerHandle;

beforeAll(async () => {
  broker = await startBroker({ workers: 1 });
});
afterAll(async () => {
  await broker?.stop();
});

function runScript(
  command: string,
  args: string[],
): { runtime: string; produced: number; consumed: number; ok: boolean } {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  const line = result.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) {
    throw new Error(`no RESULT line (status ${result.status}): ${result.stdout}\n${result.stderr}`);
  }
  return JSON.parse(line.slice('RESULT '.length));
}

describe('client on other runtimes', () => {
  it('produces and consumes under Bun', () => {
    const result = runScript(BUN, [SCRIPT, broker.url, uniqueTopic('bun')]);
    expect(result).toEqual({ runtime: 'bun', produced: 50, consumed: 50, ok: true });
  });

  it('produces and consumes under Deno, with network permission only', () => {
    expect(existsSync(DENO), 'deno is a devDependency: npm install').toBe(true);
    const result = runScript(DENO, ['run', '--allow-net', SCRIPT, broker.url, uniqueTopic('deno')]);
    expect(result).toEqual({ runtime: 'deno', produced: 50, consumed: 50, ok: true });
  });

  it('bundles for browsers without Node built-ins', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'freshet-browser-'));
    try {
      const outfile = path.join(dir, 'client.js');
      const build = spawnSync(
        BUN,
        ['build', 'src/client/index.ts', '--target', 'browser', '--outfile', outfile],
        {
          cwd: REPO_ROOT,
          encoding: 'utf8',
        },
      );
      expect(build.status, build.stderr).toBe(0);
      const bundle = readFileSync(outfile, 'utf8');
      expect(bundle).not.toMatch(/from\s*["']node:|require\(["']node:/);
      expect(bundle).not.toMatch(/\bprocess\.env\b/);
      expect(bundle).toContain('FreshetError');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
