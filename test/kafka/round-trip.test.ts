import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/kafka/codec/message-codec.ts';
import { Reader } from '../../src/kafka/codec/reader.ts';
import { Writer } from '../../src/kafka/codec/writer.ts';
import { ALL_DESCRIPTORS, concat, expectedDecode, messageArb, versionsOf } from './arbitraries.ts';

// Every served API's request and response, the headers and the consumer-protocol blobs.
const EXPECTED_MESSAGES = 52;

describe('round trip: encode then decode gives the value back (absent fields as defaults)', () => {
  it(`covers all ${EXPECTED_MESSAGES} schemas`, () => {
    expect(ALL_DESCRIPTORS).toHaveLength(EXPECTED_MESSAGES);
  });

  for (const descriptor of ALL_DESCRIPTORS) {
    describe(descriptor.name, () => {
      for (const version of versionsOf(descriptor)) {
        it(`v${version}`, () => {
          // Small reference threshold: records travel by reference in the chunked output.
          const writer = new Writer({ initialCapacity: 16, referenceThreshold: 64 });
          fc.assert(
            fc.property(messageArb(descriptor, version), (value) => {
              encodeMessage(descriptor, version, value, writer);
              const bytes = concat(writer.finish());
              const reader = new Reader(bytes);
              const decoded = decodeMessage(descriptor, version, reader);
              expect(reader.remaining).toBe(0);
              expect(decoded).toEqual(expectedDecode(descriptor.fields, version, value));
              // The encoding is canonical: the decoded value encodes to the same bytes.
              encodeMessage(descriptor, version, decoded, writer);
              expect(writer.toBytes()).toEqual(bytes);
            }),
            { numRuns: 25 },
          );
        });
      }
    });
  }
});
