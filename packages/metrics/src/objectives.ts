import { SelmixError } from "@selmix/core";
import { type ConfusionMatrix, clip, coverages, normalize, recalls, rowSums } from "./confusion.ts";
import { DEFAULT_COVERAGE_ALPHA, penalizedByCoverage } from "./coverage-metrics.ts";
import { DEFAULT_HEAD_FRACTION, type HeadTailSplit, headTailGroups } from "./head-tail.ts";
import { CONFUSION_CLIP, type LinearizeContext, type Linearization, type Objective, type ObjectiveState } from "./objective.ts";
import { gMeanRecall, hMeanRecall, meanRecall, minHeadTailRecall, minRecall } from "./recall-metrics.ts";

/** Names of the built-in objectives (the reference configs' `M` keys, kebab-cased). */
export type ObjectiveName =
  | "mean-recall"
  | "min-recall"
  | "min-head-tail-recall"
  | "g-mean"
  | "h-mean"
  | "mean-recall-min-coverage"
  | "h-mean-min-coverage";

/**
 * Every built-in objective name.
 *
 * @example
 * {@includeCode ./examples.test.ts#OBJECTIVE_NAMES}
 */
export const OBJECTIVE_NAMES: readonly ObjectiveName[] = [
  "mean-recall",
  "min-recall",
  "min-head-tail-recall",
  "g-mean",
  "h-mean",
  "mean-recall-min-coverage",
  "h-mean-min-coverage",
];

/** Options of the built-in objectives; defaults equal the reference configs. */
export interface ObjectiveOptions {
  /** Exponentiated-weights rate ω of the min-recall multipliers. @defaultValue 50 */
  readonly rate?: number;
  /** Memory β of the min-recall multipliers: λ ← λ^β·exp(−ω·recall). @defaultValue 0 */
  readonly memory?: number;
  /** Head/tail split for min head-tail recall. @defaultValue `{ headFraction: 0.9 }` */
  readonly split?: HeadTailSplit;
  /** Coverage target alpha: coverage_j >= alpha/K. @defaultValue 0.95 */
  readonly coverageAlpha?: number;
  /** Saturation scale τ of the coverage multipliers. @defaultValue 0.01 */
  readonly coverageTau?: number;
  /** Largest coverage multiplier λ_max. @defaultValue 100 */
  readonly lambdaMax?: number;
}

function positive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new SelmixError("INVALID_VALUE", `${name} must be a finite number > 0, got ${v}`);
  return v;
}

function diagonal(k: number, weights: ArrayLike<number>): Float64Array {
  const d = new Float64Array(k * k);
  for (let i = 0; i < k; i++) d[i * k + i] = weights[i]!;
  return d;
}

function checkPrevious(previous: ObjectiveState | undefined, k: number): Float64Array | null {
  const m = previous?.multipliers ?? null;
  if (m !== null && m.length !== k) {
    throw new SelmixError("INVALID_SHAPE", `multipliers must have K = ${k} entries, got ${m.length}`);
  }
  return m;
}

/** softmax(β·log(prev) − ω·x): exponentiated weights in log space, so large ω never overflows. */
function exponentiatedWeights(x: ArrayLike<number>, rate: number, memory: number, prev: ArrayLike<number> | null): Float64Array {
  const n = x.length;
  const logits = Float64Array.from({ length: n }, (_, i) => {
    const p = prev === null ? 1 / n : Math.max(prev[i]!, 1e-300);
    return memory * Math.log(p) - rate * x[i]!;
  });
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** π_i as the row sums of the joint matrix, or null under the uniform prior (the reference's 1/π_i = K). */
function validationPrior(cm: ConfusionMatrix, context: LinearizeContext | undefined): Float64Array | null {
  if ((context?.prior ?? "uniform") === "uniform") return null;
  const rows = rowSums(normalize(cm));
  rows.forEach((r, i) => {
    if (!(r > 0)) throw new SelmixError("EMPTY_CLASS", `class ${i} has no validation samples, so its prior is 0`);
  });
  return rows;
}

/**
 * ψ = Σ_i w_i·recall_i with recall_i = C[i][i]/π_i ⇒ D_ii = w_i/π_i. The row-constant part −w_i·C[i][i]/π_i² of the
 * exact gradient is left out: it cancels in the gain rate, which uses the same π. `uniformD[i]` = K·w_i is the
 * reference's D_ii (π_i = 1/K); under the validation prior D_ii = uniformD[i]/(K·π_i).
 */
function weightedRecall(cm: ConfusionMatrix, uniformD: ArrayLike<number>, context: LinearizeContext | undefined): Float64Array {
  const k = cm.numClasses;
  const prior = validationPrior(cm, context);
  return diagonal(k, Array.from({ length: k }, (_, i) => (prior === null ? uniformD[i]! : uniformD[i]! / (k * prior[i]!))));
}

/** K·w_i for recall weights w_i. */
const scaledByK = (w: Float64Array): Float64Array => w.map((v) => v * w.length);

function hMeanDerivative(joint: ConfusionMatrix): Float64Array {
  // H from the unclipped recalls, C[i][i] and row sums from the clipped matrix, as the reference does.
  const k = joint.numClasses;
  const h = hMeanRecall(joint);
  const c = clip(joint, CONFUSION_CLIP);
  const rows = rowSums(c);
  const s = (h * h) / k;
  const d = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    const cii = c.values[i * k + i]!;
    for (let j = 0; j < k; j++) d[i * k + j] = i === j ? (s * (rows[i]! - cii)) / (cii * cii) : -s / cii;
  }
  return d;
}

function gMeanDerivative(joint: ConfusionMatrix): Float64Array {
  const k = joint.numClasses;
  const g = gMeanRecall(joint);
  const c = clip(joint, CONFUSION_CLIP);
  const rows = rowSums(c);
  const s = g / k;
  const d = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    const cii = c.values[i * k + i]!;
    for (let j = 0; j < k; j++) d[i * k + j] = s * ((i === j ? 1 / cii : 0) - 1 / rows[i]!);
  }
  return d;
}

/**
 * λ_j = max(0, λ_max·(1 − exp((cov_j − α/K)/τ))): 0 when met, saturating toward λ_max as the deficit grows.
 *
 * @param cm - The confusion matrix.
 * @param alpha - Coverage target fraction; the target per class is alpha / K.
 * @param tau - Temperature τ of the saturation (> 0).
 * @param lambdaMax - Upper bound λ_max of every multiplier.
 * @returns λ per class, `[K]`.
 * @example
 * {@includeCode ./examples.test.ts#coverageMultipliers}
 */
export function coverageMultipliers(cm: ConfusionMatrix, alpha: number, tau: number, lambdaMax: number): Float64Array {
  const target = alpha / cm.numClasses;
  return coverages(cm).map((c) => Math.max(0, lambdaMax * (1 - Math.exp((c - target) / tau))));
}

function withCoverage(base: Float64Array, lambdas: Float64Array): Linearization {
  const k = lambdas.length;
  const d = base.map((v, idx) => v + lambdas[idx % k]!);
  return { derivative: d, normalizer: Math.max(...lambdas) + 1, state: { multipliers: lambdas } };
}

/**
 * A built-in objective by name, with the reference configs' defaults.
 *
 * | name | ψ | multipliers |
 * |---|---|---|
 * | mean-recall | mean recall | none |
 * | min-recall | min recall via Σλ_i·recall_i | λ = softmax(β·log λ − ω·recall) |
 * | min-head-tail-recall | min(head, tail mean recall) | (λ_h, λ_t) likewise, spread over each group |
 * | g-mean, h-mean | geometric / harmonic mean of recalls | none |
 * | mean-recall-min-coverage, h-mean-min-coverage | base + Σ λ_j·coverage_j | saturating coverage λ, gain / (max λ + 1) |
 *
 * D under the class prior of `linearize`'s context: the recall-weighted objectives (mean, min, min head-tail
 * recall and the base of mean-recall-min-coverage) use D_ii = w_i/π_i, i.e. the reference's K·w_i under the uniform
 * prior and 1/(K·π_i)-scaled weights under `prior: "validation"`. G-mean and H-mean use the reference's forms,
 * which are their exact analytic gradients (row sums included), so they hold under either prior; the coverage
 * term D[k][l] = λ_l does not depend on the prior.
 *
 * @throws `SelmixError` `INVALID_ARGUMENT` for an unknown name; `INVALID_VALUE` for a bad option.
 * @example
 * {@includeCode ./examples.test.ts#createObjective}
 */
export function createObjective(name: ObjectiveName, options: ObjectiveOptions = {}): Objective {
  const rate = positive("rate", options.rate ?? 50);
  const memory = options.memory ?? 0;
  if (!(memory >= 0 && memory <= 1)) throw new SelmixError("INVALID_VALUE", `memory must be in [0, 1], got ${memory}`);
  const alpha = options.coverageAlpha ?? DEFAULT_COVERAGE_ALPHA;
  if (!(alpha > 0 && alpha <= 1)) throw new SelmixError("INVALID_VALUE", `coverage alpha must be in (0, 1], got ${alpha}`);
  const tau = positive("coverage tau", options.coverageTau ?? 0.01);
  const lambdaMax = positive("lambda max", options.lambdaMax ?? 100);
  const split = options.split ?? { headFraction: DEFAULT_HEAD_FRACTION };

  switch (name) {
    case "mean-recall":
      return {
        name,
        value: meanRecall,
        linearize: (cm, _previous, context) => ({
          derivative: weightedRecall(cm, new Float64Array(cm.numClasses).fill(1), context),
          normalizer: 1,
          state: { multipliers: null },
        }),
      };
    case "min-recall":
      return {
        name,
        value: minRecall,
        linearize(cm, previous, context) {
          const k = cm.numClasses;
          const lambdas = exponentiatedWeights(recalls(cm), rate, memory, checkPrevious(previous, k));
          return { derivative: weightedRecall(cm, scaledByK(lambdas), context), normalizer: 1, state: { multipliers: lambdas } };
        },
      };
    case "min-head-tail-recall": {
      return {
        name,
        value: (cm) => minHeadTailRecall(cm, split),
        linearize(cm, previous, context) {
          const k = cm.numClasses;
          const groups = headTailGroups(k, split);
          const r = recalls(cm);
          const mean = (g: readonly number[]): number => g.reduce((a, c) => a + r[c]!, 0) / g.length;
          const prev = checkPrevious(previous, k);
          const prevPair = prev === null ? null : [prev[groups.head[0]!]! * groups.head.length, prev[groups.tail[0]!]! * groups.tail.length];
          const [lh, lt] = exponentiatedWeights([mean(groups.head), mean(groups.tail)], rate, memory, prevPair);
          const lambdas = new Float64Array(k);
          for (const c of groups.head) lambdas[c] = lh! / groups.head.length;
          for (const c of groups.tail) lambdas[c] = lt! / groups.tail.length;
          return { derivative: weightedRecall(cm, scaledByK(lambdas), context), normalizer: 1, state: { multipliers: lambdas } };
        },
      };
    }
    case "g-mean":
      return {
        name,
        value: gMeanRecall,
        linearize: (cm) => ({ derivative: gMeanDerivative(normalize(cm)), normalizer: 1, state: { multipliers: null } }),
      };
    case "h-mean":
      return {
        name,
        value: hMeanRecall,
        linearize: (cm) => ({ derivative: hMeanDerivative(normalize(cm)), normalizer: 1, state: { multipliers: null } }),
      };
    case "mean-recall-min-coverage":
      return {
        name,
        value: (cm) => penalizedByCoverage(meanRecall(cm), cm, alpha),
        linearize: (cm, _previous, context) =>
          withCoverage(weightedRecall(cm, new Float64Array(cm.numClasses).fill(1), context), coverageMultipliers(cm, alpha, tau, lambdaMax)),
      };
    case "h-mean-min-coverage":
      return {
        name,
        value: (cm) => penalizedByCoverage(hMeanRecall(cm), cm, alpha),
        linearize: (cm) => withCoverage(hMeanDerivative(normalize(cm)), coverageMultipliers(cm, alpha, tau, lambdaMax)),
      };
    default:
      throw new SelmixError(
        "INVALID_ARGUMENT",
        `unknown objective "${String(name)}"; expected one of ${OBJECTIVE_NAMES.join(", ")}`,
      );
  }
}

/**
 * True when `name` is a built-in objective name.
 *
 * @example
 * {@includeCode ./examples.test.ts#isObjectiveName}
 */
export function isObjectiveName(name: string): name is ObjectiveName {
  return (OBJECTIVE_NAMES as readonly string[]).includes(name);
}
