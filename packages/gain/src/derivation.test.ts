import { fc, test as property } from "@fast-check/vitest";
import {
  type ClassPrior,
  type ConfusionMatrix,
  coverages,
  createObjective,
  fromValues,
  hMeanRecall,
  type Linearization,
  meanRecall,
  type ObjectiveName,
  recalls,
} from "@selmix/metrics";
import { describe, expect, test } from "vitest";
import { gainMatrix } from "./gain-matrix.ts";

/**
 * The whole derivation, not only the algebra: for a linear softmax head, G[i][j] must predict the actual change of
 * the soft-confusion objective after a small SGD step on (i, j) feature mixups labelled i.
 *
 * Soft confusion from prototypes on a validation set with class prior π: C̃[q][l] = π_q·softmax_l(W·z_q + b)
 * (π_q = 1/K for a balanced set).
 */
function softConfusion(z: Float64Array, w: Float64Array, b: Float64Array, k: number, dim: number, prior: ArrayLike<number>): ConfusionMatrix {
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
      values[q * k + l] = (v / total) * prior[q]!;
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

/** ψ with the refresh's multipliers frozen (the surrogate the gain linearises), divided by the normaliser. */
function frozenPsi(name: ObjectiveName, lin: Linearization): (cm: ConfusionMatrix) => number {
  const m = lin.state.multipliers;
  const weighted = (cm: ConfusionMatrix): number => recalls(cm).reduce((a, r, q) => a + m![q]! * r, 0);
  const covered = (base: (cm: ConfusionMatrix) => number) => (cm: ConfusionMatrix) =>
    base(cm) + coverages(cm).reduce((a, c, j) => a + m![j]! * c, 0);
  const psi =
    name === "min-recall" || name === "min-head-tail-recall"
      ? weighted
      : name === "mean-recall-min-coverage"
        ? covered(meanRecall)
        : name === "h-mean-min-coverage"
          ? covered(hMeanRecall)
          : createObjective(name).value;
  return (cm) => psi(cm) / lin.normalizer;
}

/**
 * d psi / d lr at lr = 0 by a central difference: its error is O(lr^2), so small gains next to a large curvature
 * (a forward difference's O(lr) error) cannot fail the 1e-3 relative bound by chance.
 */
function changeRate(psi: (cm: ConfusionMatrix) => number, after: (lr: number) => ConfusionMatrix): number {
  const lr = 1e-5;
  return (psi(after(lr)) - psi(after(-lr))) / (2 * lr);
}

interface Problem {
  readonly k: number;
  readonly dim: number;
  readonly z: number[];
  readonly w: number[];
  readonly b: number[];
  readonly objective: ObjectiveName;
}

/** Largest |actual − G| over the pairs relative to max |G|, where actual is the finite-difference change of ψ. */
function gainError(problem: Problem, classPrior: readonly number[], prior: ClassPrior): { error: number; scale: number } {
  const { k, dim } = problem;
  const z = Float64Array.from(problem.z);
  const w = Float64Array.from(problem.w);
  const b = Float64Array.from(problem.b);
  const base = softConfusion(z, w, b, k, dim, classPrior);
  const objective = createObjective(problem.objective);
  const { gain, linearization } = gainMatrix(
    { confusion: base, prototypes: z, weights: w, bias: b, dim, objective },
    { targetTerm: "exact", clip: 0, prior },
  );
  const psi = frozenPsi(problem.objective, linearization);
  let error = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const actual = changeRate(psi, (lr) => softConfusion(z, sgdStep(z, w, b, k, dim, i, j, lr), b, k, dim, classPrior));
      error = Math.max(error, Math.abs(actual - gain[i * k + j]!));
    }
  }
  return { error, scale: Math.max(...gain.map(Math.abs)) };
}

const coord = fc.double({ min: -1.5, max: 1.5, noNaN: true });
const ALL_OBJECTIVES: readonly ObjectiveName[] = [
  "mean-recall",
  "g-mean",
  "h-mean",
  "min-recall",
  "min-head-tail-recall",
  "mean-recall-min-coverage",
  "h-mean-min-coverage",
];

const arbProblem = (objectives: readonly ObjectiveName[]) =>
  fc.integer({ min: 2, max: 5 }).chain((k) =>
    fc.integer({ min: 2, max: 6 }).chain((dim) =>
      fc.record({
        k: fc.constant(k),
        dim: fc.constant(dim),
        z: fc.array(coord, { minLength: k * dim, maxLength: k * dim }),
        w: fc.array(coord, { minLength: k * dim, maxLength: k * dim }),
        b: fc.array(coord, { minLength: k, maxLength: k }),
        objective: fc.constantFrom(...objectives),
      }),
    ),
  );

property.prop([arbProblem(["mean-recall", "g-mean", "h-mean", "min-recall"])], { numRuns: 60 })(
  "G predicts the first-order change of the objective after SGD on (i, j) mixups",
  (problem) => {
    const { k, dim } = problem;
    const z = Float64Array.from(problem.z);
    const w = Float64Array.from(problem.w);
    const b = Float64Array.from(problem.b);
    const uniform = new Array(k).fill(1 / k);
    const base = softConfusion(z, w, b, k, dim, uniform);
    const objective = createObjective(problem.objective);
    const { gain, linearization } = gainMatrix(
      { confusion: base, prototypes: z, weights: w, bias: b, dim, objective },
      { targetTerm: "exact", clip: 0 },
    );
    const psi = frozenPsi(problem.objective, linearization);
    const actual = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) actual[i * k + j] = changeRate(psi, (lr) => softConfusion(z, sgdStep(z, w, b, k, dim, i, j, lr), b, k, dim, uniform));
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
  },
);

/** Positive class weights, normalised: a validation prior that is far from uniform in general. */
const arbPrior = (k: number) =>
  fc.array(fc.double({ min: 0.05, max: 1, noNaN: true }), { minLength: k, maxLength: k }).map((v) => {
    const s = v.reduce((a, c) => a + c, 0);
    return v.map((x) => x / s);
  });

describe("imbalanced validation sets", () => {
  property.prop([arbProblem(ALL_OBJECTIVES).chain((p) => fc.tuple(fc.constant(p), arbPrior(p.k)))], { numRuns: 60 })(
    "with prior: validation, G predicts the change of every objective on any validation prior",
    ([problem, classPrior]) => {
      const { error, scale } = gainError(problem, classPrior, "validation");
      fc.pre(scale > 1e-6);
      expect(error).toBeLessThanOrEqual(1e-3 * scale);
    },
  );

  test("the uniform prior misses the change of mean recall on a 0.55/0.25/0.15/0.05 set; the validation prior does not", () => {
    const problem: Problem = {
      k: 4,
      dim: 3,
      z: [1, 0.2, -0.3, -0.4, 1, 0.1, 0.3, -0.5, 1, -0.6, 0.4, 0.2],
      w: [0.8, 0.1, -0.2, -0.1, 0.9, 0.3, 0.2, -0.4, 0.7, -0.5, 0.3, 0.1],
      b: [0.1, -0.1, 0.05, 0],
      objective: "mean-recall",
    };
    const classPrior = [0.55, 0.25, 0.15, 0.05];
    const uniform = gainError(problem, classPrior, "uniform");
    const validation = gainError(problem, classPrior, "validation");
    expect(validation.error).toBeLessThanOrEqual(1e-3 * validation.scale);
    expect(uniform.error).toBeGreaterThan(0.1 * uniform.scale);
  });
});
