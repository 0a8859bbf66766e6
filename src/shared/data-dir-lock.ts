/**
 * @module
 * One broker per data directory: `lockDataDir(dir)` creates `<dir>/.lock` exclusively (O_EXCL) with the
 * holder's PID, and refuses, naming the dir and the PID, while another live process holds it.
 *
 * File format: the holder's PID in decimal and a newline, for this module and for operators.
 *
 * Crash behaviour: a broker killed with SIGKILL leaves its lock behind. A lock whose PID is not alive
 * (`process.kill(pid, 0)` fails with ESRCH) is stale and taken over. A lock holding our own PID that this
 * process did not take is stale too: a container restarted on the same volume often gets the same PID
 * (1) as the broker that died in it.
 *
 * Limits: liveness is a PID check, so every broker using the dir must share one PID namespace (one host, or
 * one container); a data dir on a network file system shared between hosts is not protected. A stale lock
 * whose PID has since been reused by an unrelated live process blocks start-up; the message says which
 * file to remove. Take the lock on the main thread only: what this process holds is remembered per
 * JavaScript realm, so a worker thread would see the main thread's lock (same PID) as stale.
 */
import fs from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = '.lock';
/** Held only while replacing a stale `.lock`, so two starting brokers cannot both replace it. */
const TAKEOVER_FILE = '.lock.takeover';

/** Enough rounds for a stale takeover, plus waiting out another process's takeover or half-written lock. */
const MAX_ATTEMPTS = 50;
const RETRY_PAUSE_MS = 20;
/** A lock file still without a PID this long after it was written is a crash leftover. */
const UNREADABLE_GRACE_MS = 500;

/** The data dir is in use by another process (or by this one, through another `lockDataDir`). */
export class DataDirLockedError extends Error {
  readonly dir: string;
  readonly pid: number;

  constructor(dir: string, pid: number, message: string) {
    super(message);
    this.name = 'DataDirLockedError';
    this.dir = dir;
    this.pid = pid;
  }
}

export interface DataDirLock {
  /** The lock file. */
  readonly file: string;
  /** Removes the lock file, if it is still ours. Safe to call more than once. */
  release(): void;
}

/** Lock files this process holds, so it neither takes its own lock twice nor mistakes it for stale. */
const held = new Set<string>();

/**
 * Locks `dir` (created if missing) for this process. Throws DataDirLockedError while another live process
 * holds it, naming the dir, the PID and the lock file.
 */
export function lockDataDir(dir: string): DataDirLock {
  fs.mkdirSync(dir, { recursive: true });
  // The real path, so one dir reached through a symlink or a relative path is still one entry in `held`.
  const absolute = fs.realpathSync(dir);
  const file = path.join(absolute, LOCK_FILE);
  if (held.has(file)) {
    throw new DataDirLockedError(
      absolute,
      process.pid,
      `data dir ${absolute} is already locked by this process (PID ${process.pid})`,
    );
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (tryCreate(file)) return holdLock(file);
    const lock = readLock(file);
    if (lock === undefined) continue; // removed meanwhile: try again
    if (!isStale(lock)) {
      if (lock.pid === undefined) {
        // Being written this instant (O_EXCL create, then write): look again shortly.
        pause(RETRY_PAUSE_MS);
        continue;
      }
      throw new DataDirLockedError(
        absolute,
        lock.pid,
        `data dir ${absolute} is in use by another broker (PID ${lock.pid}); ` +
          `stop it first, or remove ${file} if PID ${lock.pid} is not a Freshet broker`,
      );
    }
    if (!takeOverStale(absolute, file, lock.text)) pause(RETRY_PAUSE_MS);
  }
  throw new Error(`could not lock data dir ${absolute}: ${file} keeps changing (another broker starting?)`);
}

/** Sleeps synchronously: start-up has nothing else to do, and the lock is taken before anything runs. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function holdLock(file: string): DataDirLock {
  held.add(file);
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      held.delete(file);
      // Only our own lock is removed: a lock file another process put there after ours vanished stays.
      if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
    },
  };
}

/** Creates `file` with our PID unless it exists. The content is written through the O_EXCL descriptor. */
function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, `${process.pid}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** The PID in a lock file (undefined when it holds no PID); undefined when the file is missing. */
function readPid(file: string): number | undefined {
  return readLock(file)?.pid;
}

interface LockContent {
  text: string;
  pid: number | undefined;
  mtimeMs: number;
}

function readLock(file: string): LockContent | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const mtimeMs = fs.statSync(file).mtimeMs;
    const pid = Number(text.trim());
    return {
      text,
      pid: text.trim() !== '' && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined,
      mtimeMs,
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * A lock left by a process that is gone: its PID is dead, or is our own (we hold no lock on this dir, see
 * `held`, so it is a previous incarnation's), or it never got a PID and is older than a write takes.
 */
function isStale(lock: LockContent): boolean {
  if (lock.pid === undefined) return Date.now() - lock.mtimeMs >= UNREADABLE_GRACE_MS;
  return lock.pid === process.pid || !isAlive(lock.pid);
}

/** Signal 0 checks existence only. EPERM means it exists but belongs to another user: alive. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a stale lock (content `staleText`) under the takeover file: two brokers starting at once may both
 * see the same stale lock, and without it the slower one could delete the lock the faster one just created.
 * Returns false when another process is taking over; the caller then pauses and starts again from the top.
 */
function takeOverStale(dir: string, file: string, staleText: string): boolean {
  const guard = path.join(dir, TAKEOVER_FILE);
  if (!tryCreate(guard)) {
    // A takeover file left by a process that died mid-takeover would block every start: clear it.
    const guardLock = readLock(guard);
    if (guardLock && isStale(guardLock)) fs.rmSync(guard, { force: true });
    return false;
  }
  try {
    // Still the same stale lock? Then nobody replaced it meanwhile, and it is ours to remove.
    if (readLock(file)?.text === staleText) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(guard, { force: true });
  }
  return true;
}
