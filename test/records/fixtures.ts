/**
 * @module
 * Shared test data for the records tests: realistic JSON-ish payloads and a seeded PRNG, so failures
 * reproduce.
 */

export { seededRandom } from '../support/seeded-random.ts';

const encoder = new TextEncoder();

export const utf8 = (s: string): Uint8Array => encoder.encode(s);

/** An event-like JSON document of about `size` bytes, varied by `random`. */
export function jsonRecord(random: () => number, size = 1024): Uint8Array {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india'];
  const doc: Record<string, unknown> = {
    id: Math.floor(random() * 1e9),
    type: words[Math.floor(random() * words.length)],
    ts: 1_700_000_000_000 + Math.floor(random() * 1e7),
    user: { name: `user-${Math.floor(random() * 5000)}`, score: Math.round(random() * 10000) / 100 },
    items: [] as unknown[],
  };
  const items = doc.items as unknown[];
  while (JSON.stringify(doc).length < size) {
    items.push({
      sku: `SKU-${Math.floor(random() * 99999)}`,
      qty: 1 + Math.floor(random() * 5),
      note: words[Math.floor(random() * words.length)],
    });
  }
  return utf8(JSON.stringify(doc).slice(0, size));
}

/** `count` bytes from `random`: incompressible. */
export function randomBytes(random: () => number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
