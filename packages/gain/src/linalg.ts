/**
 * out[i][j] = Σ_l a[i][l]·b[j][l] for row-major a [m, k] and b [n, k] (a product with b transposed, so both operands
 * are read along contiguous rows). Tiled so that a block of b's rows stays in cache while every row of a passes,
 * with a 2×2 register block in the inner loop.
 *
 * @param a - Row-major [m, k].
 * @param b - Row-major [n, k].
 * @param m - Rows of `a`.
 * @param n - Rows of `b`.
 * @param k - Columns of `a` and `b`.
 * @returns Row-major [m, n].
 * @example
 * {@includeCode ./examples.test.ts#matmulTransposed}
 */
export function matmulTransposed(a: Float64Array, b: Float64Array, m: number, n: number, k: number): Float64Array {
  const out = new Float64Array(m * n);
  const tile = Math.max(2, Math.floor(16384 / Math.max(k, 1)) & ~1); // ~128 KiB of b per tile
  for (let j0 = 0; j0 < n; j0 += tile) {
    const j1 = Math.min(n, j0 + tile);
    let i = 0;
    for (; i + 1 < m; i += 2) {
      const ra = i * k;
      const rb = ra + k;
      let j = j0;
      for (; j + 1 < j1; j += 2) {
        const ca = j * k;
        const cb = ca + k;
        let s00 = 0;
        let s01 = 0;
        let s10 = 0;
        let s11 = 0;
        for (let l = 0; l < k; l++) {
          const x0 = a[ra + l]!;
          const x1 = a[rb + l]!;
          const y0 = b[ca + l]!;
          const y1 = b[cb + l]!;
          s00 += x0 * y0;
          s01 += x0 * y1;
          s10 += x1 * y0;
          s11 += x1 * y1;
        }
        out[i * n + j] = s00;
        out[i * n + j + 1] = s01;
        out[(i + 1) * n + j] = s10;
        out[(i + 1) * n + j + 1] = s11;
      }
      for (; j < j1; j++) {
        out[i * n + j] = dot(a, ra, b, j * k, k);
        out[(i + 1) * n + j] = dot(a, rb, b, j * k, k);
      }
    }
    for (; i < m; i++) for (let j = j0; j < j1; j++) out[i * n + j] = dot(a, i * k, b, j * k, k);
  }
  return out;
}

function dot(a: Float64Array, oa: number, b: Float64Array, ob: number, k: number): number {
  let s = 0;
  for (let l = 0; l < k; l++) s += a[oa + l]! * b[ob + l]!;
  return s;
}

/**
 * Transpose of a row-major [rows, cols] matrix.
 *
 * @param a - Row-major [rows, cols].
 * @param rows - Rows of `a`.
 * @param cols - Columns of `a`.
 * @returns Row-major [cols, rows].
 * @example
 * {@includeCode ./examples.test.ts#transpose}
 */
export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j]!;
  return out;
}

/** Copy of any numeric array as Float64Array. */
export function toFloat64(a: ArrayLike<number>): Float64Array {
  return a instanceof Float64Array ? a : Float64Array.from(a);
}

/**
 * S = E1·E2ᵀ and N = P1·E2ᵀ + E1·Q2ᵀ in one pass (each pair of rows is loaded once for both), 2×2 register blocks,
 * tiled over j so a block of E2/Q2 rows stays in cache.
 */
export function fusedProducts(e1: Float64Array, p1: Float64Array, e2: Float64Array, q2: Float64Array, k: number): { s: Float64Array; n: Float64Array } {
  const s = new Float64Array(k * k);
  const n = new Float64Array(k * k);
  const tile = Math.max(2, Math.floor(8192 / k) & ~1);
  for (let j0 = 0; j0 < k; j0 += tile) {
    const j1 = Math.min(k, j0 + tile);
    for (let i = 0; i < k; i += 2) {
      const i2 = Math.min(i + 1, k - 1); // odd K: the last row pairs with itself and is written once
      const ra = i * k;
      const rb = i2 * k;
      for (let j = j0; j < j1; j += 2) {
        const jb = Math.min(j + 1, j1 - 1);
        const ca = j * k;
        const cb = jb * k;
        let s00 = 0;
        let s01 = 0;
        let s10 = 0;
        let s11 = 0;
        let n00 = 0;
        let n01 = 0;
        let n10 = 0;
        let n11 = 0;
        for (let l = 0; l < k; l++) {
          const ea = e1[ra + l]!;
          const eb = e1[rb + l]!;
          const pa = p1[ra + l]!;
          const pb = p1[rb + l]!;
          const fa = e2[ca + l]!;
          const fb = e2[cb + l]!;
          const qa = q2[ca + l]!;
          const qb = q2[cb + l]!;
          s00 += ea * fa;
          s01 += ea * fb;
          s10 += eb * fa;
          s11 += eb * fb;
          n00 += pa * fa + ea * qa;
          n01 += pa * fb + ea * qb;
          n10 += pb * fa + eb * qa;
          n11 += pb * fb + eb * qb;
        }
        s[ra + j] = s00;
        n[ra + j] = n00;
        s[ra + jb] = s01;
        n[ra + jb] = n01;
        s[rb + j] = s10;
        n[rb + j] = n10;
        s[rb + jb] = s11;
        n[rb + jb] = n11;
      }
    }
  }
  return { s, n };
}
