/**
 * @module
 * A one-line progress display on stderr for `freshet produce`: only on a TTY, only once the input has
 * taken a moment (short inputs print nothing), redrawn at most every 100 ms, and erased when done.
 */
import { type CliOutput, formatBytes } from './io.ts';

const SHOW_AFTER_MS = 500;
const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export class Progress {
  private readonly startedAt = Date.now();
  private drawnAt = 0;
  private drawn = false;

  constructor(
    private readonly out: CliOutput,
    /** Total input bytes when known (stdin is a file), for a bar and a percentage. */
    private readonly totalBytes: number | undefined,
    private readonly enabled: boolean = out.isTTY === true,
  ) {}

  /** Called as input is read and acknowledged; cheap when nothing needs drawing. */
  update(readBytes: number, records: number, acknowledged: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.startedAt < SHOW_AFTER_MS || now - this.drawnAt < REDRAW_MS) return;
    this.drawnAt = now;
    this.drawn = true;
    this.out.write(`\r${this.line(readBytes, records, acknowledged, now)}\x1b[K`);
  }

  /** Erases the line, so the summary (or an error) starts clean. */
  done(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }

  line(readBytes: number, records: number, acknowledged: number, now = Date.now()): string {
    const seconds = Math.max(0.001, (now - this.startedAt) / 1000);
    const rate = `${Math.round(acknowledged / seconds).toLocaleString('en-US')} rec/s`;
    const counts = `${records.toLocaleString('en-US')} read, ${acknowledged.toLocaleString('en-US')} acked`;
    if (this.totalBytes === undefined || this.totalBytes <= 0) {
      return `${counts}  ${formatBytes(readBytes)}  ${rate}`;
    }
    const fraction = Math.min(1, readBytes / this.totalBytes);
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    return `${bar} ${percent}  ${formatBytes(readBytes)}/${formatBytes(this.totalBytes)}  ${counts}  ${rate}`;
  }
}
