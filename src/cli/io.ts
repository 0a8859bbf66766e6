/**
 * @module
 * What a CLI command gets to talk to the world (stdin, stdout, stderr, env, an interrupt signal), output
 * helpers (drain-aware writes, tables, JSON lines), and the usage error that exits with status 2.
 */

export interface CliOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
  /** Node/Bun streams: resolves a `false` from write() once the buffer drained. */
  once?(event: 'drain', listener: () => void): unknown;
}

export interface CliIo {
  stdin: AsyncIterable<Uint8Array | string>;
  stdout: CliOutput;
  stderr: CliOutput;
  env: Record<string, string | undefined>;
  /** Size of stdin when it is a regular file, for the progress bar's percentage. */
  stdinSize?: number;
  /** Aborted on SIGINT/SIGTERM: `consume --follow` then stops cleanly. */
  signal?: AbortSignal;
}

/** Bad flags or arguments: printed with the command's usage line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Writes and, when the stream asks for it, waits for the drain, so large outputs stay bounded in memory. */
export async function write(out: CliOutput, text: string): Promise<void> {
  if (out.write(text) === false && out.once !== undefined) {
    const once = out.once.bind(out);
    await new Promise<void>((resolve) => once('drain', resolve));
  }
}

/** Columns padded to the widest cell; the last column is not padded. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return `${cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes for JSON output as the HTTP API's JSON does: a string when valid UTF-8, else `{"base64": ...}`. */
export function bytesForJson(bytes: Uint8Array | null): string | { base64: string } | null {
  if (bytes === null) return null;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return { base64: toBase64(bytes) };
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Parses a flag value as an integer within bounds, or throws a UsageError naming the flag. */
export function integerFlag(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'`);
  }
  return n;
}

/** `k=v` pairs (repeatable `--config`) as a topic config; numbers stay strings, the broker converts. */
export function configFlags(values: string[] | undefined): Record<string, string> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const config: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--config takes key=value, got '${pair}'`);
    config[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return config;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
