/**
 * @module
 * Waiting between attempts to reach etcd: exponential backoff with jitter, and a sleep that can be cut short
 * (a watch event, or shutdown) so loops react at once instead of at their next tick.
 */

/** The first retry waits about this long; each later one twice as long, up to `RETRY_MAX_MS`. */
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5_000;

/** The wait before retry number `attempt` (0-based): 250 ms, 500 ms, ... 5 s, each between 50% and 100%. */
export function backoffMs(attempt: number): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling * (0.5 + Math.random() * 0.5));
}

/** Sleeps that `wake()` ends early: every one in progress, or else the next one to begin. */
export class Sleeper {
  private readonly pending = new Set<() => void>();
  private woken = false;

  /**
   * Resolves after `ms`, or as soon as `wake()` is called (at once if it was called since the last sleep).
   */
  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pending.add(done);
    });
  }

  /** Ends every sleep in progress now, or the next one as soon as it begins. */
  wake(): void {
    if (this.pending.size === 0) {
      this.woken = true;
      return;
    }
    for (const done of [...this.pending]) done();
  }
}
