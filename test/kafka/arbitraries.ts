/**
 * @module
 * fast-check arbitraries derived from the message descriptors: a random value of any message at any
 * version (only the fields that version carries; tagged fields sometimes left out), and the value a decoder
 * must return for it (absent fields filled with their defaults).
 */
import fc from 'fast-check';
import {
  defaultValue,
  type FieldDescriptor,
  inVersions,
  type MessageDescriptor,
  versionBounds,
} from '../../src/kafka/codec/descriptor.ts';
import * as messages from '../../src/kafka/generated/messages.ts';

/** Every descriptor in the generated file. */
export const ALL_DESCRIPTORS: MessageDescriptor[] = (Object.values(messages) as unknown[]).filter(
  (v): v is MessageDescriptor => typeof v === 'object' && v !== null && 'validVersions' in v,
);

/** Every version of a descriptor. */
export function versionsOf(descriptor: MessageDescriptor): number[] {
  const [min, max] = versionBounds(descriptor.validVersions);
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

const BIG = new Uint8Array(1500).map((_, i) => i * 7);

function intArb(min: number, max: number): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: Math.max(min, -3), max: Math.min(max, 3) }),
    fc.constantFrom(min, max),
    fc.integer({ min, max }),
  );
}

const SCALARS: Record<string, () => fc.Arbitrary<unknown>> = {
  bool: () => fc.boolean(),
  int8: () => intArb(-128, 127),
  int16: () => intArb(-32768, 32767),
  uint16: () => intArb(0, 65535),
  int32: () => intArb(-(2 ** 31), 2 ** 31 - 1),
  uint32: () => intArb(0, 2 ** 32 - 1),
  int64: () => intArb(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  float64: () => fc.double(),
  string: () => fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 })),
  bytes: () => fc.uint8Array({ maxLength: 8 }),
  records: () => fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ maxLength: 24 }) }, fc.constant(BIG)),
  uuid: () => fc.oneof(fc.uuid(), fc.constant('00000000-0000-0000-0000-000000000000')),
};

function fieldArb(field: FieldDescriptor, version: number, flexible: boolean): fc.Arbitrary<unknown> {
  const element = field.type.replace(/^\[\]/, '');
  const one = element === 'struct' ? structArb(field.fields ?? [], version, flexible) : SCALARS[element]!();
  let arb: fc.Arbitrary<unknown> = field.type.startsWith('[]') ? fc.array(one, { maxLength: 3 }) : one;
  if (inVersions(field.nullableVersions, version)) arb = fc.option(arb, { nil: null, freq: 4 });
  return arb;
}

function structArb(
  fields: readonly FieldDescriptor[],
  version: number,
  flexible: boolean,
): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const optional: string[] = [];
  for (const field of fields) {
    if (!inVersions(field.versions, version)) continue;
    model[field.name] = fieldArb(field, version, flexible);
    if (flexible && inVersions(field.taggedVersions, version)) optional.push(field.name);
  }
  const required = Object.keys(model).filter((k) => !optional.includes(k));
  return fc.record(model, { requiredKeys: required }) as fc.Arbitrary<Record<string, unknown>>;
}

/** A random value of `descriptor` at `version`. */
export function messageArb(
  descriptor: MessageDescriptor,
  version: number,
): fc.Arbitrary<Record<string, unknown>> {
  return structArb(descriptor.fields, version, inVersions(descriptor.flexibleVersions, version));
}

/** What decoding the encoding of `value` must give: every field, absent and omitted ones as defaults. */
export function expectedDecode(
  fields: readonly FieldDescriptor[],
  version: number,
  value: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const v = value[field.name];
    if (!inVersions(field.versions, version) || v === undefined) {
      out[field.name] = defaultValue(field);
    } else if (field.type === 'struct' && v !== null) {
      out[field.name] = expectedDecode(field.fields ?? [], version, v as Record<string, unknown>);
    } else if (field.type === '[]struct' && v !== null) {
      out[field.name] = (v as Record<string, unknown>[]).map((e) =>
        expectedDecode(field.fields ?? [], version, e),
      );
    } else out[field.name] = v;
  }
  return out;
}

/** Concatenates writer chunks. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
