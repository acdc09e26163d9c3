/**
 * A linear softmax head trained in plain JavaScript on cached features: the head-only fine-tuning mode, where the
 * backbone is frozen so the features (and the validation prototypes) never change.
 */
export interface LinearHead {
  /** Number of classes K. */
  readonly numClasses: number;
  /** Feature dimension d. */
  readonly dim: number;
  /** Row-major [K, d]; logits = W·z + b. */
  readonly weight: Float64Array;
  /** `[K]`. */
  readonly bias: Float64Array;
}

/** logits = W·z + b for one feature vector `z` (at `offset` of `features`), written into `out`. */
export function headLogits(head: LinearHead, features: ArrayLike<number>, offset: number, out: Float64Array): void {
  const { numClasses: k, dim: d, weight, bias } = head;
  for (let c = 0; c < k; c++) {
    let s = bias[c]!;
    const row = c * d;
    for (let t = 0; t < d; t++) s += weight[row + t]! * features[offset + t]!;
    out[c] = s;
  }
}

/** In-place softmax of `logits`; returns the arg-max. */
export function softmaxInPlace(logits: Float64Array): number {
  let best = 0;
  for (let c = 1; c < logits.length; c++) if (logits[c]! > logits[best]!) best = c;
  const max = logits[best]!;
  let s = 0;
  for (let c = 0; c < logits.length; c++) {
    logits[c] = Math.exp(logits[c]! - max);
    s += logits[c]!;
  }
  for (let c = 0; c < logits.length; c++) logits[c]! /= s;
  return best;
}

/**
 * Probabilities and arg-max of the head on N cached feature vectors (row-major [N, d]).
 *
 * @example
 * {@includeCode ./examples.test.ts#headPredict}
 */
export function headPredict(head: LinearHead, features: Float32Array): {
  /** Softmax probabilities, row-major [N, K]. */
  probabilities: Float32Array;
  /** Arg-max classes, `[N]`. */
  predicted: Int32Array;
} {
  const n = features.length / head.dim;
  const k = head.numClasses;
  const probabilities = new Float32Array(n * k);
  const predicted = new Int32Array(n);
  const scratch = new Float64Array(k);
  for (let s = 0; s < n; s++) {
    headLogits(head, features, s * head.dim, scratch);
    predicted[s] = softmaxInPlace(scratch);
    probabilities.set(scratch, s * k);
  }
  return { probabilities, predicted };
}

/**
 * One SGD step (no momentum) of cross-entropy on mixed features z = λ·a + (1−λ)·b labelled `labels`:
 * ∂/∂W = (p − onehot)·zᵀ / B, ∂/∂b = (p − onehot) / B, weight decay on W only. Returns the mean loss.
 *
 * @param head - Updated in place.
 * @param first - Features of the first samples, row-major [N, d].
 * @param firstRows - Row of `first` of each pair, `[B]`.
 * @param partner - Features of the partners, row-major [M, d].
 * @param partnerRows - Row of `partner` of each pair, `[B]`.
 * @param lambdas - Mixup λ of each pair, `[B]`.
 * @param labels - Target class of each pair, `[B]`.
 * @param lr - Learning rate.
 * @param weightDecay - L2 weight decay of W.
 * @returns Mean cross-entropy of the batch before the step.
 *
 * @example
 * {@includeCode ./examples.test.ts#headSgdStep}
 */
export function headSgdStep(
  head: LinearHead,
  first: Float32Array,
  firstRows: Int32Array,
  partner: Float32Array,
  partnerRows: Int32Array,
  lambdas: Float64Array,
  labels: Int32Array,
  lr: number,
  weightDecay: number,
): number {
  const { numClasses: k, dim: d, weight, bias } = head;
  const batch = labels.length;
  const gradW = new Float64Array(k * d);
  const gradB = new Float64Array(k);
  const z = new Float64Array(d);
  const p = new Float64Array(k);
  let loss = 0;
  for (let s = 0; s < batch; s++) {
    const lam = lambdas[s]!;
    const a = firstRows[s]! * d;
    const b = partnerRows[s]! * d;
    for (let t = 0; t < d; t++) z[t] = lam * first[a + t]! + (1 - lam) * partner[b + t]!;
    headLogits(head, z, 0, p);
    softmaxInPlace(p);
    const y = labels[s]!;
    loss -= Math.log(Math.max(p[y]!, 1e-300));
    for (let c = 0; c < k; c++) {
      const g = p[c]! - (c === y ? 1 : 0);
      gradB[c]! += g;
      const row = c * d;
      for (let t = 0; t < d; t++) gradW[row + t]! += g * z[t]!;
    }
  }
  const scale = 1 / batch;
  for (let i = 0; i < weight.length; i++) weight[i]! -= lr * (gradW[i]! * scale + weightDecay * weight[i]!);
  for (let c = 0; c < k; c++) bias[c]! -= lr * gradB[c]! * scale;
  return loss * scale;
}
