import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MessageDescriptor } from '../../src/kafka/codec/descriptor.ts';
import { encodeRequestFrame, type ParsedRequest, parseRequest } from '../../src/kafka/codec/frame.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import { ALL_DESCRIPTORS, messageArb, versionsOf } from './arbitraries.ts';
import { arr, i16, i32, str, uvarint } from './fixtures/golden.ts';

const REQUEST_DESCRIPTORS = ALL_DESCRIPTORS.filter((d) => d.type === 'request');

/** A valid request frame (no size prefix) of any API and version. */
const validFrame: fc.Arbitrary<Uint8Array> = fc
  .constantFrom(...REQUEST_DESCRIPTORS)
  .chain((d: MessageDescriptor) => fc.tuple(fc.constant(d), fc.constantFrom(...versionsOf(d))))
  .chain(([d, version]) =>
    fc.tuple(
      fc.constant(d),
      fc.constant(version),
      messageArb(d, version),
      fc.integer(),
      fc.option(fc.string()),
    ),
  )
  .map(([d, version, body, correlationId, clientId]) => {
    const writer = encodeRequestFrame(
      { apiKey: d.apiKey as 0, apiVersion: version, correlationId, clientId: clientId ?? null },
      body as never,
    );
    return writer.toBytes().subarray(4);
  });

/** Elements of every array and bytes of every byte string in a parsed value: bounded by the frame size. */
function countElements(value: unknown): number {
  if (Array.isArray(value)) return value.length + value.reduce((n: number, v) => n + countElements(v), 0);
  if (value instanceof Uint8Array) return 0;
  if (value !== null && typeof value === 'object') {
    return Object.values(value).reduce((n: number, v) => n + countElements(v), 0);
  }
  return 0;
}

/** parseRequest must return or throw a BrokerError; what it returns is bounded by the input. */
function parseSafely(frame: Uint8Array): ParsedRequest | BrokerError {
  try {
    const parsed = parseRequest(frame);
    expect(countElements(parsed.body)).toBeLessThanOrEqual(frame.length);
    return parsed;
  } catch (err) {
    if (!(err instanceof BrokerError)) throw new Error(`parseRequest threw a non-BrokerError: ${err}`);
    expect(['INVALID_REQUEST', 'UNSUPPORTED_VERSION']).toContain(err.code);
    return err;
  }
}

describe('parseRequest fuzz', () => {
  it('random bytes: returns or throws BrokerError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (frame) => {
        parseSafely(frame);
      }),
      { numRuns: 3000 },
    );
  });

  it('random bodies behind a real header of a known API and version', () => {
    const headed = fc
      .constantFrom(...REQUEST_DESCRIPTORS)
      .chain((d) =>
        fc.tuple(fc.constant(d), fc.constantFrom(...versionsOf(d)), fc.uint8Array({ maxLength: 120 })),
      )
      .map(([d, version, rest]) => {
        const head = Uint8Array.from(Buffer.from(i16(d.apiKey!) + i16(version) + i32(1) + str('x'), 'hex'));
        const frame = new Uint8Array(head.length + rest.length);
        frame.set(head);
        frame.set(rest, head.length);
        return frame;
      });
    fc.assert(
      fc.property(headed, (frame) => {
        parseSafely(frame);
      }),
      { numRuns: 3000 },
    );
  });

  it('valid frames parse; every truncation of one throws INVALID_REQUEST', () => {
    fc.assert(
      fc.property(validFrame, fc.nat(), (frame, cut) => {
        expect(parseSafely(frame)).not.toBeInstanceOf(BrokerError);
        const truncated = frame.subarray(0, cut % frame.length);
        const result = parseSafely(truncated);
        expect(result).toBeInstanceOf(BrokerError);
        expect((result as BrokerError).code).toBe('INVALID_REQUEST');
      }),
      { numRuns: 1500 },
    );
  });

  it('trailing bytes after a valid frame are rejected', () => {
    fc.assert(
      fc.property(validFrame, fc.uint8Array({ minLength: 1, maxLength: 8 }), (frame, extra) => {
        const longer = new Uint8Array(frame.length + extra.length);
        longer.set(frame);
        longer.set(extra, frame.length);
        const result = parseSafely(longer);
        expect(result).toBeInstanceOf(BrokerError);
        expect((result as BrokerError).message).toMatch(/trailing bytes/);
      }),
      { numRuns: 500 },
    );
  });

  it('mutated valid frames (random bytes, huge counts and lengths) return or throw BrokerError', () => {
    const mutation = fc.record({
      at: fc.nat(),
      bytes: fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        fc.constantFrom(
          Uint8Array.of(0x7f, 0xff, 0xff, 0xff),
          Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f),
          Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
          Uint8Array.of(0x7f, 0xff),
          Uint8Array.of(0xff, 0xfe),
        ),
      ),
    });
    fc.assert(
      fc.property(validFrame, fc.array(mutation, { minLength: 1, maxLength: 3 }), (frame, mutations) => {
        const mutated = Uint8Array.from(frame);
        for (const m of mutations)
          mutated.set(
            m.bytes.subarray(0, Math.max(0, mutated.length - (m.at % mutated.length))),
            m.at % mutated.length,
          );
        parseSafely(mutated);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('hostile counts and lengths fail fast', () => {
  const expectInvalid = (hex: string, message: RegExp) => {
    const frame = Uint8Array.from(Buffer.from(hex, 'hex'));
    const started = performance.now();
    expect(() => parseRequest(frame)).toThrow(message);
    expect(performance.now() - started).toBeLessThan(50);
  };

  it('an int32 array count of 2^31-1 in a 22-byte Produce v3 frame', () => {
    const hex = i16(0) + i16(3) + i32(1) + str(null) + str(null) + i16(1) + i32(1000) + i32(0x7fffffff);
    expect(hex.length / 2).toBe(22);
    expectInvalid(hex, /topicData: array of 2147483647 elements .* cannot fit/);
  });

  it('a compact array count of 2^32-2 in a flexible Produce v9 frame', () => {
    const hex = `${i16(0) + i16(9) + i32(1) + str(null)}00${'00'}${i16(1)}${i32(1000)}${uvarint(0xffffffff)}`;
    expectInvalid(hex, /topicData: array of 4294967294 elements/);
  });

  it('a [] int32 count that fits bytes but not 4-byte elements', () => {
    // Metadata v1 topics: 3 elements announced, 3 bytes left.
    const hex = `${i16(3) + i16(1) + i32(1) + str(null) + arr(3)}000000`;
    expectInvalid(hex, /topics: array of 3 elements .* cannot fit in the 3 bytes left/);
  });

  it('a string length of 32767 with 2 bytes left', () => {
    const hex = `${i16(11) + i16(5) + i32(1) + str(null)}7fff6162`;
    expectInvalid(hex, /JoinGroupRequest v5: groupId: truncated string: needs 32767 bytes/);
  });

  it('a bytes length of 2^31-1', () => {
    const hex =
      i16(0) +
      i16(3) +
      i32(1) +
      str(null) +
      str(null) +
      i16(1) +
      i32(1000) +
      arr(1) +
      str('t') +
      arr(1) +
      i32(0) +
      i32(0x7fffffff);
    expectInvalid(
      hex,
      /topicData\[0\]\.partitionData\[0\]\.records: truncated bytes: needs 2147483647 bytes/,
    );
  });

  it('a varint longer than 5 bytes', () => {
    const hex = `${i16(18) + i16(3) + i32(1) + str(null)}00${'8080808080808001'}`;
    expectInvalid(hex, /clientSoftwareName: varint .* (exceeds 32 bits|longer than 5 bytes)/);
  });

  it('a tagged field whose size runs past the frame', () => {
    const hex = `${i16(18) + i16(3) + i32(1) + str(null)}01${uvarint(0)}${uvarint(200)}00`;
    expectInvalid(hex, /RequestHeader v2: \(tagged fields\): truncated tagged field 0: needs 200 bytes/);
  });
});
