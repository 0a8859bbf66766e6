/**
 * @module
 * Topic configs by Kafka name: every setting's accepted and rejected values (table tests), merging over
 * defaults, the describe view, and Kafka's topic-name rules.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, LOG_CONFIG_NAMES, logConfig } from '../../src/config/log-config.ts';
import {
  formatWithUnit,
  LOG_SETTINGS,
  parseTopicConfig,
  topicConfigEntries,
  validateTopicName,
} from '../../src/config/topic-config.ts';
import { BrokerError } from '../../src/shared/errors.ts';

function brokerError(fn: () => unknown): BrokerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BrokerError);
    return err as BrokerError;
  }
  throw new Error('expected a BrokerError');
}

describe('parseTopicConfig', () => {
  it('merges overrides over the defaults and freezes the result', () => {
    const config = parseTopicConfig({ 'retention.ms': '3600000', 'segment.bytes': 1024 }, DEFAULT_LOG_CONFIG);
    expect(config).toEqual({ ...DEFAULT_LOG_CONFIG, retentionMs: 3_600_000, segmentBytes: 1024 });
    expect(Object.isFrozen(config)).toBe(true);
    expect(parseTopicConfig({}, DEFAULT_LOG_CONFIG)).toEqual(DEFAULT_LOG_CONFIG);
  });

  it('starts from the defaults it is given', () => {
    const defaults = logConfig({ flushPolicy: 'always' });
    expect(parseTopicConfig({ 'flush.ms': 5 }, defaults)).toEqual({ ...defaults, flushMs: 5 });
  });

  // [name, accepted raw → value..., rejected raw...]
  type Row = [string, Array<[string | number, number | string | boolean]>, Array<string | number>];
  const table: Row[] = [
    [
      'segment.bytes',
      [
        ['14', 14],
        [14, 14],
        ['2147483647', 2147483647],
        [' 1024 ', 1024],
      ],
      ['13', 0, -1, '2147483648', '1e6', '1.5', 1.5, '', 'abc', '0x10'],
    ],
    [
      'segment.ms',
      [
        ['1', 1],
        ['9223372036854775807', Number.MAX_SAFE_INTEGER],
      ],
      ['0', '-1', '9223372036854775808'],
    ],
    [
      'retention.ms',
      [
        ['-1', -1],
        [0, 0],
        ['604800000', 604800000],
      ],
      ['-2', 'forever'],
    ],
    [
      'retention.bytes',
      [
        [-1, -1],
        ['1073741824', 1073741824],
      ],
      ['-2', '1GB'],
    ],
    [
      'index.interval.bytes',
      [
        ['0', 0],
        [4096, 4096],
      ],
      ['-1', '2147483648'],
    ],
    [
      'flush.messages',
      [
        ['1', 1],
        ['9223372036854775807', Number.MAX_SAFE_INTEGER],
      ],
      ['0', '-1'],
    ],
    [
      'flush.ms',
      [
        ['0', 0],
        [1000, 1000],
      ],
      ['-1', true as unknown as string],
    ],
    [
      'flush.policy',
      [
        ['interval', 'interval'],
        ['always', 'always'],
        [' always ', 'always'],
      ],
      ['ALWAYS', 'sometimes', '', 1],
    ],
    [
      'max.message.bytes',
      [
        ['0', 0],
        [1048588, 1048588],
      ],
      ['-1', '2147483648'],
    ],
    [
      'min.insync.replicas',
      [
        ['2', 2],
        [1, 1],
      ],
      ['0', '-1', 'two'],
    ],
    [
      'unclean.leader.election.enable',
      [
        ['true', true],
        ['false', false],
      ],
      ['yes please', 2],
    ],
  ];

  it('covers every setting in the table below', () => {
    expect(table.map(([name]) => name).sort()).toEqual(Object.values(LOG_CONFIG_NAMES).sort());
  });

  for (const [name, accepted, rejected] of table) {
    const key = LOG_SETTINGS.find((s) => s.name === name)!.key;
    for (const [raw, value] of accepted) {
      it(`${name} accepts ${JSON.stringify(raw)}`, () => {
        expect(parseTopicConfig({ [name]: raw }, DEFAULT_LOG_CONFIG)[key]).toBe(value);
      });
    }
    for (const raw of rejected) {
      it(`${name} rejects ${JSON.stringify(raw)}, naming the setting and the value`, () => {
        const err = brokerError(() => parseTopicConfig({ [name]: raw }, DEFAULT_LOG_CONFIG));
        expect(err.code).toBe('INVALID_CONFIG');
        expect(err.message).toContain(`${name}: `);
        expect(err.message).toContain(typeof raw === 'string' ? `'${raw}'` : String(raw));
        expect(err.message).toMatch(/is not (an integer|one of|true or false)/);
      });
    }
  }

  it('gives the allowed range in the message', () => {
    const err = brokerError(() => parseTopicConfig({ 'segment.bytes': '10' }, DEFAULT_LOG_CONFIG));
    expect(err.message).toBe("segment.bytes: '10' is not an integer from 14 to 2147483647 (bytes)");
    expect(brokerError(() => parseTopicConfig({ 'flush.policy': 'x' }, DEFAULT_LOG_CONFIG)).message).toBe(
      "flush.policy: 'x' is not one of interval, always",
    );
  });

  it('rejects unknown names (also ones Kafka knows but Freshet does not implement), naming them', () => {
    for (const name of ['cleanup.policy', 'segmentBytes', '__proto__', 'constructor']) {
      const err = brokerError(() => parseTopicConfig(JSON.parse(`{"${name}": "1"}`), DEFAULT_LOG_CONFIG));
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.message).toContain(`unknown topic config '${name}'`);
      expect(err.message).toContain('segment.bytes');
    }
  });
});

describe('topicConfigEntries', () => {
  it('lists every setting by Kafka name, and parses back to the same config', () => {
    const config = logConfig({ retentionMs: -1, flushPolicy: 'always' });
    const entries = topicConfigEntries(config);
    expect(Object.keys(entries)).toEqual(Object.values(LOG_CONFIG_NAMES));
    expect(entries['retention.ms']).toBe(-1);
    expect(entries['flush.policy']).toBe('always');
    expect(parseTopicConfig(entries, DEFAULT_LOG_CONFIG)).toEqual(config);
  });
});

describe('formatWithUnit', () => {
  it('shows exact sizes and durations in larger units, and the "never" of long settings', () => {
    expect(formatWithUnit(1024 ** 3, 'bytes')).toBe('1073741824 (1 GiB)');
    expect(formatWithUnit(1048588, 'bytes')).toBe('1048588');
    expect(formatWithUnit(7 * 24 * 3600 * 1000, 'ms')).toBe('604800000 (7 d)');
    expect(formatWithUnit(-1, 'ms')).toBe('-1');
    expect(formatWithUnit(Number.MAX_SAFE_INTEGER, 'count')).toBe('never');
  });
});

describe('validateTopicName', () => {
  it("accepts Kafka's legal names, including internal-looking ones", () => {
    for (const name of [
      'a',
      'orders',
      'orders.v2',
      'my_topic-1',
      '__consumer_offsets',
      '...',
      'x'.repeat(249),
    ]) {
      expect(() => validateTopicName(name)).not.toThrow();
    }
  });

  const bad: Array<[string, RegExp]> = [
    ['', /it is empty/],
    ['.', /'\.' and '\.\.' are not allowed/],
    ['..', /'\.' and '\.\.' are not allowed/],
    ['x'.repeat(250), /250 characters long; the limit is 249/],
    ['my topic', /" " at position 2 is not allowed/],
    ['a/b', /"\/" at position 1/],
    ['tab\there', /"\\t" at position 3/],
    ['ünïcode', /"ü" at position 0/],
    ['a:b', /":" at position 1/],
  ];
  for (const [name, reason] of bad) {
    it(`rejects ${JSON.stringify(name.length > 20 ? `${name.slice(0, 20)}...` : name)} with the reason`, () => {
      const err = brokerError(() => validateTopicName(name));
      expect(err.code).toBe('INVALID_TOPIC_EXCEPTION');
      expect(err.message).toMatch(reason);
      expect(err.message.length).toBeLessThan(300);
    });
  }
});
