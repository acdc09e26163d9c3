import { SelmixError } from "@selmix/core";

/**
 * Per-class counts of a long-tailed profile, as in the paper's code (section 8.1 of the method notes), classes
 * sorted by frequency in label order (class 0 = head):
 *
 * - `ratio > 1`: `count_k = max(floor(head * gamma^k), floor(head / ratio))`,
 * - `ratio <= 1`: `count_k = min(floor(head * gamma^k), floor(head / ratio))` (uniform for 1, an inverted tail below),
 *
 * with `gamma = (1 / ratio)^(1 / (K - 1))` and `k = 0..K-1`. `gamma^k` is evaluated as `exp(-k ln(ratio) / (K - 1))`
 * (V8's fdlibm-based `exp`/`log`, identical on every platform). This reproduces every table of the method notes,
 * including the float artefact of the reference numpy code in the inverted profile (`(30, 0.01)` ends in 2999,
 * where a correctly rounded power would give 3000).
 *
 * @param head - count of class 0 (N1 or M1), an integer >= 0.
 * @param ratio - imbalance ratio rho = count_0 / count_{K-1}, > 0.
 * @param numClasses - K >= 2.
 * @throws `SelmixError` `INVALID_VALUE` if `head` is not a non-negative integer, `ratio` is not finite and
 *   > 0, or `numClasses` is not an integer >= 2.
 * @example
 * {@includeCode ./examples.test.ts#longTailCounts}
 */
export function longTailCounts(head: number, ratio: number, numClasses: number): number[] {
  if (!(Number.isSafeInteger(head) && head >= 0)) {
    throw new SelmixError("INVALID_VALUE", `head count must be an integer >= 0, got ${head}`);
  }
  if (!(Number.isFinite(ratio) && ratio > 0)) {
    throw new SelmixError("INVALID_VALUE", `imbalance ratio must be finite and > 0, got ${ratio}`);
  }
  if (!(Number.isSafeInteger(numClasses) && numClasses >= 2)) {
    throw new SelmixError("INVALID_VALUE", `numClasses must be an integer >= 2, got ${numClasses}`);
  }
  if (head === 0) return new Array<number>(numClasses).fill(0);
  const logStep = Math.log(ratio) / (numClasses - 1);
  const bound = Math.floor(head / ratio);
  const counts: number[] = [];
  for (let k = 0; k < numClasses; k++) {
    const raw = Math.floor(head * Math.exp(-k * logStep));
    counts.push(ratio > 1 ? Math.max(raw, bound) : Math.min(raw, bound));
  }
  return counts;
}
