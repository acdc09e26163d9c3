import { SelmixError } from "@selmix/core";

/** What the scores of {@link ScoredSet} are: raw logits, or softmax probabilities (their logarithm is used). */
export type ScoreSpace = "logits" | "probabilities";

/** A labelled set scored by a model (the validation set when fitting). */
export interface ScoredSet {
  /** Scores, row-major [N, K]: logits or probabilities (see `space`). */
  readonly scores: ArrayLike<number>;
  /** True class per sample, `[N]`. */
  readonly labels: ArrayLike<number>;
  /** Number of classes K (>= 2). */
  readonly numClasses: number;
  /** @defaultValue `"logits"` */
  readonly space?: ScoreSpace;
}

/**
 * Probabilities below this are raised to it before the logarithm: a float32 softmax underflows to 0 for confident
 * samples, and log 0 would make their prediction immune to every offset.
 *
 * @example
 * {@includeCode ./examples.test.ts#PROBABILITY_FLOOR}
 */
export const PROBABILITY_FLOOR = 1e-30;

/** Scores without labels: what applying an adjustment needs (test data, unlabelled data). */
export type Scores = Omit<ScoredSet, "labels">;

/**
 * The scores as float64 logits (the logarithm of probabilities, floored at {@link PROBABILITY_FLOOR}), validated.
 *
 * @param set - Scores, K and their space.
 * @returns Row-major [N, K] log-scores: an additive offset on them is a multiplicative weight on probabilities.
 * @throws `SelmixError` `INVALID_SHAPE` for inconsistent sizes or N = 0; `INVALID_VALUE` for a non-finite score or
 *   a probability outside [0, 1].
 * @example
 * {@includeCode ./examples.test.ts#logScores}
 */
export function logScores(set: Scores): Float64Array {
  const k = set.numClasses;
  if (!(Number.isInteger(k) && k >= 2)) throw new SelmixError("INVALID_SHAPE", `numClasses must be an integer >= 2, got ${k}`);
  const n = Math.floor(set.scores.length / k);
  if (n === 0 || set.scores.length !== n * k) {
    throw new SelmixError("INVALID_SHAPE", `scores must have N*K entries with N >= 1 and K = ${k}, got ${set.scores.length}`);
  }
  const probabilities = (set.space ?? "logits") === "probabilities";
  const out = new Float64Array(n * k);
  for (let idx = 0; idx < out.length; idx++) {
    const v = set.scores[idx]!;
    if (!Number.isFinite(v) || (probabilities && (v < 0 || v > 1))) {
      const what = probabilities ? "a probability in [0, 1]" : "finite";
      throw new SelmixError("INVALID_VALUE", `scores[${Math.floor(idx / k)}][${idx % k}] must be ${what}, got ${v}`);
    }
    out[idx] = probabilities ? Math.log(Math.max(v, PROBABILITY_FLOOR)) : v;
  }
  return out;
}

/** Validated labels of a scored set with `n` rows. */
export function checkedLabels(labels: ArrayLike<number>, n: number, k: number): Int32Array {
  if (labels.length !== n) throw new SelmixError("INVALID_SHAPE", `scores have ${n} rows but labels have ${labels.length} entries`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < k)) throw new SelmixError("INVALID_VALUE", `labels[${i}] must be a class in [0, ${k}), got ${y}`);
    out[i] = y;
  }
  return out;
}

/** Arg-max of every row of `logs + offsets`, ties to the lower class index (as the trainers' `predict`). */
export function argmaxWithOffsets(logs: Float64Array, offsets: ArrayLike<number>): Int32Array {
  const k = offsets.length;
  const n = logs.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestValue = logs[i * k]! + offsets[0]!;
    for (let c = 1; c < k; c++) {
      const v = logs[i * k + c]! + offsets[c]!;
      if (v > bestValue) {
        best = c;
        bestValue = v;
      }
    }
    out[i] = best;
  }
  return out;
}

/**
 * The prediction of every sample after the adjustment: arg-max over classes of log-score + offset (ties to the lower
 * class index, like the trainers' `predict`). On probabilities this is arg-max of p_c·exp(offset_c).
 *
 * @param set - Scores (logits or probabilities) and K.
 * @param offsets - One additive logit offset per class, `[K]` (a fitted adjustment's `offsets`).
 * @returns The adjusted prediction per sample, `[N]`.
 * @throws `SelmixError` `INVALID_SHAPE` if there are not K offsets or the scores are not N×K; `INVALID_VALUE` as
 *   {@link logScores}, or for a non-finite offset.
 * @example
 * {@includeCode ./examples.test.ts#adjustedPredictions}
 */
export function adjustedPredictions(set: Scores, offsets: ArrayLike<number>): Int32Array {
  if (offsets.length !== set.numClasses) throw new SelmixError("INVALID_SHAPE", `expected K = ${set.numClasses} offsets, got ${offsets.length}`);
  for (let c = 0; c < offsets.length; c++) {
    if (!Number.isFinite(offsets[c]!)) throw new SelmixError("INVALID_VALUE", `offsets[${c}] must be finite, got ${offsets[c]}`);
  }
  return argmaxWithOffsets(logScores(set), offsets);
}
