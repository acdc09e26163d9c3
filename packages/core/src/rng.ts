import { SelmixError } from "./errors.ts";

/** A seeded source of randomness. Every stochastic function in `@selmix` takes one; none calls `Math.random`. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /**
   * Uniform integer in [0, n).
   *
   * @throws `SelmixError` `INVALID_VALUE` if `n` is not a positive integer.
   */
  int(n: number): number;
  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal draw (Box-Muller). */
  normal(): number;
  /** A new independent generator derived from this one's stream (for handing to a sub-task). */
  fork(): Rng;
  /** The 128-bit state, to save in a checkpoint and restore with {@link rngFromState}. */
  state(): readonly [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * xoshiro128** seeded through splitmix32: fast, 2^128 - 1 period, identical on every platform.
 *
 * @throws `SelmixError` `INVALID_VALUE` if `seed` is not a finite integer.
 * @example
 * {@includeCode ./examples.test.ts#createRng}
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new SelmixError("INVALID_VALUE", `seed must be an integer, got ${seed}`);
  const mix = splitmix32(seed ^ Math.floor(seed / 2 ** 32));
  return rngFromState([mix(), mix(), mix(), mix()]);
}

/**
 * Restores a generator saved with {@link Rng.state}.
 *
 * @example
 * {@includeCode ./examples.test.ts#rngFromState}
 */
export function rngFromState(saved: readonly [number, number, number, number]): Rng {
  const s = Uint32Array.from(saved);
  if (s[0] === 0 && s[1] === 0 && s[2] === 0 && s[3] === 0) s[0] = 1; // the all-zero state is a fixed point
  const nextU32 = (): number => {
    const s0 = s[0]!;
    const s1 = s[1]!;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = s[2]! ^ s0;
    s[3] = s[3]! ^ s1;
    s[1] = s1 ^ s[2]!;
    s[0] = s0 ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
  let spareNormal: number | undefined;
  const next = (): number => nextU32() / 4294967296;
  const rng: Rng = {
    next,
    int(n) {
      if (!(Number.isInteger(n) && n > 0)) throw new SelmixError("INVALID_VALUE", `n must be a positive integer, got ${n}`);
      return Math.floor(next() * n);
    },
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal() {
      if (spareNormal !== undefined) {
        const v = spareNormal;
        spareNormal = undefined;
        return v;
      }
      const u = 1 - next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spareNormal = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    fork: () => rngFromState([nextU32(), nextU32(), nextU32(), nextU32()]),
    state: () => [s[0]!, s[1]!, s[2]!, s[3]!] as const,
  };
  return rng;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Fisher-Yates shuffle of `items` in place; returns it.
 *
 * @example
 * {@includeCode ./examples.test.ts#shuffleInPlace}
 */
export function shuffleInPlace<
  T extends {
    /** Number of items. */
    length: number;
    [i: number]: unknown;
  },
>(items: T, rng: Rng): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}
