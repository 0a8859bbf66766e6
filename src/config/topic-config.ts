/**
 * @module
 * Per-topic settings by their Kafka names (`segment.bytes`, `retention.ms`, ...): the one table of what each
 * accepts (`LOG_SETTINGS`), parsing and validation of topic configs, the describe view, and topic-name rules.
 * The value parsers here (`intValue`, `enumValue`, ...) also serve `load-config.ts`, so a broker default
 * (`--segment-bytes`) and a topic override (`segment.bytes`) accept exactly the same values.
 */
import { BrokerError } from '../shared/errors.ts';
import { LOG_CONFIG_NAMES, type LogConfig } from './log-config.ts';

/** A raw setting as it arrives: a flag or environment string, a JSON value, or a Kafka API string. */
export type RawValue = string | number | boolean;

/** How one setting's values are read and checked. */
export interface ValueSpec<T> {
  /** What is allowed, completing "'x' is not ...": `an integer from 14 to 2147483647 (bytes)`. */
  readonly expected: string;
  /** How `--help` shows the value after the flag: `<bytes>`, `<ms>`, `<interval|always>`. */
  readonly placeholder: string;
  /** The value, or undefined when `raw` is not allowed. */
  parse(raw: RawValue): T | undefined;
  /** How a value is shown in help and messages (sizes in KiB/MiB/GiB, durations in s/min/h/d). */
  format(value: T): string;
}

export const INT32_MAX = 2 ** 31 - 1;
/** Kafka's Long.MAX_VALUE, which its tools use for "never" (`flush.ms`, `flush.messages`). */
const KAFKA_LONG_MAX = 2n ** 63n - 1n;

export type Unit = 'bytes' | 'ms' | 'count';

/**
 * An integer in [min, max]. Strings are trimmed and must be plain decimal integers (no `1e3`, no `12.0`),
 * as Kafka's own parsing. When `max` is `Number.MAX_SAFE_INTEGER` (a Kafka `long` setting), values above it
 * up to Long.MAX_VALUE are taken as MAX_SAFE_INTEGER: both mean "never" and a JavaScript number cannot hold
 * the larger ones exactly.
 */
export function intValue(
  min: number,
  max: number,
  unit: Unit,
  options: { expected?: string; placeholder?: string } = {},
): ValueSpec<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  return {
    expected:
      options.expected ?? (unit === 'count' ? range : `${range} (${unit === 'ms' ? 'milliseconds' : unit})`),
    placeholder: options.placeholder ?? (unit === 'count' ? '<n>' : `<${unit}>`),
    parse(raw) {
      let value: number;
      if (typeof raw === 'number') {
        if (!Number.isSafeInteger(raw)) return undefined;
        value = raw;
      } else if (typeof raw === 'string') {
        const text = raw.trim();
        if (!/^[-+]?\d{1,25}$/.test(text)) return undefined;
        const big = BigInt(text);
        if (max === Number.MAX_SAFE_INTEGER && big > BigInt(max) && big <= KAFKA_LONG_MAX) return max;
        if (big < BigInt(Number.MIN_SAFE_INTEGER) || big > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
        value = Number(big);
      } else {
        return undefined;
      }
      return value >= min && value <= max ? value : undefined;
    },
    format: (value) => formatWithUnit(value, unit),
  };
}

/** `true`/`false` (any case), `1`/`0`, or a JSON boolean. */
export function booleanValue(): ValueSpec<boolean> {
  return {
    expected: 'true or false',
    placeholder: '[true|false]',
    parse(raw) {
      if (typeof raw === 'boolean') return raw;
      const text = String(raw).trim().toLowerCase();
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      return undefined;
    },
    format: String,
  };
}

/** One of `values`, exactly (after trimming). */
export function enumValue<T extends string>(values: readonly T[]): ValueSpec<T> {
  return {
    expected: `one of ${values.join(', ')}`,
    placeholder: `<${values.join('|')}>`,
    parse(raw) {
      if (typeof raw !== 'string') return undefined;
      const text = raw.trim();
      return (values as readonly string[]).includes(text) ? (text as T) : undefined;
    },
    format: String,
  };
}

/** A string matching `pattern` after trimming (by default: anything but white space only). */
export function textValue(expected: string, placeholder: string, pattern = /\S/): ValueSpec<string> {
  return {
    expected,
    placeholder,
    parse: (raw) => (typeof raw === 'string' && pattern.test(raw.trim()) ? raw.trim() : undefined),
    format: String,
  };
}

/** `'abc'` for strings, as they were given; numbers and booleans bare. */
export function showRaw(raw: unknown): string {
  return typeof raw === 'string' ? `'${raw}'` : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
}

/** The one message shape for a rejected value: `segment.bytes: '10' is not an integer from 14 to ...`. */
export function invalidValueMessage(name: string, raw: unknown, spec: ValueSpec<unknown>): string {
  return `${name}: ${showRaw(raw)} is not ${spec.expected}`;
}

const SIZE_UNITS: Array<[number, string]> = [
  [1024 ** 3, 'GiB'],
  [1024 ** 2, 'MiB'],
  [1024, 'KiB'],
];
const DURATION_UNITS: Array<[number, string]> = [
  [24 * 3600 * 1000, 'd'],
  [3600 * 1000, 'h'],
  [60 * 1000, 'min'],
  [1000, 's'],
];

/** `1073741824 (1 GiB)`, `604800000 (7 d)`; MAX_SAFE_INTEGER, the "never" of long settings, as `never`. */
export function formatWithUnit(value: number, unit: Unit): string {
  if (value === Number.MAX_SAFE_INTEGER) return 'never';
  if (value <= 0 || unit === 'count') return String(value);
  const table = unit === 'bytes' ? SIZE_UNITS : DURATION_UNITS;
  for (const [size, name] of table) {
    if (value >= size && value % size === 0) return `${value} (${value / size} ${name})`;
  }
  return String(value);
}

export interface LogSetting<K extends keyof LogConfig = keyof LogConfig> {
  key: K;
  /** Kafka's name (`segment.bytes`), from LOG_CONFIG_NAMES. */
  name: string;
  spec: ValueSpec<LogConfig[K]>;
  /** One line for `--help`. */
  help: string;
}

function setting<K extends keyof LogConfig>(
  key: K,
  spec: ValueSpec<LogConfig[K]>,
  help: string,
): LogSetting<K> {
  return { key, name: LOG_CONFIG_NAMES[key], spec, help };
}

/**
 * Every topic setting, in describe order. Ranges are Kafka's (TopicConfig/LogConfig), except that
 * `retention.bytes` must be ≥ -1 (Kafka takes any negative as "no limit"; only -1 is documented) and
 * `int` settings stop at 2^31 - 1 as Kafka's do (segment positions are 32-bit in the offset index).
 */
export const LOG_SETTINGS: readonly LogSetting[] = Object.freeze([
  setting(
    'segmentBytes',
    intValue(14, INT32_MAX, 'bytes'),
    'roll the active segment when a batch would take it past this size',
  ),
  setting(
    'segmentMs',
    intValue(1, Number.MAX_SAFE_INTEGER, 'ms'),
    "roll when the active segment's first append is older than this",
  ),
  setting(
    'retentionMs',
    intValue(-1, Number.MAX_SAFE_INTEGER, 'ms'),
    'delete closed segments whose newest record is older than this; -1 keeps forever',
  ),
  setting(
    'retentionBytes',
    intValue(-1, Number.MAX_SAFE_INTEGER, 'bytes'),
    'delete the oldest closed segments while the log is larger than this; -1 = no limit',
  ),
  setting(
    'indexIntervalBytes',
    intValue(0, INT32_MAX, 'bytes'),
    'one sparse index entry per this many bytes of log',
  ),
  setting(
    'flushMessages',
    intValue(1, Number.MAX_SAFE_INTEGER, 'count'),
    'fsync after this many records (flush policy interval)',
  ),
  setting(
    'flushMs',
    intValue(0, Number.MAX_SAFE_INTEGER, 'ms'),
    'fsync when the oldest unflushed append is this old (flush policy interval)',
  ),
  setting(
    'flushPolicy',
    enumValue(['interval', 'always'] as const),
    'interval: acknowledge once written to the page cache; always: only after an fsync (group commit)',
  ),
  setting('maxMessageBytes', intValue(0, INT32_MAX, 'bytes'), 'the largest record batch accepted'),
  setting(
    'minInsyncReplicas',
    intValue(1, INT32_MAX, 'count'),
    'acks=all produce needs this many replicas in sync, else NOT_ENOUGH_REPLICAS (clusters)',
  ),
  setting(
    'uncleanLeaderElectionEnable',
    booleanValue(),
    'with no in-sync replica alive, elect an out-of-sync one: available again, but records may be lost (clusters)',
  ),
] as LogSetting[]);

const BY_NAME: ReadonlyMap<string, LogSetting> = new Map(LOG_SETTINGS.map((s) => [s.name, s]));

/**
 * Validates topic config overrides given by Kafka name and merges them over `defaults`. Throws
 * `INVALID_CONFIG` naming the first unknown setting or bad value (entries are checked in their own order).
 * Kafka configs Freshet does not implement (`cleanup.policy`, `compression.type`, ...) are unknown here:
 * accepting and ignoring them would promise behaviour the broker does not have.
 */
export function parseTopicConfig(
  entries: Readonly<Record<string, string | number>>,
  defaults: Readonly<LogConfig>,
): Readonly<LogConfig> {
  const config: Record<string, unknown> = { ...defaults };
  for (const [name, raw] of Object.entries(entries)) {
    const s = topicSetting(name);
    const value = s.spec.parse(raw);
    if (value === undefined) throw new BrokerError('INVALID_CONFIG', invalidValueMessage(name, raw, s.spec));
    config[s.key] = value;
  }
  return Object.freeze(config as unknown as LogConfig);
}

/**
 * A topic's overrides after `changes`: a value sets (or replaces) that override, `null` removes it, so the
 * setting goes back to the broker default (null for a setting with no override changes nothing). Throws
 * INVALID_CONFIG naming the first unknown setting (null or not) or bad value of `changes`, in their order,
 * then checks the whole result as `parseTopicConfig` does. The result never holds null.
 */
export function applyTopicConfigChanges(
  overrides: Readonly<Record<string, string | number>>,
  changes: Readonly<Record<string, string | number | null>>,
  defaults: Readonly<LogConfig>,
): Record<string, string | number> {
  for (const [name, raw] of Object.entries(changes)) {
    const s = topicSetting(name);
    if (raw !== null && s.spec.parse(raw) === undefined) {
      throw new BrokerError('INVALID_CONFIG', invalidValueMessage(name, raw, s.spec));
    }
  }
  // Spread and fromEntries define own properties, so a '__proto__' name can never reach a prototype.
  const merged = Object.fromEntries(
    Object.entries({ ...overrides, ...changes }).filter(([, raw]) => raw !== null),
  ) as Record<string, string | number>;
  parseTopicConfig(merged, defaults);
  return merged;
}

/** The topic setting called `name` (its Kafka name); INVALID_CONFIG when there is none. */
export function topicSetting(name: string): LogSetting {
  const s = BY_NAME.get(name);
  if (!s) {
    throw new BrokerError(
      'INVALID_CONFIG',
      `unknown topic config '${name}' (known: ${[...BY_NAME.keys()].join(', ')})`,
    );
  }
  return s;
}

/** Every setting of `config` by Kafka name, as DescribeConfigs and the HTTP API show them. */
export function topicConfigEntries(config: Readonly<LogConfig>): Record<string, string | number> {
  const entries: Record<string, string | number> = {};
  for (const s of LOG_SETTINGS) {
    const value = config[s.key];
    entries[s.name] = typeof value === 'boolean' ? String(value) : value;
  }
  return entries;
}

/** Kafka's limit: longer names would make `<topic>-<partition>` directories too long for some file systems. */
export const MAX_TOPIC_NAME_LENGTH = 249;

/**
 * Checks a topic name against Kafka's rules (`Topic.validate`): 1 to 249 characters of `[a-zA-Z0-9._-]`,
 * and not `.` or `..` (they would name the parent directories). Throws INVALID_TOPIC_EXCEPTION with the
 * reason. Names starting with `__` are allowed, as in Kafka, which reserves them only by convention for its
 * internal topics (`__consumer_offsets`); Freshet keeps its own metadata outside topics, so nothing clashes.
 */
export function validateTopicName(name: string): void {
  const fail = (reason: string): never => {
    const shown = typeof name === 'string' && name.length > 80 ? `${name.slice(0, 80)}...` : name;
    throw new BrokerError('INVALID_TOPIC_EXCEPTION', `invalid topic name ${showRaw(shown)}: ${reason}`);
  };
  if (typeof name !== 'string') fail('a topic name is a string');
  if (name.length === 0) fail('it is empty');
  if (name === '.' || name === '..') fail("'.' and '..' are not allowed");
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    fail(`it is ${name.length} characters long; the limit is ${MAX_TOPIC_NAME_LENGTH}`);
  }
  const bad = name.match(/[^a-zA-Z0-9._-]/);
  if (bad) {
    // JSON quoting shows white space and control characters visibly.
    const char = JSON.stringify(bad[0]);
    fail(`${char} at position ${bad.index} is not allowed (only ASCII letters, digits, '.', '_', '-')`);
  }
}
