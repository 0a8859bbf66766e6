/**
 * @module
 * Offset checkpoint files of a partition directory: `recovery-point.checkpoint` (every offset below it was
 * fsynced) and `log-start-offset.checkpoint`.
 *
 * Byte layout: text, `0\n<offset>\n` (a version line, then the offset in decimal).
 * Crash behaviour: written to `<name>.tmp`, fsynced, renamed over the old file and the directory fsynced,
 * so a reader sees the old or the new value, never a torn one. A missing or unreadable file reads as null.
 */
import fs from 'node:fs';
import path from 'node:path';

export const RECOVERY_POINT_FILE = 'recovery-point.checkpoint';
export const LOG_START_OFFSET_FILE = 'log-start-offset.checkpoint';
export const CLEAN_SHUTDOWN_FILE = '.clean-shutdown';

export function readCheckpoint(dir: string, name: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, name), 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  if (lines[0] !== '0' || lines[1] === undefined || !/^\d+$/.test(lines[1])) return null;
  const offset = Number(lines[1]);
  return Number.isSafeInteger(offset) ? offset : null;
}

export function writeCheckpoint(dir: string, name: string, offset: number): void {
  const file = path.join(dir, name);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `0\n${offset}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
