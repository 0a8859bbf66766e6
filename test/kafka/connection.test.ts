/**
 * @module
 * The per-connection logic of the Kafka door without sockets: frame cutting (views, splits, size limits),
 * responses in request order, the in-flight and queued-bytes limits that pause reading, short writes,
 * failures that close the connection, and shutdown.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FrameCutter,
  type FrameHandler,
  FrameSizeError,
  KafkaConnection,
  type Transport,
} from '../../src/kafka/connection.ts';

/** `int32 size` + body. */
function frame(body: Uint8Array | number[]): Uint8Array {
  const bytes = body instanceof Uint8Array ? body : Uint8Array.from(body);
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setInt32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function drainCutter(cutter: FrameCutter): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let f = cutter.next(); f !== null; f = cutter.next()) frames.push(f);
  return frames;
}

describe('FrameCutter', () => {
  it('cuts several frames out of one chunk as views of it', () => {
    const chunk = concat([frame([1, 2, 3]), frame([]), frame([4])]);
    const cutter = new FrameCutter(100);
    cutter.push(chunk);
    const frames = drainCutter(cutter);
    expect(frames.map((f) => [...f])).toEqual([[1, 2, 3], [], [4]]);
    expect(frames[0]!.buffer).toBe(chunk.buffer);
    expect(cutter.buffered).toBe(0);
  });

  it('waits for the rest of a frame split anywhere, the size prefix included, and copies it once', () => {
    const stream = concat([frame([9, 8, 7, 6, 5]), frame([1])]);
    const cutter = new FrameCutter(100);
    const frames: Uint8Array[] = [];
    for (const byte of stream) {
      cutter.push(Uint8Array.of(byte));
      frames.push(...drainCutter(cutter));
    }
    expect(frames.map((f) => [...f])).toEqual([[9, 8, 7, 6, 5], [1]]);
  });

  it('cuts the same frames whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 20 }),
        (bodies, cuts) => {
          const stream = concat(bodies.map(frame));
          const cutter = new FrameCutter(40);
          const frames: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const end = Math.min(stream.length, at + cuts[i % cuts.length]!);
            cutter.push(stream.subarray(at, end));
            frames.push(...drainCutter(cutter));
            at = end;
          }
          expect(frames.map((f) => [...f])).toEqual(bodies.map((b) => [...b]));
          expect(cutter.buffered).toBe(0);
        },
      ),
    );
  });

  it('refuses a negative size and one above the limit, and takes exactly the limit', () => {
    const negative = new FrameCutter(10);
    negative.push(Uint8Array.of(0xff, 0xff, 0xff, 0xfe));
    expect(() => negative.next()).toThrow(FrameSizeError);
    const above = new FrameCutter(10);
    above.push(frame(new Uint8Array(11)));
    expect(() => above.next()).toThrow(/11/);
    const huge = new FrameCutter(64 * 1024 * 1024);
    huge.push(Uint8Array.of(0x7f, 0xff, 0xff, 0xff));
    expect(() => huge.next()).toThrow(FrameSizeError);
    const exact = new FrameCutter(10);
    exact.push(frame(new Uint8Array(10)));
    expect(exact.next()).toHaveLength(10);
  });
});

class FakeTransport implements Transport {
  readonly writes: Uint8Array[] = [];
  /** Bytes the socket takes before it is full. */
  room = Number.POSITIVE_INFINITY;
  paused = false;
  pauses = 0;
  ended = false;
  terminated = false;

  write(bytes: Uint8Array): number {
    if (this.ended || this.terminated) return -1;
    const n = Math.min(bytes.length, this.room);
    this.room -= n;
    if (n > 0) this.writes.push(bytes.slice(0, n));
    return n;
  }
  pause(): void {
    this.paused = true;
    this.pauses++;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.ended = true;
  }
  terminate(): void {
    this.terminated = true;
  }
  /** Everything written, as one array. */
  get bytes(): Uint8Array {
    return concat(this.writes);
  }
}

/** A handler whose answers the test releases by hand: `answer(i, response)` for the i-th request. */
function manualHandler() {
  const pending: Array<{ frame: Uint8Array; resolve(r: Uint8Array[] | null): void; reject(e: Error): void }> =
    [];
  const handler: FrameHandler = (f) =>
    new Promise((resolve, reject) => {
      pending.push({ frame: f, resolve, reject });
    });
  return {
    handler,
    pending,
    answer(i: number, response: Uint8Array[] | null) {
      pending[i]!.resolve(response);
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('KafkaConnection', () => {
  it('answers in request order whatever order the handlers finish in, skipping null answers', async () => {
    const transport = new FakeTransport();
    const manual = manualHandler();
    const connection = new KafkaConnection(transport, manual.handler, { maxRequestBytes: 100 });
    connection.receive(concat([frame([0]), frame([1]), frame([2]), frame([3])]));
    expect(manual.pending).toHaveLength(4);
    manual.answer(3, [Uint8Array.of(33)]);
    manual.answer(1, null);
    manual.answer(2, [Uint8Array.of(22)]);
    await tick();
    expect(transport.writes).toEqual([]);
    manual.answer(0, [Uint8Array.of(0), Uint8Array.of(11)]);
    await tick();
    expect([...transport.bytes]).toEqual([0, 11, 22, 33]);
    expect(connection.inFlight).toBe(0);
  });

  it('pauses reading at the in-flight limit and resumes when answers go out', async () => {
    const transport = new FakeTransport();
    const manual = manualHandler();
    const connection = new KafkaConnection(transport, manual.handler, {
      maxRequestBytes: 100,
      maxInFlightRequests: 3,
    });
    connection.receive(concat(Array.from({ length: 5 }, (_, i) => frame([i]))));
    expect(manual.pending).toHaveLength(3);
    expect(transport.paused).toBe(true);
    manual.answer(0, [Uint8Array.of(0)]);
    await tick();
    // The fourth request, already buffered, starts; still at the limit.
    expect(manual.pending).toHaveLength(4);
    expect(transport.paused).toBe(true);
    for (let i = 1; i < 4; i++) manual.answer(i, [Uint8Array.of(i)]);
    await tick();
    expect(manual.pending).toHaveLength(5);
    manual.answer(4, [Uint8Array.of(4)]);
    await tick();
    expect(transport.paused).toBe(false);
    expect([...transport.bytes]).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps the rest of a short write and sends it when the socket drains, starting no work meanwhile', async () => {
    const transport = new FakeTransport();
    transport.room = 1000;
    const big = new Uint8Array(5000).fill(7);
    let calls = 0;
    const connection = new KafkaConnection(
      transport,
      async () => {
        calls++;
        return [big];
      },
      { maxRequestBytes: 100, maxQueuedResponseBytes: 2000 },
    );
    connection.receive(frame([1]));
    await tick();
    expect(connection.queuedResponseBytes).toBe(4000);
    expect(transport.paused).toBe(true);
    connection.receive(frame([2]));
    expect(calls).toBe(1);
    transport.room = Number.POSITIVE_INFINITY;
    connection.writable();
    await tick();
    expect(calls).toBe(2);
    await tick();
    expect(transport.bytes.length).toBe(10_000);
    expect(transport.paused).toBe(false);
  });

  it('writes large chunks by reference and copies runs of small ones into one write', async () => {
    const writes: Uint8Array[] = [];
    const transport = new FakeTransport();
    transport.write = (bytes) => {
      writes.push(bytes);
      return bytes.length;
    };
    const big = new Uint8Array(10_000);
    const connection = new KafkaConnection(
      transport,
      async () => [Uint8Array.of(1, 2), Uint8Array.of(3), big, Uint8Array.of(4)],
      { maxRequestBytes: 100 },
    );
    connection.receive(frame([0]));
    await tick();
    expect(writes).toHaveLength(3);
    expect([...writes[0]!]).toEqual([1, 2, 3]);
    expect(writes[1]).toBe(big);
    expect([...writes[2]!]).toEqual([4]);
  });

  it.each([
    ['a handler that throws', () => Promise.reject(new Error('boom'))],
    [
      'a handler that throws synchronously',
      () => {
        throw new Error('boom');
      },
    ],
  ] as Array<[string, FrameHandler]>)(
    'closes the connection on %s and ignores what follows',
    async (_, handler) => {
      const transport = new FakeTransport();
      let calls = 0;
      const connection = new KafkaConnection(
        transport,
        (f) => {
          calls++;
          return handler(f);
        },
        { maxRequestBytes: 100 },
      );
      connection.receive(frame([1]));
      await tick();
      expect(transport.ended).toBe(true);
      expect(connection.isClosed).toBe(true);
      connection.receive(frame([2]));
      expect(calls).toBe(1);
    },
  );

  it('closes on a frame size out of bounds without calling the handler for it', () => {
    for (const prefix of [Uint8Array.of(0x80, 0, 0, 0), Uint8Array.of(0x7f, 0xff, 0xff, 0xff)]) {
      const transport = new FakeTransport();
      let calls = 0;
      const connection = new KafkaConnection(
        transport,
        async () => {
          calls++;
          return null;
        },
        { maxRequestBytes: 1000 },
      );
      connection.receive(concat([frame([1]), prefix, new Uint8Array(10)]));
      expect(calls).toBe(1);
      expect(transport.ended).toBe(true);
    }
  });

  it('bounds the bytes buffered while paused', async () => {
    const transport = new FakeTransport();
    const manual = manualHandler();
    const connection = new KafkaConnection(transport, manual.handler, {
      maxRequestBytes: 100,
      maxInFlightRequests: 1,
      maxBufferedBytes: 500,
    });
    connection.receive(frame([1]));
    expect(transport.paused).toBe(true);
    // A peer that ignores the pause (or bytes already on their way) cannot make the buffer grow past the bound.
    for (let i = 0; i < 10 && !connection.isClosed; i++) connection.receive(frame(new Uint8Array(90)));
    expect(connection.isClosed).toBe(true);
    expect(transport.ended).toBe(true);
  });

  it('shutdown answers what is in flight, drops what was not started, then ends', async () => {
    const transport = new FakeTransport();
    const manual = manualHandler();
    const connection = new KafkaConnection(transport, manual.handler, {
      maxRequestBytes: 100,
      maxInFlightRequests: 2,
    });
    connection.receive(concat([frame([0]), frame([1]), frame([2])]));
    let done = false;
    const shutdown = connection.shutdown().then(() => (done = true));
    connection.receive(frame([3]));
    await tick();
    expect(done).toBe(false);
    expect(transport.ended).toBe(false);
    manual.answer(1, [Uint8Array.of(1)]);
    manual.answer(0, [Uint8Array.of(0)]);
    await shutdown;
    expect([...transport.bytes]).toEqual([0, 1]);
    expect(manual.pending).toHaveLength(2);
    expect(transport.ended).toBe(true);
  });

  it('shutdown waits for a short write to finish', async () => {
    const transport = new FakeTransport();
    transport.room = 3;
    const connection = new KafkaConnection(transport, async () => [Uint8Array.of(1, 2, 3, 4, 5)], {
      maxRequestBytes: 100,
    });
    connection.receive(frame([0]));
    await tick();
    let done = false;
    const shutdown = connection.shutdown().then(() => (done = true));
    await tick();
    expect(done).toBe(false);
    transport.room = 10;
    connection.writable();
    await shutdown;
    expect([...transport.bytes]).toEqual([1, 2, 3, 4, 5]);
    expect(transport.ended).toBe(true);
  });

  it('forgets everything when the socket closes under it', async () => {
    const transport = new FakeTransport();
    const manual = manualHandler();
    const connection = new KafkaConnection(transport, manual.handler, { maxRequestBytes: 100 });
    connection.receive(frame([0]));
    connection.closed();
    manual.answer(0, [Uint8Array.of(1)]);
    await tick();
    expect(transport.writes).toEqual([]);
    await connection.shutdown();
  });
});
