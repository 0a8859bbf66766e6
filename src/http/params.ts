/**
 * @module
 * Path and query parameters, checked before any work: a bad number is INVALID_REQUEST naming the
 * parameter, a bad topic name INVALID_TOPIC_EXCEPTION, a bad `acks` INVALID_REQUIRED_ACKS.
 */
import { validateTopicName } from '../config/topic-config.ts';
import type { Acks } from '../ipc/engine.ts';
import { BrokerError } from '../shared/errors.ts';

/** The topic name of a path, checked by Kafka's rules (INVALID_TOPIC_EXCEPTION) before any lookup. */
export function checkTopicName(name: string): string {
  validateTopicName(name);
  return name;
}

export interface IntegerBounds {
  min?: number;
  max?: number;
}

/**
 * A decimal integer parameter (`name` is how the error names it). Only digits with an optional minus
 * sign: `Number()` would also take '', '0x10', '1e3' and ' 7 '.
 */
export function parseInteger(name: string, raw: string, bounds: IntegerBounds = {}): number {
  const min = bounds.min ?? Number.MIN_SAFE_INTEGER;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  const value = /^-?\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new BrokerError('INVALID_REQUEST', `parameter '${name}' must be ${range}, not '${raw}'`);
  }
  return value;
}

/** An optional integer query parameter: `fallback` when absent. */
export function integerQuery(
  query: (name: string) => string | undefined,
  name: string,
  fallback: number,
  bounds: IntegerBounds = {},
): number {
  const raw = query(name);
  return raw === undefined ? fallback : parseInteger(name, raw, bounds);
}

/** The `{p}` of a partition path. Range against the topic is the engine's check (404). */
export function parsePartition(raw: string): number {
  return parseInteger('partition', raw, { min: 0 });
}

/** `acks=0|1|all|-1`, default all (-1). */
export function parseAcks(raw: string | undefined): Acks {
  switch (raw) {
    case undefined:
    case 'all':
    case '-1':
      return -1;
    case '1':
      return 1;
    case '0':
      return 0;
    default:
      throw new BrokerError('INVALID_REQUIRED_ACKS', `acks must be 0, 1, all or -1, not '${raw}'`);
  }
}

/** A yes/no query parameter: absent, `false` or `0` is no; `true`, `1` or empty (`?name`) is yes. */
export function parseFlag(raw: string | undefined, name: string): boolean {
  if (raw === undefined || raw === 'false' || raw === '0') return false;
  if (raw === '' || raw === 'true' || raw === '1') return true;
  throw new BrokerError('INVALID_REQUEST', `parameter '${name}' must be true or false, not '${raw}'`);
}
