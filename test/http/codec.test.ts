/**
 * @module
 * Content negotiation, body decoding errors and the JSON/msgpack byte encodings of codec.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  accepts,
  bytesIn,
  bytesOut,
  decodeBody,
  packBody,
  requestFormat,
  responseFormat,
} from '../../src/http/codec.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import { clientPackr, utf8 } from './support.ts';

describe('requestFormat', () => {
  it.each([
    ['application/json', 0x5b, 'json'],
    ['application/json; charset=utf-8', 0x7b, 'json'],
    ['Application/JSON', 0x7b, 'json'],
    ['application/problem+json', 0x7b, 'json'],
    ['application/vnd.kafka.recordbatch', 0x00, 'recordbatch'],
    ['application/msgpack', 0x7b, 'msgpack'],
    ['application/x-msgpack', 0x81, 'msgpack'],
    [undefined, 0x81, 'msgpack'],
    [undefined, 0x7b, 'json'],
    ['application/x-www-form-urlencoded', 0x7b, 'json'],
    ['text/plain', 0x81, 'msgpack'],
    [undefined, undefined, 'msgpack'],
  ] as const)('%s with first byte %s is %s', (contentType, firstByte, format) => {
    expect(requestFormat(contentType, firstByte)).toBe(format);
  });
});

describe('responseFormat', () => {
  it('is msgpack when asked for or sent, JSON otherwise', () => {
    expect(responseFormat('application/msgpack', undefined)).toBe('msgpack');
    expect(responseFormat('text/html, application/x-msgpack;q=0.9', undefined)).toBe('msgpack');
    expect(responseFormat(undefined, 'application/msgpack')).toBe('msgpack');
    expect(responseFormat('*/*', undefined)).toBe('json');
    expect(responseFormat(undefined, undefined)).toBe('json');
    // A msgpack body sent without saying so still gets JSON back: only the headers decide.
    expect(responseFormat(undefined, 'application/octet-stream')).toBe('json');
  });

  it('accepts() matches media types, not substrings', () => {
    expect(accepts('application/vnd.kafka.recordbatch', 'application/vnd.kafka.recordbatch')).toBe(true);
    expect(
      accepts(
        'application/json, application/vnd.kafka.recordbatch; v=2',
        'application/vnd.kafka.recordbatch',
      ),
    ).toBe(true);
    expect(accepts('application/vnd.kafka.recordbatch-x', 'application/vnd.kafka.recordbatch')).toBe(false);
    expect(accepts(undefined, 'application/json')).toBe(false);
  });
});

describe('decodeBody', () => {
  it('parses JSON and msgpack into plain objects', () => {
    expect(decodeBody(utf8('{"a":[1,null]}'), 'json')).toEqual({ a: [1, null] });
    const decoded = decodeBody(clientPackr.pack({ a: { b: 1 } }), 'msgpack');
    expect(decoded).toEqual({ a: { b: 1 } });
    expect(Object.getPrototypeOf((decoded as { a: object }).a)).toBe(Object.prototype);
  });

  it('decodes int64 timestamps as numbers when safe, BigInt otherwise', () => {
    // uint64 1_700_000_000_000, as a Python or Go client sends it.
    const int64 = new Uint8Array([0xcf, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00]);
    expect(decodeBody(int64, 'msgpack')).toBe(1_700_000_000_000);
    const huge = new Uint8Array([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(typeof decodeBody(huge, 'msgpack')).toBe('bigint');
  });

  it('throws INVALID_REQUEST with a readable reason', () => {
    const cases: Array<[Uint8Array, 'json' | 'msgpack', RegExp]> = [
      [utf8('{'), 'json', /^malformed JSON body: /],
      [new Uint8Array([0xff, 0xfe]), 'json', /not valid UTF-8/],
      [new Uint8Array([0xd9]), 'msgpack', /^malformed msgpack body: /],
      [new Uint8Array([0xc7, 0x01, 0x63, 0x40]), 'msgpack', /^malformed msgpack body: .*extension/],
      [new Uint8Array([0x92, 0x01]), 'msgpack', /^malformed msgpack body: /],
      [new Uint8Array(0), 'json', /empty/],
    ];
    for (const [bytes, format, message] of cases) {
      try {
        decodeBody(bytes, format);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(BrokerError);
        expect((err as BrokerError).code).toBe('INVALID_REQUEST');
        expect((err as BrokerError).message).toMatch(message);
      }
    }
  });
});

describe('bytesIn / bytesOut', () => {
  it('reads null, strings, msgpack bin and JSON base64', () => {
    expect(bytesIn(null, 'json')).toBeNull();
    expect(bytesIn('hé', 'json')).toEqual(utf8('hé'));
    expect(bytesIn(new Uint8Array([1, 2]), 'msgpack')).toEqual(new Uint8Array([1, 2]));
    expect(bytesIn({ base64: 'AAH/' }, 'json')).toEqual(new Uint8Array([0, 1, 255]));
    expect(bytesIn({ base64: 'AAH_' }, 'json')).toEqual(new Uint8Array([0, 1, 255]));
    expect(bytesIn({ base64: 'AAE' }, 'json')).toEqual(new Uint8Array([0, 1]));
    expect(bytesIn({ base64: '' }, 'json')).toEqual(new Uint8Array(0));
  });

  it('refuses anything else', () => {
    for (const value of [
      1,
      true,
      [],
      {},
      { base64: 1 },
      { base64: 'A' },
      { base64: 'a b' },
      { base64: 'AA', x: 1 },
    ]) {
      expect(bytesIn(value, 'json')).toBeUndefined();
    }
    expect(bytesIn(new Uint8Array([1]), 'json')).toBeUndefined();
    expect(bytesIn({ base64: 'AA==' }, 'msgpack')).toBeUndefined();
  });

  it('writes UTF-8 as strings and the rest as base64 in JSON, bytes in msgpack', () => {
    expect(bytesOut(utf8('ok'), 'json', false)).toBe('ok');
    expect(bytesOut(utf8('ok'), 'json', true)).toEqual({ base64: 'b2s=' });
    expect(bytesOut(new Uint8Array([0xc3]), 'json', false)).toEqual({ base64: 'ww==' });
    expect(bytesOut(null, 'json', true)).toBeNull();
    const view = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
    expect(bytesOut(view, 'msgpack', false)).toBe(view);
    expect(bytesOut(view, 'json', true)).toEqual({ base64: Buffer.from([8, 7]).toString('base64') });
  });

  it('packs byte views as bin holding only the view', () => {
    const view = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
    const unpacked = clientPackr.unpack(packBody({ v: view, n: 1_700_000_000_000 }));
    expect(new Uint8Array(unpacked.v)).toEqual(new Uint8Array([8, 7]));
    expect(unpacked.n).toBe(1_700_000_000_000);
  });
});
