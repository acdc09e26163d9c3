import * as tf from "@tensorflow/tfjs-core";

/**
 * Mean cross-entropy of `logits` [B, K] against integer `labels` [B]. With `logAdjustment` [K] (τ·log prior) added
 * to the logits it is the logit-adjusted loss of Menon et al. (the reference's LA, τ = 1). With `denominator` it
 * is the sum over the rows divided by it instead: one shard's share of a larger batch's mean (data parallel).
 *
 * @param logits - `[B, K]`.
 * @param labels - Integer classes, `[B]`.
 * @param logAdjustment - Added to every row of the logits, `[K]`.
 * @param denominator - Divide the sum by this instead of taking the mean.
 *
 * @example
 * {@includeCode ./examples.test.ts#crossEntropy}
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, logAdjustment?: tf.Tensor1D, denominator?: number): tf.Scalar {
  return tf.tidy(() => {
    const adjusted = logAdjustment === undefined ? logits : tf.add(logits, logAdjustment);
    const logp = tf.logSoftmax(adjusted);
    const oneHot = tf.oneHot(tf.cast(labels, "int32"), logits.shape[1]);
    const perRow = tf.sum(tf.mul(oneHot, logp), 1);
    return tf.neg(denominator === undefined ? tf.mean(perRow) : tf.div(tf.sum(perRow), denominator));
  });
}

/**
 * τ·log(class prior) from per-class counts (classes with no sample get log of a tiny prior).
 *
 * @example
 * {@includeCode ./examples.test.ts#logPriorAdjustment}
 */
export function logPriorAdjustment(counts: readonly number[], tau: number): Float32Array {
  const total = counts.reduce((a, b) => a + b, 0);
  return Float32Array.from(counts, (c) => tau * Math.log(Math.max(c, 1e-3) / total));
}

/**
 * Cross-entropy against a two-label soft target: `weights`·onehot(`labels`) + (1 − `weights`)·onehot(`partnerLabels`),
 * the label of a mixup or CutMix sample weighted by each image's share. Mean over rows, or the sum divided by
 * `denominator` (one shard's share of a larger batch).
 *
 * @param logits - `[B, K]`.
 * @param labels - x₁'s classes, `[B]`.
 * @param partnerLabels - x₂'s classes, `[B]`.
 * @param weights - x₁'s share of each row, `[B, 1]`.
 * @param denominator - Divide the sum by this instead of taking the mean.
 *
 * @example
 * {@includeCode ./examples.test.ts#mixedCrossEntropy}
 */
export function mixedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, partnerLabels: tf.Tensor1D, weights: tf.Tensor2D, denominator?: number): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const target = tf.add(tf.mul(weights, tf.oneHot(tf.cast(labels, "int32"), k)), tf.mul(tf.sub(1, weights), tf.oneHot(tf.cast(partnerLabels, "int32"), k)));
    const perRow = tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1);
    return tf.neg(denominator === undefined ? tf.mean(perRow) : tf.div(tf.sum(perRow), denominator));
  });
}
