import type { Rng } from "@selmix/core";

/**
 * Walker/Vose alias tables, several stored side by side in flat buffers: table `t` over `n` categories occupies
 * `prob[t*n .. t*n+n)` and `alias[t*n .. t*n+n)`. A draw costs two `rng.next()` calls whatever the outcome.
 */
export interface AliasBuffers {
  readonly prob: Float64Array;
  readonly alias: Int32Array;
  /** Scratch stacks of length `n`, reused across builds. */
  readonly small: Int32Array;
  readonly large: Int32Array;
}

/** Buffers for `tables` alias tables over `n` categories. */
export function aliasBuffers(n: number, tables: number): AliasBuffers {
  return {
    prob: new Float64Array(n * tables),
    alias: new Int32Array(n * tables),
    small: new Int32Array(n),
    large: new Int32Array(n),
  };
}

/**
 * Builds, in O(n), the alias table at offset `off` for the non-negative weights `w[wOff .. wOff+n)`, whose sum
 * `total` must be > 0. A zero weight gets acceptance probability exactly 0 and an alias with positive weight, so it
 * is never drawn.
 */
export function buildAlias(
  w: ArrayLike<number>,
  wOff: number,
  n: number,
  total: number,
  buf: AliasBuffers,
  off: number,
): void {
  const { prob, alias, small, large } = buf;
  let ns = 0;
  let nl = 0;
  let heaviest = 0;
  let heaviestWeight = -1;
  for (let i = 0; i < n; i++) {
    const wi = w[wOff + i]!;
    if (wi > heaviestWeight) {
      heaviestWeight = wi;
      heaviest = i;
    }
    const p = (wi * n) / total;
    prob[off + i] = p;
    alias[off + i] = i;
    if (p < 1) small[ns++] = i;
    else large[nl++] = i;
  }
  while (ns > 0 && nl > 0) {
    const s = small[--ns]!;
    const l = large[nl - 1]!;
    alias[off + s] = l;
    const rest = prob[off + l]! + prob[off + s]! - 1;
    prob[off + l] = rest;
    if (rest < 1) {
      nl--;
      small[ns++] = l;
    }
  }
  // Whatever is left over is 1 up to rounding, except that a zero weight must stay unreachable.
  while (nl > 0) prob[off + large[--nl]!] = 1;
  while (ns > 0) {
    const s = small[--ns]!;
    if (w[wOff + s]! > 0) {
      prob[off + s] = 1;
    } else {
      prob[off + s] = 0;
      alias[off + s] = heaviest;
    }
  }
}

/** One draw from the table at offset `off` over `n` categories. */
export function drawAlias(buf: AliasBuffers, off: number, n: number, rng: Rng): number {
  const c = Math.floor(rng.next() * n);
  return rng.next() < buf.prob[off + c]! ? c : buf.alias[off + c]!;
}
