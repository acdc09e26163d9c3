import { fc, test as property } from "@fast-check/vitest";
import { type ConfusionMatrix, createObjective, fromValues, type Objective } from "@selmix/metrics";
import { expect } from "vitest";
import { gainMatrix } from "./gain-matrix.ts";

/**
 * The whole derivation, not only the algebra: for a linear softmax head, G[i][j] must predict the actual change of
 * the soft-confusion objective after a small SGD step on (i, j) feature mixups labelled i.
 *
 * Soft confusion from prototypes on a balanced validation set: C̃[q][l] = softmax_l(W·z_q + b) / K.
 */
function softConfusion(z: Float64Array, w: Float64Array, b: Float64Array, k: number, dim: number): ConfusionMatrix {
  const values = new Float64Array(k * k);
  for (let q = 0; q < k; q++) {
    const logits = Array.from({ length: k }, (_, l) => {
      let s = b[l]!;
      for (let t = 0; t < dim; t++) s += w[l * dim + t]! * z[q * dim + t]!;
      return s;
    });
    const mx = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - mx));
    const total = e.reduce((a, c) => a + c, 0);
    e.forEach((v, l) => {
      values[q * k + l] = v / total / k;
    });
  }
  return fromValues(k, values);
}

/** One SGD step of the head weights (not the bias: the gain ignores it) on CE(W·z̃ + b, i) at z̃ = λ̄·z_i + (1−λ̄)·z_j. */
function sgdStep(z: Float64Array, w: Float64Array, b: Float64Array, k: number, dim: number, i: number, j: number, lr: number): Float64Array {
  const lb = 0.8;
  const mixed = Float64Array.from({ length: dim }, (_, t) => lb * z[i * dim + t]! + (1 - lb) * z[j * dim + t]!);
  const logits = Array.from({ length: k }, (_, l) => {
    let s = b[l]!;
    for (let t = 0; t < dim; t++) s += w[l * dim + t]! * mixed[t]!;
    return s;
  });
  const mx = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - mx));
  const total = e.reduce((a, c) => a + c, 0);
  const next = Float64Array.from(w);
  for (let l = 0; l < k; l++) {
    const coef = (l === i ? 1 : 0) - e[l]! / total; // −∂CE/∂logit_l
    for (let t = 0; t < dim; t++) next[l * dim + t]! += lr * coef * mixed[t]!;
  }
  return next;
}

const coord = fc.double({ min: -1.5, max: 1.5, noNaN: true });

property.prop(
  [
    fc.integer({ min: 2, max: 5 }).chain((k) =>
      fc.integer({ min: 2, max: 6 }).chain((dim) =>
        fc.record({
          k: fc.constant(k),
          dim: fc.constant(dim),
          z: fc.array(coord, { minLength: k * dim, maxLength: k * dim }),
          w: fc.array(coord, { minLength: k * dim, maxLength: k * dim }),
          b: fc.array(coord, { minLength: k, maxLength: k }),
          objective: fc.constantFrom("mean-recall", "g-mean", "h-mean", "min-recall"),
        }),
      ),
    ),
  ],
  { numRuns: 60 },
)("G predicts the first-order change of the objective after SGD on (i, j) mixups", (problem) => {
  const { k, dim } = problem;
  const z = Float64Array.from(problem.z);
  const w = Float64Array.from(problem.w);
  const b = Float64Array.from(problem.b);
  const base = softConfusion(z, w, b, k, dim);
  const objective = createObjective(problem.objective as "mean-recall");
  const { gain, linearization } = gainMatrix(
    { confusion: base, prototypes: z, weights: w, bias: b, dim, objective },
    { targetTerm: "exact", clip: 0 },
  );
  // For min recall the multipliers are frozen at this refresh: ψ = Σ λ_q·recall_q.
  const lambdas = linearization.state.multipliers;
  const psi: Objective["value"] = lambdas
    ? (cm) => Array.from({ length: k }, (_, q) => lambdas[q]! * k * cm.values[q * k + q]!).reduce((a, c) => a + c, 0)
    : objective.value;
  const lr = 1e-5;
  const before = psi(base);
  const actual = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) actual[i * k + j] = (psi(softConfusion(z, sgdStep(z, w, b, k, dim, i, j, lr), b, k, dim)) - before) / lr;
  }
  const scale = Math.max(...gain.map(Math.abs));
  fc.pre(scale > 1e-6);
  const tol = 1e-3 * scale;
  for (let idx = 0; idx < k * k; idx++) {
    expect(Math.abs(actual[idx]! - gain[idx]!)).toBeLessThanOrEqual(tol);
    // sign agrees wherever the prediction is clearly non-zero
    if (Math.abs(gain[idx]!) > 10 * tol) expect(Math.sign(actual[idx]!)).toBe(Math.sign(gain[idx]!));
  }
  // ranking: pairs the gain separates clearly are ordered the same way by the actual change
  for (let a = 0; a < k * k; a++) {
    for (let c = 0; c < k * k; c++) {
      if (gain[a]! - gain[c]! > 10 * tol) expect(actual[a]!).toBeGreaterThan(actual[c]!);
    }
  }
});
