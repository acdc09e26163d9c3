import * as tf from "@tensorflow/tfjs-core";

/**
 * Mean cross-entropy of `logits` [B, K] against integer `labels` [B]. With `logAdjustment` [K] (τ·log prior) added
 * to the logits it is the logit-adjusted loss of Menon et al. (the reference's LA, τ = 1).
 *
 * @param logits - `[B, K]`.
 * @param labels - Integer classes, `[B]`.
 * @param logAdjustment - Added to every row of the logits, `[K]`.
 *
 * @example
 * {@includeCode ./examples.test.ts#crossEntropy}
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, logAdjustment?: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const adjusted = logAdjustment === undefined ? logits : tf.add(logits, logAdjustment);
    const logp = tf.logSoftmax(adjusted);
    const oneHot = tf.oneHot(tf.cast(labels, "int32"), logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logp), 1)));
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
