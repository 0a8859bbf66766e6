/**
 * @module
 * The cluster id Metadata and DescribeCluster answer with: created once per data dir and kept in
 * `<dataDir>/.freshet/cluster-id`, so clients that remember it (librdkafka logs a change, Java clients
 * track it) see the same id across restarts. It lives here rather than with the coordinator because only
 * the Kafka door uses it; it is file I/O, done once at start-up by `main.ts` (after the data-dir lock).
 *
 * Format: 22 characters of URL-safe base64 without padding (16 random bytes), like Kafka's `Uuid` strings,
 * then a newline. Crash behaviour: written to a temp file, fsynced and renamed into place, so the file is
 * absent or whole; an existing file is never rewritten.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const METADATA_DIR = '.freshet';
const CLUSTER_ID_FILE = 'cluster-id';
const CLUSTER_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** A new random cluster id. */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

/** The data dir's cluster id, created on first use. Throws when the file exists but holds no valid id. */
export function loadClusterId(dataDir: string): string {
  const file = path.join(dataDir, METADATA_DIR, CLUSTER_ID_FILE);
  if (fs.existsSync(file)) {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (!CLUSTER_ID_PATTERN.test(id)) {
      throw new Error(
        `${file} does not hold a cluster id (22 URL-safe base64 characters); remove it to get a new one`,
      );
    }
    return id;
  }
  const id = newClusterId();
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `${id}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
  return id;
}
