import { describe, expect, it } from 'vitest';
import {
  encodeRequestFrame,
  encodeResponseFrame,
  parseRequest,
  requestDescriptor,
  responseDescriptor,
  responseHeaderVersion,
} from '../../src/kafka/codec/frame.ts';
import { decodeMessage, decodeVersionedData } from '../../src/kafka/codec/message-codec.ts';
import { Reader } from '../../src/kafka/codec/reader.ts';
import { ConsumerProtocolSubscription, ResponseHeader } from '../../src/kafka/generated/messages.ts';
import { expectedDecode } from './arbitraries.ts';
import { fromHex, i32, REQUESTS, RESPONSES, SUBSCRIPTION_V0, toHex } from './fixtures/golden.ts';

const sized = (hex: string) => i32(hex.length / 2) + hex;

describe('golden request frames (hand-assembled from the Kafka layout)', () => {
  for (const f of REQUESTS) {
    const frame = [...f.header, ...f.body].join('');
    const descriptor = requestDescriptor(f.apiKey)!;

    it(`${f.name}: decodes`, () => {
      const parsed = parseRequest(fromHex(frame));
      expect(parsed.apiKey).toBe(f.apiKey);
      expect(parsed.apiVersion).toBe(f.version);
      expect(parsed.correlationId).toBe(f.correlationId);
      expect(parsed.header).toEqual({
        requestApiKey: f.apiKey,
        requestApiVersion: f.version,
        correlationId: f.correlationId,
        clientId: f.clientId,
      });
      expect(parsed.body).toEqual(
        expectedDecode(descriptor.fields, f.version, f.value as Record<string, unknown>),
      );
    });

    it(`${f.name}: encodes to the same bytes`, () => {
      const writer = encodeRequestFrame(
        { apiKey: f.apiKey, apiVersion: f.version, correlationId: f.correlationId, clientId: f.clientId },
        f.value,
      );
      expect(toHex(writer.toBytes())).toBe(sized(frame));
    });
  }
});

describe('golden response frames (hand-assembled from the Kafka layout)', () => {
  for (const f of RESPONSES) {
    const frame = [...f.header, ...f.body].join('');
    const descriptor = responseDescriptor(f.apiKey)!;

    it(`${f.name}: encodes to the same bytes`, () => {
      const writer = encodeResponseFrame(f.apiKey, f.version, f.correlationId, f.value);
      expect(toHex(writer.toBytes())).toBe(sized(frame));
    });

    it(`${f.name}: decodes`, () => {
      const reader = new Reader(fromHex(frame));
      const header = decodeMessage(ResponseHeader, responseHeaderVersion(f.apiKey, f.version), reader);
      expect(header).toEqual({ correlationId: f.correlationId });
      const body = decodeMessage(descriptor, f.version, reader);
      expect(reader.remaining).toBe(0);
      expect(body).toEqual(expectedDecode(descriptor.fields, f.version, f.value as Record<string, unknown>));
    });
  }

  it('the JoinGroup member metadata is a ConsumerProtocolSubscription v0', () => {
    const { version, value } = decodeVersionedData(
      ConsumerProtocolSubscription,
      new Reader(fromHex(SUBSCRIPTION_V0)),
    );
    expect(version).toBe(0);
    expect(value).toEqual({
      topics: ['orders'],
      userData: null,
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    });
  });
});

describe('header versions', () => {
  it('ApiVersions responses use header v0 even when flexible; others follow flexibleVersions', () => {
    expect(responseHeaderVersion(18, 3)).toBe(0);
    expect(responseHeaderVersion(3, 8)).toBe(0);
    expect(responseHeaderVersion(3, 9)).toBe(1);
    expect(responseHeaderVersion(1, 12)).toBe(1);
  });
});
