/**
 * @module
 * A raw Kafka protocol client for tests (node:net + the generated codecs): send request frames, or any bytes,
 * and read response frames back, decoded with the response header and body of the version asked for.
 * It knows nothing of what a response means; tests assert that.
 */
import net from 'node:net';
import {
  encodeRequestFrame,
  responseDescriptor,
  responseHeaderVersion,
} from '../../src/kafka/codec/frame.ts';
import { decodeMessage } from '../../src/kafka/codec/message-codec.ts';
import { Reader } from '../../src/kafka/codec/reader.ts';
import {
  type RequestByApiKey,
  type ResponseByApiKey,
  ResponseHeader,
} from '../../src/kafka/generated/messages.ts';

export interface Decoded<K extends keyof ResponseByApiKey> {
  correlationId: number;
  body: ResponseByApiKey[K];
}

export class WireClient {
  private buffer = new Uint8Array(0);
  private readonly frames: Uint8Array[] = [];
  private waiters: Array<() => void> = [];
  private nextCorrelationId = 1;
  private closedFlag = false;
  /** Resolves when the server (or this client) has closed the connection. */
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      const joined = new Uint8Array(this.buffer.length + chunk.length);
      joined.set(this.buffer);
      joined.set(chunk, this.buffer.length);
      this.buffer = joined;
      while (this.buffer.length >= 4) {
        const size = new DataView(this.buffer.buffer, this.buffer.byteOffset).getInt32(0);
        if (this.buffer.length < 4 + size) break;
        this.frames.push(this.buffer.slice(4, 4 + size));
        this.buffer = this.buffer.slice(4 + size);
      }
      this.wake();
    });
    // A reset by the server is one way of closing; the test looks at `closed`.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(host: string, port: number): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new WireClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** The bytes of a request frame (size prefix included). */
  static frame<K extends keyof RequestByApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestByApiKey[K],
    correlationId: number,
    clientId: string | null = 'wire-test',
  ): Uint8Array {
    return encodeRequestFrame({ apiKey, apiVersion, correlationId, clientId }, body).toBytes();
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Sends a request and returns its correlation id (answers are read with `response`). */
  send<K extends keyof RequestByApiKey>(apiKey: K, apiVersion: number, body: RequestByApiKey[K]): number {
    const correlationId = this.nextCorrelationId++;
    this.write(WireClient.frame(apiKey, apiVersion, body, correlationId));
    return correlationId;
  }

  /** Sends a request and waits for the next response, decoded as `apiKey` at `apiVersion`. */
  async request<K extends keyof RequestByApiKey & keyof ResponseByApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestByApiKey[K],
    timeoutMs = 10_000,
  ): Promise<Decoded<K>> {
    const correlationId = this.send(apiKey, apiVersion, body);
    const response = await this.response(apiKey, apiVersion, timeoutMs);
    if (response.correlationId !== correlationId) {
      throw new Error(`expected correlation id ${correlationId}, got ${response.correlationId}`);
    }
    return response;
  }

  /** The next response frame (without its size prefix); rejects when the connection closes first. */
  async nextFrame(timeoutMs = 10_000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closedFlag) throw new Error('the connection closed before a response arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames.shift()!;
  }

  /** The next response, decoded as `apiKey` at `apiVersion` (the header version follows from them). */
  async response<K extends keyof ResponseByApiKey>(
    apiKey: K,
    apiVersion: number,
    timeoutMs = 10_000,
  ): Promise<Decoded<K>> {
    return decodeResponse(apiKey, apiVersion, await this.nextFrame(timeoutMs));
  }

  /** Waits until the server closes the connection; rejects after `timeoutMs`. */
  async expectClosed(timeoutMs = 5_000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the connection stayed open for ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops reading responses (the server then sees TCP back-pressure); `resume()` reads on. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Decodes a response frame (no size prefix) of `apiKey` at `apiVersion`; throws on trailing bytes. */
export function decodeResponse<K extends keyof ResponseByApiKey>(
  apiKey: K,
  apiVersion: number,
  frame: Uint8Array,
): Decoded<K> {
  const reader = new Reader(frame);
  const header = decodeMessage(ResponseHeader, responseHeaderVersion(apiKey, apiVersion), reader);
  const body = decodeMessage(responseDescriptor(apiKey)!, apiVersion, reader) as ResponseByApiKey[K];
  if (reader.remaining !== 0) throw new Error(`${reader.remaining} bytes after the response body`);
  return { correlationId: header.correlationId, body };
}
