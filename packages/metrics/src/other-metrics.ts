import { SelmixError } from "@selmix/core";
import { type ConfusionMatrix, columnSums, rowSums, total } from "./confusion.ts";

/**
 * Fraction of samples on the diagonal.
 *
 * @example
 * {@includeCode ./examples.test.ts#accuracy}
 */
export function accuracy(cm: ConfusionMatrix): number {
  const k = cm.numClasses;
  let trace = 0;
  for (let i = 0; i < k; i++) trace += cm.values[i * k + i]!;
  return trace / total(cm);
}

/**
 * ∂ accuracy / ∂C = (δ_ab − accuracy) / T.
 *
 * @example
 * {@includeCode ./examples.test.ts#accuracyGradient}
 */
export function accuracyGradient(cm: ConfusionMatrix): Float64Array {
  const k = cm.numClasses;
  const acc = accuracy(cm);
  const t = total(cm);
  const grad = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) grad[a * k + b] = ((a === b ? 1 : 0) - acc) / t;
  return grad;
}

function f1Parts(cm: ConfusionMatrix): { rows: Float64Array; cols: Float64Array } {
  const rows = rowSums(cm);
  rows.forEach((r, i) => {
    if (r === 0) throw new SelmixError("EMPTY_CLASS", `class ${i} has no samples (row ${i} of the confusion matrix is all zeros)`);
  });
  return { rows, cols: columnSums(cm) };
}

/**
 * Macro-averaged F1: mean over classes of 2·C[i][i] / (row_i + col_i).
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#macroF1}
 */
export function macroF1(cm: ConfusionMatrix): number {
  const k = cm.numClasses;
  const { rows, cols } = f1Parts(cm);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += (2 * cm.values[i * k + i]!) / (rows[i]! + cols[i]!);
  return sum / k;
}

/**
 * ∂ macroF1 / ∂C. With s_i = row_i + col_i and F_i = 2·C[i][i]/s_i, entry [a][b] touches s_a and s_b:
 * ∂/∂C[a][b] = (1/K)·(2δ_ab/s_a − F_a/s_a − F_b/s_b).
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#macroF1Gradient}
 */
export function macroF1Gradient(cm: ConfusionMatrix): Float64Array {
  const k = cm.numClasses;
  const { rows, cols } = f1Parts(cm);
  const s = rows.map((r, i) => r + cols[i]!);
  const f = s.map((si, i) => (2 * cm.values[i * k + i]!) / si);
  const grad = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      grad[a * k + b] = ((a === b ? 2 / s[a]! : 0) - f[a]! / s[a]! - f[b]! / s[b]!) / k;
    }
  }
  return grad;
}
