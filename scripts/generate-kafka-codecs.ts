/**
 * @module
 * `npm run generate:kafka`: reads Kafka's JSON message schemas in `protocol/kafka/message/` and writes
 * `src/kafka/generated/messages.ts`: a descriptor per message (plain data that `src/kafka/codec/` interprets
 * for every version) and a TypeScript interface per message, formatted with the project's Biome.
 *
 * The schemas are JSON with `//` comments (stripped here). Struct references are resolved (common structs
 * and structs declared once and reused by name), names become camelCase, custom defaults are parsed to JS
 * values, and anything the schema language does not define (an unknown type or key, a tag outside the
 * flexible versions) stops the generator rather than producing a codec that is quietly wrong.
 *
 * `generateKafkaCodecs()` returns the file's text without writing it, for test/kafka/generated.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MAX_VERSION, parseVersions, type VersionBounds } from '../src/kafka/codec/descriptor.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const SCHEMA_DIR = path.join(ROOT, 'protocol/kafka/message');
export const OUTPUT = path.join(ROOT, 'src/kafka/generated/messages.ts');

const PRIMITIVES = new Set([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'records',
  'uuid',
]);
const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};
const MESSAGE_KEYS = new Set([
  'apiKey',
  'type',
  'listeners',
  'name',
  'validVersions',
  'deprecatedVersions',
  'flexibleVersions',
  'latestVersionUnstable',
  'fields',
  'commonStructs',
]);
const FIELD_KEYS = new Set([
  'name',
  'type',
  'versions',
  'nullableVersions',
  'taggedVersions',
  'tag',
  'flexibleVersions',
  'default',
  'ignorable',
  'about',
  'mapKey',
  'entityType',
  'zeroCopy',
  'fields',
]);

interface SchemaField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  default?: string | number | boolean;
  ignorable?: boolean;
  about?: string;
  fields?: SchemaField[];
}

interface SchemaMessage {
  apiKey?: number;
  type: 'request' | 'response' | 'header' | 'data';
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: SchemaField[];
  commonStructs?: { name: string; versions: string; fields: SchemaField[] }[];
}

/** A field after resolution, ready to print. */
interface Field {
  name: string;
  type: string;
  struct?: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  default?: number | boolean | string | null;
  ignorable?: boolean;
  about?: string;
  fields?: Field[];
}

interface Message {
  apiKey?: number;
  type: SchemaMessage['type'];
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: Field[];
}

/** Removes `//` comments (outside strings) so the text parses as JSON. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return out;
}

export function loadSchemas(dir = SCHEMA_DIR): Message[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((file) => {
    const schema = JSON.parse(stripComments(readFileSync(path.join(dir, file), 'utf8'))) as SchemaMessage;
    try {
      return resolveMessage(schema);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`);
    }
  });
}

function resolveMessage(schema: SchemaMessage): Message {
  for (const key of Object.keys(schema)) if (!MESSAGE_KEYS.has(key)) throw new Error(`unknown key '${key}'`);
  parseVersions(schema.validVersions);
  parseVersions(schema.flexibleVersions);
  // Struct definitions by name: common structs, then every struct declared inline with its fields.
  const structs = new Map<string, SchemaField[]>();
  for (const common of schema.commonStructs ?? []) structs.set(common.name, common.fields);
  const collect = (fields: SchemaField[]) => {
    for (const field of fields) {
      if (!field.fields) continue;
      const name = field.type.replace(/^\[\]/, '');
      if (structs.has(name) && structs.get(name) !== field.fields)
        throw new Error(`struct ${name} declared twice`);
      structs.set(name, field.fields);
      collect(field.fields);
    }
  };
  collect(schema.fields);
  for (const common of schema.commonStructs ?? []) collect(common.fields);
  const flexible = parseVersions(schema.flexibleVersions);
  const resolve = (fields: SchemaField[], seen: string[]): Field[] =>
    fields.map((field) => resolveField(field, structs, flexible, seen, resolve));
  return {
    ...(schema.apiKey !== undefined ? { apiKey: schema.apiKey } : {}),
    type: schema.type,
    name: schema.name,
    validVersions: schema.validVersions,
    flexibleVersions: schema.flexibleVersions,
    fields: resolve(schema.fields, []),
  };
}

function resolveField(
  field: SchemaField,
  structs: Map<string, SchemaField[]>,
  flexible: VersionBounds,
  seen: string[],
  resolve: (fields: SchemaField[], seen: string[]) => Field[],
): Field {
  for (const key of Object.keys(field)) {
    if (!FIELD_KEYS.has(key)) throw new Error(`${field.name}: unknown key '${key}'`);
  }
  if (!field.versions) throw new Error(`${field.name}: no versions`);
  for (const range of [
    field.versions,
    field.nullableVersions,
    field.taggedVersions,
    field.flexibleVersions,
  ]) {
    if (range !== undefined) parseVersions(range);
  }
  const isArray = field.type.startsWith('[]');
  const element = isArray ? field.type.slice(2) : field.type;
  const out: Field = { name: camelCase(field.name), type: field.type, versions: field.versions };
  if (!PRIMITIVES.has(element)) {
    if (!/^[A-Z]\w*$/.test(element)) throw new Error(`${field.name}: unknown type '${field.type}'`);
    const structFields = field.fields ?? structs.get(element);
    if (!structFields) throw new Error(`${field.name}: struct ${element} is never defined`);
    if (seen.includes(element)) throw new Error(`${field.name}: struct ${element} contains itself`);
    out.type = isArray ? '[]struct' : 'struct';
    out.struct = element;
    out.fields = resolve(structFields, [...seen, element]);
  } else if (field.fields) throw new Error(`${field.name}: a ${field.type} cannot have fields`);
  if (field.nullableVersions !== undefined && field.nullableVersions !== 'none') {
    if (!isArray && !['string', 'bytes', 'records', 'uuid', 'struct'].includes(out.type)) {
      throw new Error(`${field.name}: a ${field.type} cannot be nullable`);
    }
    out.nullableVersions = field.nullableVersions;
  }
  if (field.tag !== undefined || field.taggedVersions !== undefined) {
    const tagged = parseVersions(field.taggedVersions ?? 'none');
    if (field.tag === undefined || tagged === null)
      throw new Error(`${field.name}: tag without taggedVersions`);
    if (tagged[1] !== MAX_VERSION) throw new Error(`${field.name}: taggedVersions must be open-ended`);
    if (flexible === null || tagged[0] < flexible[0])
      throw new Error(`${field.name}: tagged outside flexible versions`);
    out.taggedVersions = field.taggedVersions;
    out.tag = field.tag;
  }
  if (field.flexibleVersions !== undefined) out.flexibleVersions = field.flexibleVersions;
  if (field.default !== undefined) {
    const value = parseDefault(field, out.type);
    if (value !== naturalDefault(out.type)) out.default = value;
  }
  if (field.ignorable) out.ignorable = true;
  if (field.about) out.about = field.about;
  return out;
}

/** `ThrottleTimeMs` → `throttleTimeMs`, as Kafka's generator names its Java fields. */
export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function naturalDefault(type: string): number | boolean | string | null | undefined {
  if (type === 'bool') return false;
  if (type === 'string') return '';
  if (INT_RANGES[type] || type === 'float64') return 0;
  return undefined;
}

function parseDefault(field: SchemaField, type: string): number | boolean | string | null {
  const raw = field.default!;
  const text = String(raw);
  if (text === 'null') {
    if (
      type === 'string' ||
      type === 'bytes' ||
      type === 'records' ||
      type.startsWith('[]') ||
      type === 'struct'
    ) {
      return null;
    }
    throw new Error(`${field.name}: a ${type} cannot default to null`);
  }
  if (type === 'bool') {
    if (text !== 'true' && text !== 'false') throw new Error(`${field.name}: bad bool default '${text}'`);
    return text === 'true';
  }
  if (type === 'string') return text;
  if (type === 'float64') {
    const value = Number(text);
    if (Number.isNaN(value)) throw new Error(`${field.name}: bad float64 default '${text}'`);
    return value;
  }
  const range = INT_RANGES[type];
  if (!range) throw new Error(`${field.name}: a ${type} cannot have a custom default`);
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  const magnitude = /^0x[0-9a-f]+$/i.test(digits)
    ? Number.parseInt(digits.slice(2), 16)
    : /^0[0-7]+$/.test(digits)
      ? Number.parseInt(digits, 8)
      : /^\d+$/.test(digits)
        ? Number(digits)
        : Number.NaN;
  const value = negative ? -magnitude : magnitude;
  if (!Number.isInteger(value) || value < range[0] || value > range[1]) {
    throw new Error(`${field.name}: bad ${type} default '${text}'`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Printing

function literal(value: unknown): string {
  return typeof value === 'string'
    ? `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
    : String(value);
}

function printField(field: Field): string {
  const parts = [`name: ${literal(field.name)}`, `type: ${literal(field.type)}`];
  if (field.struct) parts.push(`struct: ${literal(field.struct)}`);
  parts.push(`versions: ${literal(field.versions)}`);
  if (field.nullableVersions) parts.push(`nullableVersions: ${literal(field.nullableVersions)}`);
  if (field.taggedVersions)
    parts.push(`taggedVersions: ${literal(field.taggedVersions)}`, `tag: ${field.tag}`);
  if (field.flexibleVersions) parts.push(`flexibleVersions: ${literal(field.flexibleVersions)}`);
  if (field.default !== undefined) parts.push(`default: ${literal(field.default)}`);
  if (field.ignorable) parts.push('ignorable: true');
  if (field.fields) parts.push(`fields: [${field.fields.map(printField).join(', ')}]`);
  return `{ ${parts.join(', ')} }`;
}

function printDescriptor(message: Message): string {
  const parts: string[] = [];
  if (message.apiKey !== undefined) parts.push(`apiKey: ${message.apiKey}`);
  parts.push(
    `type: ${literal(message.type)}`,
    `name: ${literal(message.name)}`,
    `validVersions: ${literal(message.validVersions)}`,
    `flexibleVersions: ${literal(message.flexibleVersions)}`,
    `fields: [${message.fields.map(printField).join(', ')}]`,
  );
  return `export const ${message.name}: MessageDescriptor<${message.name}> = { ${parts.join(', ')} };\n`;
}

type Bounds = readonly [number, number];

function intersect(a: Bounds, b: VersionBounds): Bounds | null {
  if (b === null) return null;
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo <= hi ? [lo, hi] : null;
}

function tsType(field: Field, scope: string): string {
  const element = field.type.replace(/^\[\]/, '');
  const base =
    element === 'struct'
      ? `${scope}${field.struct}`
      : element === 'bool'
        ? 'boolean'
        : element === 'string' || element === 'uuid'
          ? 'string'
          : element === 'bytes' || element === 'records'
            ? 'Uint8Array'
            : 'number';
  return field.type.startsWith('[]') ? `${base}[]` : base;
}

function comment(about: string | undefined, indent: string): string {
  return about ? `${indent}/** ${about.replaceAll('*/', '*\\/').replace(/\s+/g, ' ').trim()} */\n` : '';
}

/** Interface members for `fields`, present in `range` of the enclosing struct. */
function printMembers(fields: Field[], range: Bounds, scope: string, indent: string): string {
  let out = '';
  for (const field of fields) {
    const present = parseVersions(field.versions);
    const live = intersect(range, present);
    const always = live !== null && live[0] === range[0] && live[1] === range[1];
    const optional = !always || field.taggedVersions !== undefined;
    const nullable =
      field.type === 'records' ||
      (live !== null && intersect(live, parseVersions(field.nullableVersions ?? 'none')) !== null);
    out += comment(field.about, indent);
    out += `${indent}${field.name}${optional ? '?' : ''}: ${tsType(field, scope)}${nullable ? ' | null' : ''};\n`;
  }
  return out;
}

function printTypes(message: Message): string {
  const range = parseVersions(message.validVersions)!;
  const what = message.apiKey !== undefined ? `${message.type}, API key ${message.apiKey}` : message.type;
  let out = `/** ${message.name} (${what}; versions ${message.validVersions}, flexible ${message.flexibleVersions}). */\n`;
  out += `export interface ${message.name} {\n${printMembers(message.fields, range, `${message.name}.`, '  ')}}\n`;
  const structs: string[] = [];
  const printed = new Set<string>();
  const visit = (fields: Field[], within: Bounds) => {
    for (const field of fields) {
      if (!field.fields || printed.has(field.struct!)) continue;
      printed.add(field.struct!);
      const live = intersect(within, parseVersions(field.versions)) ?? within;
      structs.push(
        `${comment(field.about, '  ')}  export interface ${field.struct} {\n${printMembers(field.fields, live, '', '    ')}  }\n`,
      );
      visit(field.fields, live);
    }
  };
  visit(message.fields, range);
  if (structs.length > 0) out += `export namespace ${message.name} {\n${structs.join('')}}\n`;
  return out;
}

function apiName(message: Message): string {
  return message.name.replace(/(Request|Response)$/, '');
}

function printIndex(messages: Message[]): string {
  const requests = messages.filter((m) => m.type === 'request');
  const responses = messages.filter((m) => m.type === 'response');
  let out = '/** API keys by name. */\nexport const API_KEYS = {\n';
  for (const m of requests) out += `  ${apiName(m)}: ${m.apiKey},\n`;
  out += '} as const;\n\n';
  for (const [kind, list] of [
    ['Request', requests],
    ['Response', responses],
  ] as const) {
    out += `/** ${kind} types by API key. */\nexport interface ${kind}ByApiKey {\n`;
    for (const m of list) out += `  ${m.apiKey}: ${m.name};\n`;
    out += '}\n\n';
    out += `/** ${kind} descriptors by API key. */\nexport const ${kind.toUpperCase()}_DESCRIPTORS: {\n`;
    out += `  readonly [K in keyof ${kind}ByApiKey]: MessageDescriptor<${kind}ByApiKey[K]>;\n} = {\n`;
    for (const m of list) out += `  ${m.apiKey}: ${m.name},\n`;
    out += '};\n\n';
  }
  return out;
}

function order(message: Message): [number, number, string] {
  const rank = { header: 0, request: 1, response: 1, data: 2 }[message.type];
  return [rank, message.apiKey ?? 0, message.type === 'response' ? `~${message.name}` : message.name];
}

/** The generated file's text, formatted (nothing is written). */
export function generateKafkaCodecs(dir = SCHEMA_DIR): string {
  const messages = loadSchemas(dir).sort((a, b) => {
    const [ra, ka, na] = order(a);
    const [rb, kb, nb] = order(b);
    return ra - rb || ka - kb || (na < nb ? -1 : na > nb ? 1 : 0);
  });
  let text = '// generated by scripts/generate-kafka-codecs.ts — do not edit\n';
  text += '/**\n * @module\n';
  text +=
    ' * Descriptors and types of the Kafka messages in protocol/kafka/message/ (Apache Kafka 3.8.0 schemas,\n';
  text +=
    ' * Apache-2.0 data). Regenerate with `npm run generate:kafka`; src/kafka/codec/ interprets the descriptors.\n';
  text +=
    ' * int64 fields are numbers (see src/kafka/codec/reader.ts), uuids are `8-4-4-4-12` strings, bytes and\n';
  text +=
    ' * records are Uint8Array views. Decoded values have every field; optional ones are missing from some versions.\n */\n';
  text += "import type { MessageDescriptor } from '../codec/descriptor.ts';\n\n";
  for (const message of messages) text += `${printTypes(message)}\n${printDescriptor(message)}\n`;
  text += printIndex(messages);
  return format(text);
}

function format(text: string): string {
  const biome = path.join(ROOT, 'node_modules/.bin/biome');
  const result = spawnSync(biome, ['format', `--stdin-file-path=${path.relative(ROOT, OUTPUT)}`], {
    cwd: ROOT,
    input: text,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`biome format failed: ${result.stderr}${result.error ?? ''}`);
  return result.stdout;
}

if (import.meta.main) {
  const text = generateKafkaCodecs();
  writeFileSync(OUTPUT, text);
  console.log(`wrote ${path.relative(ROOT, OUTPUT)} (${text.split('\n').length} lines)`);
}
