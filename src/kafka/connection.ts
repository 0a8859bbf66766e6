/**
 * @module
 * One Kafka client connection, whatever the socket API: cuts request frames out of the bytes received,
 * hands each to a handler, and writes the responses back in request order. `server.ts` plugs Bun's sockets
 * in through `Transport`; tests plug in a fake one.
 *
 * - Framing: every request is `int32 size` + `size` bytes. A size below 0 or above `maxRequestBytes` closes
 *   the connection (Kafka does the same: the peer is not speaking the protocol, or is far outside the limit).
 *   A frame that arrives in one socket chunk is handed over as a view of it; one spread over chunks is copied
 *   once, when complete. Bytes received but not yet handed over are bounded (`maxBufferedBytes`).
 * - Ordering: clients pipeline, so requests run concurrently (a parked Fetch does not hold up a Metadata in
 *   the engine), but each response waits until every earlier one on the connection is written. A handler
 *   answering null (Produce with acks=0) takes its turn and writes nothing.
 * - Back-pressure, both ways: at most `maxInFlightRequests` requests are in flight, and no new request
 *   starts while more than `maxQueuedResponseBytes` of responses wait for the socket (a client that does not
 *   read its answers gets no more work done). While either limit is reached the socket is paused, so TCP
 *   pushes back on the client instead of bytes piling up here. A short write keeps the rest queued until the
 *   transport reports it writable again.
 * - Failure: a handler that throws (synchronously or by rejecting) closes the connection; the handler logs
 *   why. Nothing thrown here escapes to the socket layer.
 */
import type { Logger } from '../shared/logger.ts';

/** What a connection needs of a socket. */
export interface Transport {
  /** Writes what the socket takes now: the number of bytes written (fewer when its buffer is full), -1 when closed. */
  write(bytes: Uint8Array): number;
  /** Stops reading, so the peer sees TCP back-pressure. */
  pause(): void;
  resume(): void;
  /** Closes gracefully (FIN) once the bytes already written are sent. */
  end(): void;
  /** Closes at once. */
  terminate(): void;
}

/**
 * Answers one request frame (without its size prefix): the whole response frame as chunks, or null for no
 * response. Throwing, or rejecting, closes the connection.
 */
export type FrameHandler = (frame: Uint8Array) => Promise<Uint8Array[] | null>;

export interface ConnectionLimits {
  /** The largest frame accepted (`--max-request-bytes`). */
  maxRequestBytes: number;
  /** Requests handled at once on the connection; default 100. */
  maxInFlightRequests?: number;
  /** No new request starts while this many response bytes wait for the socket; default 8 MiB. */
  maxQueuedResponseBytes?: number;
  /** Received bytes not yet handed to the handler; default maxRequestBytes + 4 + 8 MiB. */
  maxBufferedBytes?: number;
}

export const DEFAULT_MAX_IN_FLIGHT_REQUESTS = 100;
const DEFAULT_MAX_QUEUED_RESPONSE_BYTES = 8 * 1024 * 1024;
/**
 * Room above one whole frame for what arrives before a pause takes effect (Bun hands over up to 512 KiB a
 * read, and a read may be under way when the socket is paused).
 */
const READ_SLACK_BYTES = 8 * 1024 * 1024;
/** Runs of chunks shorter than this are copied together into one write (headers, small responses). */
const COALESCE_CHUNK_BYTES = 4096;
const COALESCE_LIMIT_BYTES = 64 * 1024;

/** A frame size the connection refuses. */
export class FrameSizeError extends Error {
  constructor(readonly size: number) {
    super(`request frame size ${size} is out of bounds`);
    this.name = 'FrameSizeError';
  }
}

/**
 * Cuts `int32 size` + body frames out of a byte stream. `next()` returns frames in order, without their
 * size prefix, as views where possible (a frame within one pushed chunk is not copied).
 */
export class FrameCutter {
  private chunks: Uint8Array[] = [];
  private bufferedBytes = 0;
  /** The size of the frame being received, once its prefix has been read; -1 before. */
  private frameSize = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received and not yet returned by `next()` (including a read size prefix's frame so far). */
  get buffered(): number {
    return this.bufferedBytes;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
  }

  /** The next whole frame, or null until more bytes arrive. Throws FrameSizeError for a size out of bounds. */
  next(): Uint8Array | null {
    if (this.frameSize < 0) {
      if (this.bufferedBytes < 4) return null;
      const prefix = this.take(4);
      const size = new DataView(prefix.buffer, prefix.byteOffset, 4).getInt32(0);
      if (size < 0 || size > this.maxFrameBytes) throw new FrameSizeError(size);
      this.frameSize = size;
    }
    if (this.bufferedBytes < this.frameSize) return null;
    const frame = this.take(this.frameSize);
    this.frameSize = -1;
    return frame;
  }

  /** Drops everything buffered. */
  clear(): void {
    this.chunks = [];
    this.bufferedBytes = 0;
    this.frameSize = -1;
  }

  /** Removes the first `n` buffered bytes (n ≤ buffered): a view of the first chunk when it holds them all. */
  private take(n: number): Uint8Array {
    this.bufferedBytes -= n;
    const first = this.chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first!.length >= n) {
      if (first!.length === n) this.chunks.shift();
      else this.chunks[0] = first!.subarray(n);
      return first!.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let used = 0;
    while (filled < n) {
      const chunk = this.chunks[used]!;
      const part = Math.min(chunk.length, n - filled);
      out.set(part === chunk.length ? chunk : chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.length) used++;
      else this.chunks[used] = chunk.subarray(part);
    }
    this.chunks.splice(0, used);
    return out;
  }
}

/** One request in flight: its response, once the handler has answered. */
interface Slot {
  done: boolean;
  response: Uint8Array[] | null;
}

type State = 'open' | 'draining' | 'closed';

export class KafkaConnection {
  private readonly cutter: FrameCutter;
  private readonly maxInFlightRequests: number;
  private readonly maxQueuedResponseBytes: number;
  private readonly maxBufferedBytes: number;
  /** Requests in flight, in request order; the head is the next response to write. */
  private readonly slots: Slot[] = [];
  /** Response bytes waiting for the socket: `output[outputHead..]`. */
  private output: Uint8Array[] = [];
  private outputHead = 0;
  private outputBytes = 0;
  private paused = false;
  private state: State = 'open';
  private whenDrained: (() => void) | null = null;

  constructor(
    private readonly transport: Transport,
    private readonly handler: FrameHandler,
    limits: ConnectionLimits,
    private readonly logger?: Logger,
    /** Who is at the other end, for log lines. */
    private readonly peer = '',
  ) {
    this.cutter = new FrameCutter(limits.maxRequestBytes);
    this.maxInFlightRequests = Math.max(1, limits.maxInFlightRequests ?? DEFAULT_MAX_IN_FLIGHT_REQUESTS);
    this.maxQueuedResponseBytes = limits.maxQueuedResponseBytes ?? DEFAULT_MAX_QUEUED_RESPONSE_BYTES;
    this.maxBufferedBytes = limits.maxBufferedBytes ?? limits.maxRequestBytes + 4 + READ_SLACK_BYTES;
  }

  /** Requests handed to the handler whose responses are not yet written out. */
  get inFlight(): number {
    return this.slots.length;
  }

  /** Response bytes waiting for the socket. */
  get queuedResponseBytes(): number {
    return this.outputBytes;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Bytes from the socket. Ignored once the connection is draining or closed. */
  receive(chunk: Uint8Array): void {
    if (this.state !== 'open') return;
    this.cutter.push(chunk);
    this.pump();
  }

  /** The socket can take more bytes (Bun's `drain`). */
  writable(): void {
    if (this.state === 'closed') return;
    this.flush();
    this.pump();
    this.checkDrained();
  }

  /** The socket has closed (the peer left, or an error): forget everything. */
  closed(): void {
    this.finish();
  }

  /** Closes now, dropping whatever is in flight. */
  abort(reason: string, hard = false): void {
    if (this.state === 'closed') return;
    this.logger?.debug('closing a Kafka connection', { peer: this.peer, reason });
    this.finish();
    if (hard) this.transport.terminate();
    else this.transport.end();
  }

  /**
   * Stops taking requests; resolves once the responses to those in flight are written and the connection is
   * ended. Requests received but not started are dropped (the client sees the connection close and retries).
   */
  shutdown(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    const drained = new Promise<void>((resolve) => {
      const previous = this.whenDrained;
      this.whenDrained = () => {
        previous?.();
        resolve();
      };
    });
    if (this.state === 'open') {
      this.state = 'draining';
      this.setPaused(true);
      this.cutter.clear();
    }
    this.checkDrained();
    return drained;
  }

  /** Starts as many buffered requests as the limits allow, then pauses or resumes reading to match. */
  private pump(): void {
    while (this.state === 'open' && !this.blocked()) {
      let frame: Uint8Array | null;
      try {
        frame = this.cutter.next();
      } catch (err) {
        this.abort(err instanceof Error ? err.message : String(err));
        return;
      }
      if (frame === null) break;
      this.dispatch(frame);
    }
    if (this.state !== 'open') return;
    if (this.cutter.buffered > this.maxBufferedBytes) {
      this.abort(
        `${this.cutter.buffered} bytes received and not yet handled (limit ${this.maxBufferedBytes})`,
      );
      return;
    }
    this.setPaused(this.blocked());
  }

  private blocked(): boolean {
    return this.slots.length >= this.maxInFlightRequests || this.outputBytes >= this.maxQueuedResponseBytes;
  }

  private dispatch(frame: Uint8Array): void {
    const slot: Slot = { done: false, response: null };
    this.slots.push(slot);
    let pending: Promise<Uint8Array[] | null>;
    try {
      pending = this.handler(frame);
    } catch {
      this.abort('the request could not be handled');
      return;
    }
    pending.then(
      (response) => {
        if (this.state === 'closed') return;
        slot.done = true;
        slot.response = response;
        this.release();
      },
      () => this.abort('the request could not be handled'),
    );
  }

  /** Moves the answered responses at the head of the line to the output, in order, and writes them. */
  private release(): void {
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const response = this.slots.shift()!.response;
      if (response === null) continue;
      for (const chunk of response) {
        if (chunk.length === 0) continue;
        this.output.push(chunk);
        this.outputBytes += chunk.length;
      }
    }
    this.flush();
    this.pump();
    this.checkDrained();
  }

  /** Writes queued output until the socket takes no more. */
  private flush(): void {
    while (this.outputHead < this.output.length && this.state !== 'closed') {
      const chunk = this.coalesceHead();
      const written = this.transport.write(chunk);
      if (written < 0) {
        this.finish();
        return;
      }
      this.outputBytes -= written;
      if (written < chunk.length) {
        this.output[this.outputHead] = chunk.subarray(written);
        return;
      }
      this.outputHead++;
    }
    if (this.outputHead === this.output.length) {
      this.output = [];
      this.outputHead = 0;
    } else if (this.outputHead > 1024 && this.outputHead * 2 > this.output.length) {
      this.output = this.output.slice(this.outputHead);
      this.outputHead = 0;
    }
  }

  /**
   * The next chunk to write. A run of small chunks (headers, small responses one after another) is copied
   * into one, so it costs one write instead of many; large chunks (record batches) go out as they are.
   */
  private coalesceHead(): Uint8Array {
    const head = this.output[this.outputHead]!;
    let end = this.outputHead;
    let total = 0;
    while (end < this.output.length) {
      const chunk = this.output[end]!;
      if (chunk.length >= COALESCE_CHUNK_BYTES || total + chunk.length > COALESCE_LIMIT_BYTES) break;
      total += chunk.length;
      end++;
    }
    if (end - this.outputHead < 2) return head;
    const merged = new Uint8Array(total);
    let offset = 0;
    for (let i = this.outputHead; i < end; i++) {
      merged.set(this.output[i]!, offset);
      offset += this.output[i]!.length;
    }
    // Replace the run by the merged chunk (at the last position of the run) so a short write resumes in it.
    this.outputHead = end - 1;
    this.output[this.outputHead] = merged;
    return merged;
  }

  private setPaused(paused: boolean): void {
    if (paused === this.paused || this.state === 'closed') return;
    this.paused = paused;
    if (paused) this.transport.pause();
    else this.transport.resume();
  }

  /** While draining: once nothing is in flight or queued, end the connection. */
  private checkDrained(): void {
    if (this.state !== 'draining' || this.slots.length > 0 || this.outputBytes > 0) return;
    this.finish();
    this.transport.end();
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.slots.length = 0;
    this.output = [];
    this.outputHead = 0;
    this.outputBytes = 0;
    this.cutter.clear();
    const resolve = this.whenDrained;
    this.whenDrained = null;
    resolve?.();
  }
}
