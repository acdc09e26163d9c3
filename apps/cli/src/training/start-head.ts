import { createRng } from "@selmix/core";
import { headSgdStep, type LinearHead, logPriorAdjustment } from "@selmix/trainers";

/** Settings of {@link fitStartHead}. */
export interface StartHeadOptions {
  /** SGD steps. @defaultValue 500 */
  readonly steps?: number;
  /** @defaultValue 256 */
  readonly batchSize?: number;
  /** Logit-adjustment strength τ. @defaultValue 1 */
  readonly tau?: number;
  readonly seed: number;
}

/** Largest eigenvalue of (1/n)·Σ x̃x̃ᵀ, x̃ = (x, 1), by power iteration on up to 2,000 rows. */
function largestEigenvalue(x: Float32Array, n: number, d: number): number {
  const rows = Math.min(n, 2000);
  let v = new Float64Array(d + 1).fill(1 / Math.sqrt(d + 1));
  let lambda = 1;
  for (let iter = 0; iter < 30; iter++) {
    const next = new Float64Array(d + 1);
    for (let s = 0; s < rows; s++) {
      let dot = v[d]!;
      for (let t = 0; t < d; t++) dot += x[s * d + t]! * v[t]!;
      for (let t = 0; t < d; t++) next[t]! += (dot * x[s * d + t]!) / rows;
      next[d]! += dot / rows;
    }
    lambda = Math.hypot(...next);
    if (!(lambda > 0)) return 1;
    v = next.map((a) => a / lambda);
  }
  return lambda;
}

/**
 * A starting head when none is given: logit-adjusted softmax regression (Menon et al.: cross-entropy on
 * W·z + b + τ·log π_y, so the head is not biased towards frequent classes), trained from zero by `steps` steps of
 * plain minibatch SGD on the standardised training features (step size 2/λ_max of their second-moment matrix,
 * weight decay 5e-4), then folded back to raw features: W = W'/σ, b = b' − W'·(μ/σ). Deterministic for a seed.
 */
export function fitStartHead(features: Float32Array, labels: Int32Array, numClasses: number, dim: number, options: StartHeadOptions): LinearHead {
  const n = labels.length;
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (let s = 0; s < n; s++) for (let t = 0; t < dim; t++) mean[t]! += features[s * dim + t]! / n;
  for (let s = 0; s < n; s++) for (let t = 0; t < dim; t++) std[t]! += (features[s * dim + t]! - mean[t]!) ** 2 / n;
  for (let t = 0; t < dim; t++) std[t] = std[t]! > 1e-12 ? Math.sqrt(std[t]!) : 1; // constant (e.g. dead ReLU) columns
  const x = new Float32Array(n * dim);
  for (let s = 0; s < n; s++) for (let t = 0; t < dim; t++) x[s * dim + t] = (features[s * dim + t]! - mean[t]!) / std[t]!;

  const counts = Array.from({ length: numClasses }, () => 0);
  for (const y of labels) counts[y]!++;
  const adjustment = logPriorAdjustment(counts, options.tau ?? 1);
  // Training W'·x + b' with b' = b + τ·log π gives b the gradient of the adjusted loss (the bias has no decay).
  const head: LinearHead = { numClasses, dim, weight: new Float64Array(numClasses * dim), bias: Float64Array.from(adjustment) };
  const lr = 2 / largestEigenvalue(x, n, dim);
  const rng = createRng(options.seed);
  const batch = Math.min(options.batchSize ?? 256, n);
  const ones = new Float64Array(batch).fill(1);
  for (let step = 0; step < (options.steps ?? 500); step++) {
    const rows = Int32Array.from({ length: batch }, () => rng.int(n));
    headSgdStep(head, x, rows, x, rows, ones, Int32Array.from(rows, (r) => labels[r]!), lr, 5e-4);
  }
  const weight = new Float64Array(numClasses * dim);
  const bias = new Float64Array(numClasses);
  for (let c = 0; c < numClasses; c++) {
    let shift = 0;
    for (let t = 0; t < dim; t++) {
      weight[c * dim + t] = head.weight[c * dim + t]! / std[t]!;
      shift += weight[c * dim + t]! * mean[t]!;
    }
    bias[c] = head.bias[c]! - adjustment[c]! - shift;
  }
  return { numClasses, dim, weight, bias };
}
