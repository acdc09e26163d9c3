import { SelmixError } from "@selmix/core";
import {
  type ClassPrior,
  CONFUSION_CLIP,
  type ConfusionMatrix,
  type Linearization,
  normalize,
  type Objective,
  type ObjectiveState,
  rowSums,
} from "@selmix/metrics";
import { toFloat64, transpose } from "./linalg.ts";
import { type Kernels, selectKernels } from "./wasm-kernels.ts";

/** The validation-time state the gain is computed from. */
export interface GainInputs {
  /** Validation confusion matrix (counts or joint; rows = true class). Argmax by default; pass a soft one for the paper's C̃. */
  readonly confusion: ConfusionMatrix;
  /** Class prototypes z_k, row-major [K, dim]. */
  readonly prototypes: ArrayLike<number>;
  /** Linear head weights, row-major [K, dim] (row l = class l). */
  readonly weights: ArrayLike<number>;
  /** Linear head bias [K]. */
  readonly bias: ArrayLike<number>;
  /** Feature dimension d. */
  readonly dim: number;
  /** The objective ψ whose gain is computed. */
  readonly objective: Objective;
  /** Multipliers from the previous refresh. */
  readonly state?: ObjectiveState;
}

/** Switches between the reference implementation's numbers (defaults) and the paper's exact variants. */
export interface GainOptions {
  /** Mixup λ ~ U(lambdaMin, 1); the gain uses its mean λ̄ = (lambdaMin + 1) / 2. @defaultValue 0.6 */
  readonly lambdaMin?: number;
  /**
   * Target-class term of the logit change: `"reference"` uses z_i·z_q (the released code), `"exact"` the mixed
   * prototype z̃_ij·z_q (the exact cross-entropy gradient). @defaultValue "reference"
   */
  readonly targetTerm?: "reference" | "exact";
  /**
   * The class prior π: `"uniform"` hard-codes 1/π_q = K (the reference, exact on a balanced validation set),
   * `"validation"` uses the matrix's row sums, both in the gain rate and in the objective's derivative D
   * (passed to `objective.linearize`), so the gain stays first-order exact on an imbalanced validation set.
   * @defaultValue "uniform"
   */
  readonly prior?: ClassPrior;
  /** Entries of the joint confusion matrix are clipped to at least this before the gain rate. @defaultValue 1e-7 */
  readonly clip?: number;
  /**
   * What runs the matrix products: `"wasm"` the WebAssembly SIMD kernels (throws `BACKEND_UNAVAILABLE` where
   * WebAssembly SIMD is missing), `"js"` the plain JS ones, `"auto"` wasm where available, else JS. The results
   * agree to rounding (only the summation order differs). @defaultValue "auto"
   */
  readonly kernels?: "auto" | "js" | "wasm";
}

/** The gain and what produced it. */
export interface GainResult {
  /** G, row-major [K, K]: first-order gain of ψ from SGD on (i, j) feature mixups labelled i. */
  readonly gain: Float64Array;
  /** The objective's linearisation (carry `linearization.state` to the next refresh). */
  readonly linearization: Linearization;
  /** How many entries fell back to the streaming softmax because the factorised sum under/overflowed. */
  readonly fallbackEntries: number;
}

interface Prepared {
  readonly k: number;
  readonly lambdaBar: number;
  /** Y = ZZ·M [K, K]. */
  readonly y: Float64Array;
  /** L = Z·Wᵀ [K, K]: logits of each prototype without bias. */
  readonly logits: Float64Array;
  readonly bias: Float64Array;
  readonly exact: boolean;
  readonly linearization: Linearization;
  readonly kernels: Kernels;
}

function checkArray(name: string, a: ArrayLike<number>, length: number, shape: string): void {
  if (a.length !== length) throw new SelmixError("INVALID_SHAPE", `${name} must be ${shape} = ${length} values, got ${a.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) throw new SelmixError("INVALID_VALUE", `${name} contains ${a[i]} at index ${i}`);
  }
}

/** M[q][l] = Cc[q][l]·(D[q][l] − (1/π_q)·Σ_j D[q][j]·Cc[q][j]) / n: ∂ψ/∂(logit l at prototype q). */
function gainRate(joint: ConfusionMatrix, lin: Linearization, options: GainOptions): Float64Array {
  const k = joint.numClasses;
  const floor = options.clip ?? CONFUSION_CLIP;
  const d = lin.derivative;
  if (d.length !== k * k) throw new SelmixError("INVALID_SHAPE", `objective derivative must have K*K = ${k * k} entries, got ${d.length}`);
  const prior = rowSums(joint);
  const m = new Float64Array(k * k);
  for (let q = 0; q < k; q++) {
    let inv = k;
    if (options.prior === "validation") {
      if (prior[q] === 0) throw new SelmixError("EMPTY_CLASS", `class ${q} has no validation samples, so its prior is 0`);
      inv = 1 / prior[q]!;
    }
    let dot = 0;
    for (let j = 0; j < k; j++) dot += d[q * k + j]! * Math.max(joint.values[q * k + j]!, floor);
    for (let l = 0; l < k; l++) {
      const c = Math.max(joint.values[q * k + l]!, floor);
      m[q * k + l] = (c * (d[q * k + l]! - inv * dot)) / lin.normalizer;
    }
  }
  return m;
}

function prepare(inputs: GainInputs, options: GainOptions): Prepared {
  const k = inputs.confusion.numClasses;
  const dim = inputs.dim;
  if (!(Number.isInteger(dim) && dim > 0)) throw new SelmixError("INVALID_SHAPE", `dim must be a positive integer, got ${dim}`);
  checkArray("prototypes", inputs.prototypes, k * dim, `K x dim = ${k} x ${dim}`);
  checkArray("head weights", inputs.weights, k * dim, `K x dim = ${k} x ${dim}`);
  checkArray("head bias", inputs.bias, k, "K");
  const kernels = selectKernels(options.kernels);
  const { matmulTransposed } = kernels;
  const lambdaMin = options.lambdaMin ?? 0.6;
  if (!(lambdaMin >= 0 && lambdaMin <= 1)) throw new SelmixError("INVALID_VALUE", `lambda min must be in [0, 1], got ${lambdaMin}`);
  const joint = normalize(inputs.confusion);
  const linearization = inputs.objective.linearize(joint, inputs.state, { prior: options.prior ?? "uniform" });
  const m = gainRate(joint, linearization, options);
  const z = toFloat64(inputs.prototypes);
  const w = toFloat64(inputs.weights);
  const logits = matmulTransposed(z, w, k, k, dim);
  let y: Float64Array;
  const mt = transpose(m, k, k);
  if (dim < k) {
    // Y = Z·(Zᵀ·M) costs 2·K²·d instead of K²·d + K³ (ZZ then ZZ·M), less when d < K.
    const zt = transpose(z, k, dim);
    const ztm = matmulTransposed(zt, mt, dim, k, k); // [d, K]
    y = matmulTransposed(z, transpose(ztm, dim, k), k, k, dim);
  } else {
    y = matmulTransposed(matmulTransposed(z, z, k, k, dim), mt, k, k, k);
  }
  return { k, lambdaBar: (lambdaMin + 1) / 2, y, logits, bias: toFloat64(inputs.bias), exact: options.targetTerm === "exact", linearization, kernels };
}

/** The target-class term: Y[i][i] (reference) or λ̄·Y[i][i] + (1−λ̄)·Y[j][i] (exact). */
function targetTerm(p: Prepared, i: number, j: number): number {
  const yii = p.y[i * p.k + i]!;
  return p.exact ? p.lambdaBar * yii + (1 - p.lambdaBar) * p.y[j * p.k + i]! : yii;
}

/** One entry by the streaming form: softmax of the mixed prototype's logits, no factorisation. */
function streamingEntry(p: Prepared, i: number, j: number, scratch: Float64Array): number {
  const { k, lambdaBar: lb, logits, bias, y } = p;
  let max = Number.NEGATIVE_INFINITY;
  for (let l = 0; l < k; l++) {
    const a = lb * logits[i * k + l]! + (1 - lb) * logits[j * k + l]! + bias[l]!;
    scratch[l] = a;
    if (a > max) max = a;
  }
  let s = 0;
  let n = 0;
  for (let l = 0; l < k; l++) {
    const e = Math.exp(scratch[l]! - max);
    s += e;
    n += e * (lb * y[i * k + l]! + (1 - lb) * y[j * k + l]!);
  }
  return targetTerm(p, i, j) - n / s;
}

/**
 * The SelMix gain matrix by the streaming form (section 13.1 of the method notes): K³ exponentials. Slower than
 * {@link gainMatrix} but with no factorisation; kept as the reference the fast form is tested against.
 *
 * @throws `SelmixError` `INVALID_SHAPE` / `INVALID_VALUE` for inputs of the wrong size or with NaN; `EMPTY_CLASS` with `prior: "validation"` when a class has no validation samples; `BACKEND_UNAVAILABLE` with `kernels: "wasm"` where WebAssembly SIMD is missing.
 * @example
 * {@includeCode ./examples.test.ts#gainMatrixStreaming}
 */
export function gainMatrixStreaming(inputs: GainInputs, options: GainOptions = {}): GainResult {
  const p = prepare(inputs, options);
  const gain = new Float64Array(p.k * p.k);
  const scratch = new Float64Array(p.k);
  for (let i = 0; i < p.k; i++) for (let j = 0; j < p.k; j++) gain[i * p.k + j] = streamingEntry(p, i, j, scratch);
  return { gain, linearization: p.linearization, fallbackEntries: 0 };
}

/**
 * The SelMix gain matrix G (K×K): G[i][j] estimates the first-order change of the objective ψ when the next SGD
 * steps train the linear head on feature mixups λ·z_i + (1−λ)·z_j labelled i.
 *
 * Cost O(K²·d + K³) time, O(K² + K·d) memory. The softmax of the mixed prototype's logits factorises into a part
 * of i and a part of j, so the K³ part is plain matrix products with no K³ exponentials:
 * E1[i][l] = exp(λ̄(L[i][l] − max_l L[i]) + b_l − max b), E2[j][l] = exp((1−λ̄)(L[j][l] − max_l L[j])),
 * S = E1·E2ᵀ, N = (E1∘λ̄Y)·E2ᵀ + E1·(E2∘(1−λ̄)Y)ᵀ, G[i][j] = target(i, j) − N[i][j]/S[i][j].
 * Entries where S under/overflows (logit gaps in the hundreds) are recomputed by the streaming form.
 *
 * With the default options the numbers equal the reference implementation's.
 *
 * @throws `SelmixError` `INVALID_SHAPE` / `INVALID_VALUE` for inputs of the wrong size or with NaN;
 *   `EMPTY_CLASS` with `prior: "validation"` when a class has no validation samples.
 * @example
 * {@includeCode ./examples.test.ts#gainMatrix}
 * @throws `SelmixError` `BACKEND_UNAVAILABLE` with `kernels: "wasm"` where WebAssembly SIMD is missing.
 */
export function gainMatrix(inputs: GainInputs, options: GainOptions = {}): GainResult {
  const p = prepare(inputs, options);
  const { k, lambdaBar: lb, logits, bias, y } = p;
  let biasMax = Number.NEGATIVE_INFINITY;
  for (const v of bias) biasMax = Math.max(biasMax, v);
  const e1 = new Float64Array(k * k);
  const e2 = new Float64Array(k * k);
  const p1 = new Float64Array(k * k); // E1 ∘ λ̄Y
  const q2 = new Float64Array(k * k); // E2 ∘ (1−λ̄)Y
  for (let i = 0; i < k; i++) {
    let rowMax = Number.NEGATIVE_INFINITY;
    for (let l = 0; l < k; l++) rowMax = Math.max(rowMax, logits[i * k + l]!);
    for (let l = 0; l < k; l++) {
      const idx = i * k + l;
      const centred = logits[idx]! - rowMax;
      e1[idx] = Math.exp(lb * centred + bias[l]! - biasMax);
      e2[idx] = Math.exp((1 - lb) * centred);
      p1[idx] = e1[idx]! * lb * y[idx]!;
      q2[idx] = e2[idx]! * (1 - lb) * y[idx]!;
    }
  }
  const { s, n } = p.kernels.fusedProducts(e1, p1, e2, q2, k);
  const gain = new Float64Array(k * k);
  const scratch = new Float64Array(k);
  let fallbackEntries = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const sij = s[i * k + j]!;
      const nij = n[i * k + j]!;
      if (sij > 1e-280 && Number.isFinite(sij) && Number.isFinite(nij)) {
        gain[i * k + j] = targetTerm(p, i, j) - nij / sij;
      } else {
        gain[i * k + j] = streamingEntry(p, i, j, scratch);
        fallbackEntries++;
      }
    }
  }
  return { gain, linearization: p.linearization, fallbackEntries };
}
