import { SelmixError } from "@selmix/core";
import { checkIndices, type Pool } from "./pool.ts";

/**
 * Model predictions for the samples of an unlabelled pool, one per index: either class scores, N×K row-major
 * (softmax probabilities; logits also work when no `threshold` is set), or the predicted classes themselves.
 */
export type PseudoLabelPredictions =
  | {
      /** Class scores, row-major [N, K]. */
      readonly probabilities: ArrayLike<number>;
      /** Number of classes K. */
      readonly numClasses: number;
    }
  | {
      /** Predicted class per sample, `[N]`. */
      readonly classes: ArrayLike<number>;
    };

/** Options of {@link pseudoLabelPool}. */
export interface PseudoLabelOptions {
  /**
   * Keep only the samples whose top probability is >= `threshold` (in [0, 1]); requires `probabilities`. Without it,
   * every sample is kept (the reference code's plain argmax).
   */
  readonly threshold?: number;
}

/**
 * Builds the partner {@link Pool} of unlabelled data from model predictions: each sample's class is the argmax of its
 * scores (the first one on ties), or the given predicted class.
 *
 * Pass predictions of the model, never ground truth: this is what keeps the semi-supervised sampler from seeing the
 * true labels of unlabelled data (the reference code's label leakage, SelMix §10.1). The function only sees what
 * it is given, so it cannot check where the numbers came from.
 *
 * @param indices - dataset indices of the unlabelled samples, in the order of `predictions`.
 * @param predictions - Model scores or predicted classes, one per index.
 * @param options - Confidence threshold.
 * @throws `SelmixError` `INVALID_SHAPE` if `predictions` do not have one row (or class) per index;
 *   `INVALID_VALUE` if `numClasses` is not an integer >= 1, a score is NaN or infinite, a predicted class is not an
 *   integer >= 0 (the sampler checks it is < K), `threshold` is outside [0, 1], or an index is negative;
 *   `INVALID_ARGUMENT` if `threshold` is given with `classes` (they carry no confidence).
 * @example
 * {@includeCode ./examples.test.ts#pseudoLabelPool}
 */
export function pseudoLabelPool(
  indices: Int32Array,
  predictions: PseudoLabelPredictions,
  options: PseudoLabelOptions = {},
): Pool {
  const { threshold } = options;
  checkIndices(indices, "indices");
  const n = indices.length;
  if ("classes" in predictions) {
    if (threshold !== undefined) {
      throw new SelmixError("INVALID_ARGUMENT", "threshold needs probabilities; predicted classes carry no confidence");
    }
    const { classes } = predictions;
    if (classes.length !== n) {
      throw new SelmixError(
        "INVALID_SHAPE",
        `predictions.classes must have one entry per index (${n}), got ${classes.length}`,
      );
    }
    const labels = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      const c = classes[s]!;
      if (!(Number.isInteger(c) && c >= 0 && c <= 0x7fffffff)) {
        throw new SelmixError("INVALID_VALUE", `predictions.classes[${s}] must be an integer >= 0, got ${c}`);
      }
      labels[s] = c;
    }
    return { indices: Int32Array.from(indices), labels };
  }

  const { probabilities: scores, numClasses: k } = predictions;
  if (!(Number.isSafeInteger(k) && k >= 1)) {
    throw new SelmixError("INVALID_VALUE", `predictions.numClasses must be an integer >= 1, got ${k}`);
  }
  if (scores.length !== n * k) {
    throw new SelmixError(
      "INVALID_SHAPE",
      `predictions.probabilities must have N*K = ${n}*${k} = ${n * k} entries, got ${scores.length}`,
    );
  }
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    throw new SelmixError("INVALID_VALUE", `threshold must be in [0, 1], got ${threshold}`);
  }
  const keptIndices = new Int32Array(n);
  const labels = new Int32Array(n);
  let kept = 0;
  for (let s = 0; s < n; s++) {
    const row = s * k;
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      const v = scores[row + c]!;
      if (!Number.isFinite(v)) {
        throw new SelmixError("INVALID_VALUE", `predictions.probabilities[${s}][${c}] must be finite, got ${v}`);
      }
      if (v > bestScore) {
        bestScore = v;
        best = c;
      }
    }
    if (threshold !== undefined && bestScore < threshold) continue;
    keptIndices[kept] = indices[s]!;
    labels[kept] = best;
    kept++;
  }
  return { indices: keptIndices.slice(0, kept), labels: labels.slice(0, kept) };
}
