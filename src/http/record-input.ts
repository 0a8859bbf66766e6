/**
 * @module
 * Validates the `{records:[{key?, value, headers?, partition?, timestamp?}]}` body of a produce request and
 * turns it into RecordInputs. A bad record is INVALID_RECORD naming its index, so a client can find it in a
 * request of thousands.
 */
import type { RecordHeader, RecordInput } from '../records/record-batch.ts';
import { BrokerError } from '../shared/errors.ts';
import { bytesIn } from './codec.ts';

/** A record to produce, with the partition the client asked for, if any. */
export interface ProduceRecord extends RecordInput {
  partition?: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function invalid(index: number, message: string): BrokerError {
  return new BrokerError('INVALID_RECORD', `record ${index}: ${message}`);
}

function bytesField(
  value: unknown,
  format: 'json' | 'msgpack',
  index: number,
  field: string,
): Uint8Array | null {
  const bytes = bytesIn(value, format);
  if (bytes === undefined) {
    const allowed = format === 'json' ? 'a string, {"base64": "..."} or null' : 'bytes, a string or null';
    throw invalid(index, `${field} must be ${allowed}`);
  }
  return bytes;
}

function headersField(value: unknown, format: 'json' | 'msgpack', index: number): RecordHeader[] {
  if (!Array.isArray(value)) throw invalid(index, 'headers must be a list of {key, value}');
  return value.map((header, h) => {
    if (!isObject(header) || typeof header.key !== 'string') {
      throw invalid(index, `header ${h} must be {key: string, value}`);
    }
    return { key: header.key, value: bytesField(header.value ?? null, format, index, `header ${h} value`) };
  });
}

function parseRecord(raw: unknown, format: 'json' | 'msgpack', index: number): ProduceRecord {
  if (!isObject(raw))
    throw invalid(index, 'must be an object {key?, value, headers?, partition?, timestamp?}');
  if (!Object.hasOwn(raw, 'value') || raw.value === undefined) {
    throw invalid(index, 'value is required (null for a tombstone)');
  }
  const record: ProduceRecord = { value: bytesField(raw.value, format, index, 'value') };
  if (raw.key !== undefined) record.key = bytesField(raw.key, format, index, 'key');
  if (raw.headers !== undefined && raw.headers !== null)
    record.headers = headersField(raw.headers, format, index);
  if (raw.partition !== undefined && raw.partition !== null) {
    if (!Number.isSafeInteger(raw.partition)) throw invalid(index, 'partition must be an integer');
    record.partition = raw.partition as number;
  }
  if (raw.timestamp !== undefined && raw.timestamp !== null) {
    const timestamp = raw.timestamp;
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < -1) {
      throw invalid(index, 'timestamp must be an integer epoch-ms >= -1');
    }
    // -1 is Kafka's NO_TIMESTAMP: the broker stamps the record, as a producer does for a null timestamp.
    if (timestamp !== -1) record.timestamp = timestamp;
  }
  return record;
}

/** The records of a decoded produce body, in order. */
export function parseProduceBody(body: unknown, format: 'json' | 'msgpack'): ProduceRecord[] {
  if (!isObject(body) || !Array.isArray(body.records)) {
    throw new BrokerError(
      'INVALID_REQUEST',
      'the body must be {records: [{key?, value, headers?, partition?, timestamp?}]}',
    );
  }
  return body.records.map((raw, index) => parseRecord(raw, format, index));
}
