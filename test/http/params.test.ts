/**
 * @module
 * Query and path parameter parsing: integers, acks and topic names.
 */
import { describe, expect, it } from 'vitest';
import {
  checkTopicName,
  integerQuery,
  parseAcks,
  parseInteger,
  parsePartition,
} from '../../src/http/params.ts';
import { BrokerError } from '../../src/shared/errors.ts';

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof BrokerError ? err.code : 'not a BrokerError';
  }
}

describe('parseInteger', () => {
  it('takes plain decimal integers within bounds', () => {
    expect(parseInteger('n', '0')).toBe(0);
    expect(parseInteger('n', '-7')).toBe(-7);
    expect(parseInteger('n', '9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseInteger('n', '5', { min: 5, max: 5 })).toBe(5);
  });

  it.each([
    '',
    ' 1',
    '1 ',
    '0x10',
    '1e3',
    '1.0',
    '+1',
    '9007199254740992',
    '99999999999999999',
    'NaN',
    '--1',
  ])("refuses '%s', naming the parameter", (raw) => {
    expect(() => parseInteger('maxBytes', raw)).toThrow(/'maxBytes'/);
    expect(codeOf(() => parseInteger('maxBytes', raw))).toBe('INVALID_REQUEST');
  });

  it('refuses values out of bounds', () => {
    expect(codeOf(() => parseInteger('n', '0', { min: 1 }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => parseInteger('n', '11', { min: 1, max: 10 }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => parsePartition('-1'))).toBe('INVALID_REQUEST');
  });

  it('integerQuery falls back only when the parameter is absent', () => {
    const query = (values: Record<string, string>) => (name: string) => values[name];
    expect(integerQuery(query({}), 'x', 42)).toBe(42);
    expect(integerQuery(query({ x: '3' }), 'x', 42)).toBe(3);
    expect(codeOf(() => integerQuery(query({ x: '' }), 'x', 42))).toBe('INVALID_REQUEST');
  });
});

describe('parseAcks', () => {
  it('maps 0, 1, all and -1 (default all)', () => {
    expect(parseAcks(undefined)).toBe(-1);
    expect(parseAcks('all')).toBe(-1);
    expect(parseAcks('-1')).toBe(-1);
    expect(parseAcks('1')).toBe(1);
    expect(parseAcks('0')).toBe(0);
  });

  it.each(['2', 'ALL', '', ' 1', 'none'])("refuses '%s' with INVALID_REQUIRED_ACKS", (raw) => {
    expect(codeOf(() => parseAcks(raw))).toBe('INVALID_REQUIRED_ACKS');
  });
});

describe('checkTopicName', () => {
  it('takes Kafka-legal names and refuses the rest', () => {
    for (const name of ['a', 'a.b_c-D9', '__internal', 'x'.repeat(249)])
      expect(checkTopicName(name)).toBe(name);
    for (const name of ['', '.', '..', 'x'.repeat(250), 'a/b', 'a b', 'é']) {
      expect(codeOf(() => checkTopicName(name))).toBe('INVALID_TOPIC_EXCEPTION');
    }
  });
});
