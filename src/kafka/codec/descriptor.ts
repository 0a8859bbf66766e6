/**
 * @module
 * The shape of the message descriptors that `scripts/generate-kafka-codecs.ts` writes into
 * `src/kafka/generated/messages.ts` from Kafka's JSON schemas, and the version-range helpers the codec
 * and the generator share. A descriptor is plain data: `message-codec.ts` interprets it for any version.
 *
 * Version ranges keep Kafka's spelling: `'3+'` (3 and later), `'1-4'`, `'0'` (one version) and `'none'`.
 */

/** A Kafka version range as written in the schemas. */
export type Versions = `${number}+` | `${number}-${number}` | `${number}` | 'none';

/** The scalar types of the schema language. `bool` is Kafka's `bool` (the README calls it boolean). */
export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

/** A field's type: a primitive, an array of primitives, a struct, or an array of structs. */
export type FieldType = PrimitiveType | `[]${PrimitiveType}` | 'struct' | '[]struct';

/** The JS value a schema `default` parses to (only custom defaults are written; see `defaultValue`). */
export type DefaultValue = number | boolean | string | null;

export interface FieldDescriptor {
  /** camelCase of the schema name (`ThrottleTimeMs` → `throttleTimeMs`): the property name. */
  readonly name: string;
  readonly type: FieldType;
  /** The versions the field is present in. */
  readonly versions: Versions;
  /** The versions in which null is allowed (strings, bytes, records, arrays, structs). */
  readonly nullableVersions?: Versions;
  /** The versions in which the field travels in the tagged-field section, under `tag`. */
  readonly taggedVersions?: Versions;
  readonly tag?: number;
  /** Overrides the message's flexible versions for this field's own encoding (RequestHeader.ClientId: 'none'). */
  readonly flexibleVersions?: Versions;
  /** A custom default from the schema, parsed (`'0x7fffffff'` → 2147483647, `'null'` → null). */
  readonly default?: DefaultValue;
  /** True when a non-default value may be dropped silently where the field is absent. */
  readonly ignorable?: boolean;
  /** The schema's struct name, for struct and struct-array fields (types and error messages). */
  readonly struct?: string;
  /** The struct's fields, for struct and struct-array fields (common structs already resolved). */
  readonly fields?: readonly FieldDescriptor[];
}

export type MessageKind = 'request' | 'response' | 'header' | 'data';

/** One schema file. `T` is the TypeScript type of the message's values (phantom: never set). */
export interface MessageDescriptor<T = unknown> {
  readonly apiKey?: number;
  readonly type: MessageKind;
  readonly name: string;
  readonly validVersions: Versions;
  readonly flexibleVersions: Versions;
  readonly fields: readonly FieldDescriptor[];
  readonly __value?: T;
}

/** The value type a descriptor describes. */
export type ValueOf<D> = D extends MessageDescriptor<infer T> ? T : never;

/** The highest version number the protocol can carry (versions are int16). */
export const MAX_VERSION = 0x7fff;

/** A parsed version range: `[min, max]` inclusive, or null for `'none'`. */
export type VersionBounds = readonly [number, number] | null;

const RANGE = /^(\d+)(?:(\+)|-(\d+))?$/;

/** Parses Kafka's version-range notation. Throws on anything else (a schema typo must not pass). */
export function parseVersions(text: string): VersionBounds {
  if (text === 'none') return null;
  const match = RANGE.exec(text);
  if (!match) throw new Error(`invalid version range '${text}'`);
  const min = Number(match[1]);
  const max = match[2] ? MAX_VERSION : match[3] !== undefined ? Number(match[3]) : min;
  if (max < min || max > MAX_VERSION) throw new Error(`invalid version range '${text}'`);
  return [min, max];
}

const boundsCache = new Map<string, VersionBounds>();

/** True when `version` lies in `range` (undefined and 'none' contain nothing). */
export function inVersions(range: Versions | undefined, version: number): boolean {
  if (range === undefined) return false;
  let bounds = boundsCache.get(range);
  if (bounds === undefined) {
    bounds = parseVersions(range);
    boundsCache.set(range, bounds);
  }
  return bounds !== null && version >= bounds[0] && version <= bounds[1];
}

/** The inclusive `[min, max]` of a message's valid versions. */
export function versionBounds(range: Versions): readonly [number, number] {
  const bounds = parseVersions(range);
  if (bounds === null) throw new Error(`version range '${range}' is empty`);
  return bounds;
}

/** The all-zero UUID, Kafka's default for uuid fields. */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * A fresh default value for a field, as Kafka's generated classes initialise it: the custom default when
 * the schema has one, else 0 / false / '' / empty bytes / the zero UUID / null records / an empty array /
 * a struct of defaults. Arrays, bytes and structs are new objects on every call.
 */
export function defaultValue(field: FieldDescriptor): unknown {
  if (field.default !== undefined) return field.default;
  switch (field.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'records':
      return null;
    case 'uuid':
      return ZERO_UUID;
    case 'struct':
      return defaultStruct(field.fields ?? []);
    default:
      return field.type.startsWith('[]') ? [] : 0;
  }
}

/** A struct whose every field holds its default. */
export function defaultStruct(fields: readonly FieldDescriptor[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) out[field.name] = defaultValue(field);
  return out;
}
