import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cPortable } from '../../src/records/crc32c.ts';
import '../../src/records/crc32c-native.ts';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('CRC-32C', () => {
  it('matches the check value of the Castagnoli polynomial', () => {
    expect(crc32cPortable(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32cPortable(new Uint8Array(0))).toBe(0);
    // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, and of 0xff.
    expect(crc32cPortable(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32cPortable(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  });

  it('native and portable agree on random data, offsets and continuations', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(16), fc.nat(), (data, skip, split) => {
        // A view at an odd offset exercises the binding's Buffer wrapping.
        const view = data.subarray(Math.min(skip, data.length));
        expect(crc32c(view)).toBe(crc32cPortable(view));
        const cut = view.length === 0 ? 0 : split % view.length;
        const continued = crc32c(view.subarray(cut), crc32c(view.subarray(0, cut)));
        expect(continued).toBe(crc32cPortable(view));
      }),
      { numRuns: 300 },
    );
  });
});
