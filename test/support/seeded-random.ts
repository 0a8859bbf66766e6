/**
 * @module
 * Mulberry32, a tiny seeded PRNG, so tests and benchmarks generate the same bytes every run. For payloads
 * only, never for anything that needs real randomness.
 */

/** A generator of floats in [0, 1) (exact multiples of 2^-32) seeded with `seed`. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
