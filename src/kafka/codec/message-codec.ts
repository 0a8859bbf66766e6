/**
 * @module
 * Decodes and encodes any Kafka message at any of its versions by interpreting its descriptor
 * (`src/kafka/generated/messages.ts`), so no per-version code is written by hand.
 *
 * Per version the descriptor is compiled once into a plan (which fields are present, which travel in the
 * tagged section, which are compact or nullable) and cached. The rules, as Kafka's generated code has them:
 * - A field absent from the version decodes to its default; encoding a non-default value into a version
 *   that lacks the field throws UNSUPPORTED_VERSION unless the schema marks it `ignorable`.
 * - `undefined` in a value being encoded means "the default" (Kafka's objects start out as defaults).
 * - Flexible versions use compact strings/bytes/arrays and end every struct with a tagged-field section.
 *   A known tagged field is written only when it differs from its default, in tag order; unknown tags are
 *   skipped on decode (not kept), and a known one must fill exactly the bytes its size announces.
 * - null is accepted only where the version makes the field nullable, in both directions.
 * - Nullable (non-array) structs carry an int8 marker: -1 null, 1 present.
 *
 * Errors name the message, the version and the path of the field (`ProduceRequest v9:
 * topicData[0].partitionData[1].records: truncated bytes ...`).
 */
import { BrokerError, type ErrorName } from '../../shared/errors.ts';
import {
  defaultValue,
  type FieldDescriptor,
  inVersions,
  type MessageDescriptor,
  type PrimitiveType,
  versionBounds,
} from './descriptor.ts';
import type { Reader } from './reader.ts';
import { Writer } from './writer.ts';

const BOOL = 0;
const INT8 = 1;
const INT16 = 2;
const UINT16 = 3;
const INT32 = 4;
const UINT32 = 5;
const INT64 = 6;
const FLOAT64 = 7;
const STRING = 8;
const BYTES = 9;
const RECORDS = 10;
const UUID = 11;
const STRUCT = 12;
const ARRAY = 13;

const KINDS: Record<PrimitiveType, number> = {
  bool: BOOL,
  int8: INT8,
  int16: INT16,
  uint16: UINT16,
  int32: INT32,
  uint32: UINT32,
  int64: INT64,
  float64: FLOAT64,
  string: STRING,
  bytes: BYTES,
  records: RECORDS,
  uuid: UUID,
};
/** Encoded sizes of the fixed-width kinds, indexed by kind. */
const FIXED_SIZE = [1, 1, 2, 2, 4, 4, 8, 8, 0, 0, 0, 16];

const REGULAR = 0;
const TAGGED = 1;
const ABSENT = 2;

interface FieldPlan {
  readonly field: FieldDescriptor;
  readonly key: string;
  readonly mode: number;
  readonly kind: number;
  /** The element kind of an array. */
  readonly item: number;
  readonly compact: boolean;
  readonly nullable: boolean;
  readonly tag: number;
  /** The struct (or array element struct) plan, when present in this version. */
  readonly struct: StructPlan | null;
  /** The fewest bytes one array element can take, for the bound on counts. */
  readonly minItemSize: number;
}

interface StructPlan {
  readonly fields: readonly FieldPlan[];
  /** Tagged fields of this version, sorted by tag. */
  readonly tagged: readonly FieldPlan[];
  readonly byTag: ReadonlyMap<number, FieldPlan>;
  readonly flexible: boolean;
  readonly minSize: number;
}

const plans = new WeakMap<MessageDescriptor, Map<number, StructPlan>>();

function planFor(descriptor: MessageDescriptor, version: number): StructPlan {
  let byVersion = plans.get(descriptor);
  if (!byVersion) {
    byVersion = new Map();
    plans.set(descriptor, byVersion);
  }
  let plan = byVersion.get(version);
  if (!plan) {
    if (!inVersions(descriptor.validVersions, version)) {
      throw new BrokerError(
        'UNSUPPORTED_VERSION',
        `${descriptor.name} v${version} is outside its versions ${descriptor.validVersions}`,
      );
    }
    plan = compileStruct(descriptor.fields, version, inVersions(descriptor.flexibleVersions, version));
    byVersion.set(version, plan);
  }
  return plan;
}

function compileStruct(fields: readonly FieldDescriptor[], version: number, flexible: boolean): StructPlan {
  const compiled: FieldPlan[] = [];
  for (const field of fields) compiled.push(compileField(field, version, flexible));
  const tagged = compiled.filter((p) => p.mode === TAGGED).sort((a, b) => a.tag - b.tag);
  let minSize = flexible ? 1 : 0;
  for (const p of compiled) if (p.mode === REGULAR) minSize += minFieldSize(p);
  return { fields: compiled, tagged, byTag: new Map(tagged.map((p) => [p.tag, p])), flexible, minSize };
}

function compileField(field: FieldDescriptor, version: number, flexible: boolean): FieldPlan {
  const present = inVersions(field.versions, version);
  const tagged = present && field.tag !== undefined && inVersions(field.taggedVersions, version);
  if (tagged && !flexible) throw new Error(`${field.name}: tagged in v${version}, which is not flexible`);
  const isArray = field.type.startsWith('[]');
  const elementType = (isArray ? field.type.slice(2) : field.type) as PrimitiveType | 'struct';
  const item = elementType === 'struct' ? STRUCT : KINDS[elementType];
  const struct = present && item === STRUCT ? compileStruct(field.fields ?? [], version, flexible) : null;
  const compact =
    flexible && (field.flexibleVersions === undefined || inVersions(field.flexibleVersions, version));
  return {
    field,
    key: field.name,
    mode: tagged ? TAGGED : present ? REGULAR : ABSENT,
    kind: isArray ? ARRAY : item,
    item,
    compact,
    nullable: inVersions(field.nullableVersions, version),
    tag: field.tag ?? -1,
    struct,
    minItemSize: minElementSize(item, compact, struct),
  };
}

function minElementSize(item: number, compact: boolean, struct: StructPlan | null): number {
  if (item === STRUCT) return struct?.minSize ?? 0;
  if (item === STRING) return compact ? 1 : 2;
  if (item === BYTES || item === RECORDS) return compact ? 1 : 4;
  return FIXED_SIZE[item]!;
}

function minFieldSize(p: FieldPlan): number {
  switch (p.kind) {
    case ARRAY:
      return p.compact ? 1 : 4;
    case STRUCT:
      return p.nullable ? 1 : (p.struct?.minSize ?? 0);
    case STRING:
      return p.compact ? 1 : 2;
    case BYTES:
    case RECORDS:
      return p.compact ? 1 : 4;
    default:
      return FIXED_SIZE[p.kind]!;
  }
}

// ---------------------------------------------------------------------------------------------------
// Errors carry the field path up to the top, where it becomes one readable message.

class CodecError extends Error {
  readonly path: string[] = [];
  constructor(
    readonly code: ErrorName,
    readonly detail: string,
  ) {
    super(detail);
  }
}

function atPath(err: unknown, segment: string): CodecError {
  const codecError =
    err instanceof CodecError
      ? err
      : err instanceof BrokerError
        ? new CodecError(err.code, err.message)
        : new CodecError('UNKNOWN_SERVER_ERROR', err instanceof Error ? err.message : String(err));
  codecError.path.unshift(segment);
  return codecError;
}

function finalError(err: unknown, descriptor: MessageDescriptor, version: number): unknown {
  if (!(err instanceof CodecError)) return err;
  const path = err.path.join('.').replaceAll('.[', '[');
  return new BrokerError(err.code, `${descriptor.name} v${version}: ${path}: ${err.detail}`);
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/**
 * Reads one `descriptor` message at `version` from the reader's position. Fields the version lacks come
 * back as their defaults, so every property of the type is set. Leaves the reader after the message.
 */
export function decodeMessage<T>(descriptor: MessageDescriptor<T>, version: number, reader: Reader): T {
  const plan = planFor(descriptor, version);
  try {
    return decodeStruct(plan, reader) as T;
  } catch (err) {
    throw finalError(err, descriptor, version);
  }
}

function decodeStruct(plan: StructPlan, r: Reader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = plan.fields;
  let segment = '';
  try {
    for (let i = 0; i < fields.length; i++) {
      const p = fields[i]!;
      segment = p.key;
      out[p.key] = p.mode === REGULAR ? readField(p, r) : defaultValue(p.field);
    }
    if (plan.flexible) {
      segment = '(tagged fields)';
      const count = r.uvarint();
      for (let i = 0; i < count; i++) {
        const tag = r.uvarint();
        const size = r.uvarint();
        r.need(size, `tagged field ${tag}`);
        const p = plan.byTag.get(tag);
        if (!p) {
          r.pos += size;
          continue;
        }
        segment = p.key;
        const outerEnd = r.end;
        const fieldEnd = r.pos + size;
        r.end = fieldEnd;
        out[p.key] = readField(p, r);
        if (r.pos !== fieldEnd) {
          throw new BrokerError(
            'INVALID_REQUEST',
            `tagged field ${tag} left ${fieldEnd - r.pos} of its ${size} bytes unread`,
          );
        }
        r.end = outerEnd;
        segment = '(tagged fields)';
      }
    }
  } catch (err) {
    throw atPath(err, segment);
  }
  return out;
}

function readField(p: FieldPlan, r: Reader): unknown {
  switch (p.kind) {
    case ARRAY: {
      const count = p.compact ? r.compactArrayLength(p.minItemSize) : r.arrayLength(p.minItemSize);
      if (count < 0) return nullOrThrow(p);
      const out: unknown[] = [];
      if (p.item === STRUCT) {
        let i = 0;
        try {
          for (; i < count; i++) out.push(decodeStruct(p.struct!, r));
        } catch (err) {
          throw atPath(err, `[${i}]`);
        }
      } else {
        for (let i = 0; i < count; i++) {
          const item = readScalar(p.item, p.compact, r);
          if (item === null) throw new BrokerError('INVALID_REQUEST', `null element at [${i}]`);
          out.push(item);
        }
      }
      return out;
    }
    case STRUCT:
      if (p.nullable && r.int8() < 0) return null;
      return decodeStruct(p.struct!, r);
    default: {
      const value = readScalar(p.kind, p.compact, r);
      return value === null && !p.nullable ? nullOrThrow(p) : value;
    }
  }
}

function readScalar(kind: number, compact: boolean, r: Reader): unknown {
  switch (kind) {
    case BOOL:
      return r.bool();
    case INT8:
      return r.int8();
    case INT16:
      return r.int16();
    case UINT16:
      return r.uint16();
    case INT32:
      return r.int32();
    case UINT32:
      return r.uint32();
    case INT64:
      return r.int64();
    case FLOAT64:
      return r.float64();
    case STRING:
      return compact ? r.compactNullableString() : r.nullableString();
    case BYTES:
    case RECORDS:
      return compact ? r.compactNullableBytes() : r.nullableBytes();
    case UUID:
      return r.uuid();
    default:
      throw new Error(`kind ${kind} is not a scalar`);
  }
}

function nullOrThrow(p: FieldPlan): null {
  if (p.nullable) return null;
  throw new BrokerError('INVALID_REQUEST', 'null in a version where the field is not nullable');
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/** Writes `value` as one `descriptor` message at `version` (no size prefix, no header). */
export function encodeMessage<T>(
  descriptor: MessageDescriptor<T>,
  version: number,
  value: T,
  writer: Writer,
): void {
  const plan = planFor(descriptor, version);
  try {
    encodeStruct(plan, value, writer);
  } catch (err) {
    throw finalError(err, descriptor, version);
  }
}

function encodeStruct(plan: StructPlan, value: unknown, w: Writer): void {
  if (value === null || typeof value !== 'object') {
    throw new BrokerError(
      'UNKNOWN_SERVER_ERROR',
      `expected an object, got ${value === null ? 'null' : typeof value}`,
    );
  }
  const record = value as Record<string, unknown>;
  let segment = '';
  try {
    for (const p of plan.fields) {
      segment = p.key;
      const v = record[p.key];
      if (p.mode === REGULAR) writeField(p, v === undefined ? defaultFor(p) : v, w);
      else if (p.mode === ABSENT && v !== undefined && !p.field.ignorable && !isDefault(p.field, v)) {
        throw new BrokerError(
          'UNSUPPORTED_VERSION',
          'a non-default value for a field this version does not have',
        );
      }
    }
    if (plan.flexible && plan.tagged.length === 0) w.uvarint(0);
    else if (plan.flexible) {
      segment = '(tagged fields)';
      const present = plan.tagged.filter((p) => {
        const v = record[p.key];
        return v !== undefined && !isDefault(p.field, v);
      });
      w.uvarint(present.length);
      for (const p of present) {
        segment = p.key;
        const scratch = new Writer({ initialCapacity: 64 });
        writeField(p, record[p.key], scratch);
        w.uvarint(p.tag);
        w.uvarint(scratch.length);
        for (const chunk of scratch.finish()) w.raw(chunk);
      }
    }
  } catch (err) {
    throw atPath(err, segment);
  }
}

function writeField(p: FieldPlan, v: unknown, w: Writer): void {
  switch (p.kind) {
    case ARRAY: {
      if (v === null) {
        nullOrThrowOnEncode(p);
        if (p.compact) w.compactArrayLength(-1);
        else w.arrayLength(-1);
        return;
      }
      if (!Array.isArray(v))
        throw new BrokerError('UNKNOWN_SERVER_ERROR', `expected an array, got ${typeof v}`);
      if (p.compact) w.compactArrayLength(v.length);
      else w.arrayLength(v.length);
      let i = 0;
      try {
        if (p.item === STRUCT) for (; i < v.length; i++) encodeStruct(p.struct!, v[i], w);
        else
          for (; i < v.length; i++) {
            if (v[i] === null) throw new BrokerError('UNKNOWN_SERVER_ERROR', 'array elements cannot be null');
            writeScalar(p.item, p.compact, v[i], w);
          }
      } catch (err) {
        throw atPath(err, `[${i}]`);
      }
      return;
    }
    case STRUCT:
      if (p.nullable) {
        w.int8(v === null ? -1 : 1);
        if (v === null) return;
      }
      encodeStruct(p.struct!, v, w);
      return;
    default:
      if (v === null) nullOrThrowOnEncode(p);
      writeScalar(p.kind, p.compact, v, w);
  }
}

function writeScalar(kind: number, compact: boolean, v: unknown, w: Writer): void {
  switch (kind) {
    case BOOL:
      w.bool(v as boolean);
      return;
    case INT8:
      w.int8(v as number);
      return;
    case INT16:
      w.int16(v as number);
      return;
    case UINT16:
      w.uint16(v as number);
      return;
    case INT32:
      w.int32(v as number);
      return;
    case UINT32:
      w.uint32(v as number);
      return;
    case INT64:
      w.int64(v as number);
      return;
    case FLOAT64:
      w.float64(v as number);
      return;
    case STRING:
      if (compact) w.compactNullableString(v as string | null);
      else w.nullableString(v as string | null);
      return;
    case BYTES:
    case RECORDS:
      if (compact) w.compactNullableBytes(v as Uint8Array | null);
      else w.nullableBytes(v as Uint8Array | null);
      return;
    case UUID:
      w.uuid(v as string);
      return;
    default:
      throw new Error(`kind ${kind} is not a scalar`);
  }
}

function nullOrThrowOnEncode(p: FieldPlan): void {
  if (!p.nullable)
    throw new BrokerError('UNKNOWN_SERVER_ERROR', 'null in a version where the field is not nullable');
}

/** The value an omitted field is written as: its default, or an empty one where null is not allowed. */
function defaultFor(p: FieldPlan): unknown {
  const value = defaultValue(p.field);
  if (value !== null || p.nullable) return value;
  return p.kind === ARRAY
    ? []
    : p.kind === STRING
      ? ''
      : p.kind === BYTES || p.kind === RECORDS
        ? new Uint8Array(0)
        : value;
}

/** True when `value` equals the field's default (structs: every field is default or undefined). */
export function isDefault(field: FieldDescriptor, value: unknown): boolean {
  if (field.type === 'struct') {
    if (value === null) return field.default === null;
    if (typeof value !== 'object') return false;
    const record = value as Record<string, unknown>;
    return (field.fields ?? []).every((f) => record[f.name] === undefined || isDefault(f, record[f.name]));
  }
  const fallback = defaultValue(field);
  if (value === null || fallback === null) return value === fallback;
  if (Array.isArray(value)) return value.length === 0 && Array.isArray(fallback);
  if (value instanceof Uint8Array) return value.length === 0 && fallback instanceof Uint8Array;
  return value === fallback;
}

// ---------------------------------------------------------------------------------------------------
// Versioned data (the consumer-protocol blobs inside JoinGroup / SyncGroup)

/**
 * Reads a `data` message prefixed with its int16 version, as the consumer protocol's member metadata and
 * assignments are. Like Kafka's ConsumerProtocol, a version newer than the schema knows is read with the
 * newest known layout and the bytes after it are ignored (newer versions only append fields).
 */
export function decodeVersionedData<T>(
  descriptor: MessageDescriptor<T>,
  reader: Reader,
): { version: number; value: T } {
  const version = reader.int16();
  if (version < 0)
    throw new BrokerError('INVALID_REQUEST', `${descriptor.name}: negative version ${version}`);
  const layout = Math.min(version, versionBounds(descriptor.validVersions)[1]);
  return { version, value: decodeMessage(descriptor, layout, reader) };
}

/** Writes an int16 version and then the `data` message at that version. */
export function encodeVersionedData<T>(
  descriptor: MessageDescriptor<T>,
  version: number,
  value: T,
  writer: Writer,
): void {
  writer.int16(version);
  encodeMessage(descriptor, version, value, writer);
}
