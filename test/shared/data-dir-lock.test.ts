/**
 * @module
 * The data-dir lock: refusal while a live process holds it (a real child process), takeover of stale locks
 * (a child killed with SIGKILL, dead PIDs, our own PID from a previous incarnation, half-written files),
 * and a race of several processes for one stale lock.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { transformWithOxc } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/shared/data-dir-lock.ts';

let scratch: string;
let childScript: string;
const children: ChildProcess[] = [];
const locks: Array<{ release(): void }> = [];

/**
 * A child process that tries to lock argv[2], prints `locked` or `refused <message>`, and holds the lock
 * for argv[3] ms (forever when absent). Plain Node cannot import TypeScript, so the module is transpiled.
 */
const CHILD_SOURCE = `
import { lockDataDir } from './data-dir-lock.mjs';
const [dir, holdMs] = process.argv.slice(2);
try {
  const lock = lockDataDir(dir);
  process.stdout.write('locked\\n');
  if (holdMs) setTimeout(() => lock.release(), Number(holdMs));
  else setInterval(() => {}, 1 << 30);
} catch (err) {
  process.stdout.write('refused ' + err.message + '\\n');
}
`;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-lock-'));
  const source = fs.readFileSync(new URL('../../src/shared/data-dir-lock.ts', import.meta.url), 'utf8');
  const { code } = await transformWithOxc(source, 'data-dir-lock.ts', { lang: 'ts' });
  fs.writeFileSync(path.join(scratch, 'data-dir-lock.mjs'), code);
  childScript = path.join(scratch, 'child.mjs');
  fs.writeFileSync(childScript, CHILD_SOURCE);
});

afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function freshDir(): string {
  return fs.mkdtempSync(path.join(scratch, 'data-'));
}

function lock(dir: string) {
  const held = lockDataDir(dir);
  locks.push(held);
  return held;
}

/** Starts a child that tries to lock `dir`; resolves with it and its first line of output. */
function startChild(dir: string, holdMs?: number): Promise<{ child: ChildProcess; line: string }> {
  const args = [childScript, dir, ...(holdMs === undefined ? [] : [String(holdMs)])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline !== -1) resolve({ child, line: out.slice(0, newline) });
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before answering: ${out}`)));
    child.on('error', reject);
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.on('exit', () => resolve());
  });
}

/** The PID of a process that has already exited. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', '']);
  expect(result.status).toBe(0);
  return result.pid!;
}

function lockedError(fn: () => unknown): DataDirLockedError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataDirLockedError);
    return err as DataDirLockedError;
  }
  throw new Error('expected DataDirLockedError');
}

describe('lockDataDir', () => {
  it('writes our PID to <dir>/.lock and removes it on release', () => {
    const dir = freshDir();
    const held = lock(dir);
    expect(held.file).toBe(path.join(fs.realpathSync(dir), LOCK_FILE));
    expect(fs.readFileSync(held.file, 'utf8')).toBe(`${process.pid}\n`);
    held.release();
    held.release();
    expect(fs.existsSync(held.file)).toBe(false);
    lock(dir).release();
  });

  it('creates a missing data dir', () => {
    const dir = path.join(freshDir(), 'nested', 'data');
    const held = lock(dir);
    expect(fs.existsSync(held.file)).toBe(true);
  });

  it('refuses a second lock in the same process, however the dir is spelt', () => {
    const dir = freshDir();
    lock(dir);
    const link = `${dir}-link`;
    fs.symlinkSync(dir, link);
    for (const spelling of [dir, `${dir}/`, link, path.relative(process.cwd(), dir)]) {
      const err = lockedError(() => lockDataDir(spelling));
      expect(err.message).toContain('already locked by this process');
      expect(err.pid).toBe(process.pid);
    }
  });

  it('refuses while another live broker holds the dir, naming the dir and its PID, and takes over after kill -9', async () => {
    const dir = freshDir();
    const { child, line } = await startChild(dir);
    expect(line).toBe('locked');
    const err = lockedError(() => lockDataDir(dir));
    expect(err.pid).toBe(child.pid);
    expect(err.dir).toBe(fs.realpathSync(dir));
    expect(err.message).toContain(
      `data dir ${fs.realpathSync(dir)} is in use by another broker (PID ${child.pid})`,
    );
    expect(err.message).toContain(path.join(fs.realpathSync(dir), LOCK_FILE));

    // Another process is refused the same way.
    const second = await startChild(dir, 0);
    expect(second.line).toMatch(new RegExp(`^refused .*PID ${child.pid}`));

    child.kill('SIGKILL');
    await exited(child);
    // The lock file outlives the killed broker; it is stale now.
    const file = path.join(dir, LOCK_FILE);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${child.pid}\n`);
    lock(dir);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('takes over a lock whose PID is dead', () => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${deadPid()}\n`);
    const held = lock(dir);
    expect(fs.readFileSync(held.file, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('takes over a lock holding our own PID that this process never took (a restarted container)', () => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${process.pid}\n`);
    expect(() => lock(dir)).not.toThrow();
  });

  it('refuses for a live process it may not even signal', () => {
    // PID 1 always exists; unless the tests run as root, signalling it fails with EPERM, which means alive.
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), '1\n');
    expect(lockedError(() => lockDataDir(dir)).pid).toBe(1);
  });

  it('takes over a lock file without a PID once it is too old to be mid-write, and not before', () => {
    const dir = freshDir();
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, '');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(file, old, old);
    lock(dir).release();

    fs.writeFileSync(file, 'garbage');
    const started = Date.now();
    lock(dir);
    // A fresh one may be a lock being written: it is given the grace period first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('clears a takeover file left by a process that died mid-takeover', () => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${deadPid()}\n`);
    fs.writeFileSync(path.join(dir, '.lock.takeover'), `${deadPid()}\n`);
    lock(dir);
    expect(fs.existsSync(path.join(dir, '.lock.takeover'))).toBe(false);
  });

  it('leaves a lock that is no longer ours in place on release', () => {
    const dir = freshDir();
    const held = lock(dir);
    fs.writeFileSync(held.file, '1\n');
    held.release();
    expect(fs.readFileSync(held.file, 'utf8')).toBe('1\n');
  });

  it('lets exactly one of several processes racing for one stale lock win', async () => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${deadPid()}\n`);
    const racers = await Promise.all(Array.from({ length: 6 }, () => startChild(dir, 3_000)));
    const winners = racers.filter((r) => r.line === 'locked');
    expect(winners).toHaveLength(1);
    for (const loser of racers.filter((r) => r.line !== 'locked')) {
      expect(loser.line).toContain(`PID ${winners[0]!.child.pid}`);
    }
  });
});
