import { SelmixError } from "@selmix/core";

/**
 * A K×K confusion matrix of non-negative weights, row-major: row `i` is the true class, column `j` the predicted
 * class. Entries may be counts or joint probabilities (summing to 1); every metric is invariant to the scale.
 */
export interface ConfusionMatrix {
  /** Number of classes K. */
  readonly numClasses: number;
  /** Entries, row-major [K, K]. */
  readonly values: Float64Array;
}

function checkEntries(values: ArrayLike<number>, k: number, name: string): void {
  for (let idx = 0; idx < values.length; idx++) {
    const v = values[idx]!;
    if (!Number.isFinite(v) || v < 0) {
      const i = Math.floor(idx / k);
      throw new SelmixError("INVALID_VALUE", `${name}[${i}][${idx - i * k}] must be finite and >= 0, got ${v}`);
    }
  }
}

/**
 * Validates a K×K array of rows (counts or joint probabilities) and copies it into a {@link ConfusionMatrix}.
 *
 * @param name - how the argument is named in error messages.
 * @throws `SelmixError` `INVALID_SHAPE` unless it is a square array with K >= 2;
 *   `INVALID_VALUE` if an entry is NaN, infinite or negative, or every entry is 0.
 * @example
 * {@includeCode ./examples.test.ts#confusionMatrix}
 */
export function confusionMatrix(rows: unknown, name = "confusion"): ConfusionMatrix {
  if (!Array.isArray(rows)) throw new SelmixError("INVALID_SHAPE", `${name} must be a K x K array of rows`);
  const k = rows.length;
  if (k < 2) throw new SelmixError("INVALID_SHAPE", `${name} must have at least 2 classes, got ${k}`);
  const values = new Float64Array(k * k);
  rows.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== k) {
      const got = Array.isArray(row) ? `${row.length} entries` : typeof row;
      throw new SelmixError("INVALID_SHAPE", `${name} row ${i} must have ${k} entries (K x K), got ${got}`);
    }
    row.forEach((v: unknown, j) => {
      if (typeof v !== "number") {
        throw new SelmixError("INVALID_VALUE", `${name}[${i}][${j}] must be a number, got ${JSON.stringify(v)}`);
      }
      values[i * k + j] = v;
    });
  });
  return fromValues(k, values, name);
}

/**
 * Wraps row-major K×K values (copied) as a {@link ConfusionMatrix} after validation.
 *
 * @param k - Number of classes K.
 * @param values - Entries, row-major [K, K].
 * @param name - Names the matrix in error messages.
 * Entries so large that their sum overflows a double are scaled by a power of two (exact; every metric is a ratio).
 *
 * @throws `SelmixError` `INVALID_SHAPE` if `values.length !== k * k` or k < 2; `INVALID_VALUE` as in
 *   {@link confusionMatrix}.
 * @example
 * {@includeCode ./examples.test.ts#fromValues}
 */
export function fromValues(k: number, values: ArrayLike<number>, name = "confusion"): ConfusionMatrix {
  if (!Number.isInteger(k) || k < 2) throw new SelmixError("INVALID_SHAPE", `${name} needs K >= 2 classes, got ${k}`);
  if (values.length !== k * k) {
    throw new SelmixError("INVALID_SHAPE", `${name} must have K*K = ${k * k} entries, got ${values.length}`);
  }
  checkEntries(values, k, name);
  const copy = Float64Array.from(values);
  if (copy.every((v) => v === 0)) throw new SelmixError("INVALID_VALUE", `${name} is all zeros`);
  return { numClasses: k, values: scaledToFinite(copy) };
}

/**
 * Counts whose sums overflow a double (entries near 1e308) would give recall 0 and accuracy NaN: such a matrix is
 * scaled in place by a power of two, which is exact and leaves every metric (all ratios) unchanged.
 */
function scaledToFinite(values: Float64Array): Float64Array {
  let total = 0;
  for (const v of values) total += v;
  if (Number.isFinite(total)) return values;
  const max = values.reduce((a, b) => Math.max(a, b), 0);
  const shift = Math.ceil(Math.log2(max)) + Math.ceil(Math.log2(values.length)) + 1; // total <= 2^-1 afterwards
  for (let i = 0; i < values.length; i++) values[i] = values[i]! * 2 ** -512 * 2 ** (512 - shift);
  return values;
}

/**
 * Counts of (true, predicted) pairs.
 *
 * @param yTrue - True class per sample, `[N]`.
 * @param yPred - Predicted class per sample, `[N]`.
 * @param numClasses - Number of classes K (>= 2).
 * @throws `SelmixError` `INVALID_SHAPE` if the arrays differ in length or are empty; `INVALID_VALUE` if a
 *   label is not an integer in [0, K).
 * @example
 * {@includeCode ./examples.test.ts#confusionFromPredictions}
 */
export function confusionFromPredictions(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  numClasses: number,
): ConfusionMatrix {
  if (yTrue.length !== yPred.length) {
    throw new SelmixError("INVALID_SHAPE", `yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  }
  if (yTrue.length === 0) throw new SelmixError("INVALID_SHAPE", "yTrue is empty");
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new SelmixError("INVALID_SHAPE", `numClasses must be an integer >= 2, got ${numClasses}`);
  }
  const values = new Float64Array(numClasses * numClasses);
  for (let n = 0; n < yTrue.length; n++) {
    const t = yTrue[n]!;
    const p = yPred[n]!;
    if (!(Number.isInteger(t) && t >= 0 && t < numClasses)) {
      throw new SelmixError("INVALID_VALUE", `yTrue[${n}] must be a class in [0, ${numClasses}), got ${t}`);
    }
    if (!(Number.isInteger(p) && p >= 0 && p < numClasses)) {
      throw new SelmixError("INVALID_VALUE", `yPred[${n}] must be a class in [0, ${numClasses}), got ${p}`);
    }
    values[t * numClasses + p]! += 1;
  }
  return { numClasses, values };
}

/**
 * The "soft" confusion matrix: row `y` accumulates the predicted probability vector of each sample of class y.
 * This is the differentiable C̃ of the SelMix paper.
 *
 * @param yTrue - True class per sample, `[N]`.
 * @param probabilities - row-major [N, K] predicted probabilities.
 * @param numClasses - Number of classes K.
 * @throws `SelmixError` `INVALID_SHAPE` / `INVALID_VALUE` on inconsistent sizes, bad labels or values.
 * @example
 * {@includeCode ./examples.test.ts#softConfusion}
 */
export function softConfusion(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number,
): ConfusionMatrix {
  const k = numClasses;
  if (probabilities.length !== yTrue.length * k) {
    throw new SelmixError("INVALID_SHAPE", `probabilities must have N*K = ${yTrue.length * k} entries, got ${probabilities.length}`);
  }
  const values = new Float64Array(k * k);
  for (let n = 0; n < yTrue.length; n++) {
    const t = yTrue[n]!;
    if (!(Number.isInteger(t) && t >= 0 && t < k)) {
      throw new SelmixError("INVALID_VALUE", `yTrue[${n}] must be a class in [0, ${k}), got ${t}`);
    }
    for (let j = 0; j < k; j++) values[t * k + j]! += probabilities[n * k + j]!;
  }
  return fromValues(k, values, "soft confusion");
}

/**
 * Total weight of the matrix.
 *
 * @example
 * {@includeCode ./examples.test.ts#total}
 */
export function total(cm: ConfusionMatrix): number {
  let s = 0;
  for (const v of cm.values) s += v;
  return s;
}

/**
 * The joint form: the same matrix divided by its total, so it sums to 1.
 *
 * @example
 * {@includeCode ./examples.test.ts#normalize}
 */
export function normalize(cm: ConfusionMatrix): ConfusionMatrix {
  const t = total(cm);
  return { numClasses: cm.numClasses, values: cm.values.map((v) => v / t) };
}

/**
 * Row sums (the class prior when the matrix is joint).
 *
 * @example
 * {@includeCode ./examples.test.ts#rowSums}
 */
export function rowSums(cm: ConfusionMatrix): Float64Array {
  const k = cm.numClasses;
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[i]! += cm.values[i * k + j]!;
  return out;
}

/**
 * Column sums.
 *
 * @example
 * {@includeCode ./examples.test.ts#columnSums}
 */
export function columnSums(cm: ConfusionMatrix): Float64Array {
  const k = cm.numClasses;
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[j]! += cm.values[i * k + j]!;
  return out;
}

/**
 * Per-class recall `C[i][i] / Σ_j C[i][j]`.
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples (an all-zero row): its recall is undefined,
 *   and silently treating it as 0 or 1 would bias every recall-based metric.
 * @example
 * {@includeCode ./examples.test.ts#recalls}
 */
export function recalls(cm: ConfusionMatrix): Float64Array {
  const k = cm.numClasses;
  const rows = rowSums(cm);
  return rows.map((r, i) => {
    if (r === 0) throw new SelmixError("EMPTY_CLASS", `class ${i} has no samples (row ${i} of the confusion matrix is all zeros)`);
    return cm.values[i * k + i]! / r;
  });
}

/**
 * Per-class coverage: the fraction of all samples predicted as class j (column sums of the joint matrix).
 *
 * @example
 * {@includeCode ./examples.test.ts#coverages}
 */
export function coverages(cm: ConfusionMatrix): Float64Array {
  const t = total(cm);
  return columnSums(cm).map((c) => c / t);
}

/**
 * Clips every entry to at least `floor` (the reference clips the joint matrix at 1e-7 before the gain).
 *
 * @example
 * {@includeCode ./examples.test.ts#clip}
 */
export function clip(cm: ConfusionMatrix, floor: number): ConfusionMatrix {
  return { numClasses: cm.numClasses, values: cm.values.map((v) => Math.max(v, floor)) };
}

/**
 * The matrix as an array of rows (for JSON).
 *
 * @example
 * {@includeCode ./examples.test.ts#toRows}
 */
export function toRows(cm: ConfusionMatrix): number[][] {
  const k = cm.numClasses;
  return Array.from({ length: k }, (_, i) => Array.from(cm.values.subarray(i * k, (i + 1) * k)));
}
