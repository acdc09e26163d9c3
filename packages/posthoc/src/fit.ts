import { SelmixError } from "@selmix/core";
import type { ConfusionMatrix, Objective } from "@selmix/metrics";
import { type Adjusted, adjust, meanLogLikelihood, type Move, pointOf, type Sweep, sweep, TIE } from "./line-search.ts";
import { argmaxWithOffsets, checkedLabels, logScores, type ScoredSet } from "./scores.ts";

/**
 * A post-hoc plug-in classifier: predict arg-max_c (logit_c + offsets_c). On probabilities, the same as arg-max of
 * p_c·exp(offsets_c). Offsets have mean 0 (only their differences matter).
 */
export interface LogitOffsets {
  /** What the numbers are: additive offsets on the logits (log-probabilities). */
  readonly kind: "logit-offsets";
  /** Name of the objective the offsets were fitted for. */
  readonly objective: string;
  /** One offset per class, `[K]`, mean 0. */
  readonly offsets: Float64Array;
  /** ψ on the fitting set without and with the offsets. */
  readonly fit: FitSummary;
  /** Moves taken (rises of ψ and plateau steps). */
  readonly iterations: number;
}

/** ψ of the fitting set's confusion matrix without and with the offsets. */
export interface FitSummary {
  /** ψ with zero offsets (the model's arg-max). */
  readonly before: number;
  /** ψ with the fitted offsets (never below `before`). */
  readonly after: number;
  /** Samples of the fitting set. */
  readonly samples: number;
}

/** Settings of {@link fitPosthoc}. */
export interface PosthocOptions {
  /** Most moves. @defaultValue 20·K */
  readonly maxIterations?: number;
  /**
   * No new move starts once ψ has been evaluated this many times (a move costs about 2K line searches of up to
   * ~600 evaluations, each O(K²)): bounds the time for large K (K = 100: about 15 moves). @defaultValue 1,000,000
   */
  readonly maxEvaluations?: number;
}

/** Plateau moves (ψ kept, likelihood up) allowed per class, and the least likelihood gain (nats per sample) of one. */
const PLATEAU_MOVES = 2;
const PLATEAU_GAIN = 1e-3;

/** (ψ, log-likelihood) lexicographically, ψ within {@link TIE} counting as equal. */
function better(a: Move, b: Move): boolean {
  if (a.value > b.value + TIE) return true;
  return a.value >= b.value - TIE && a.likelihood > b.likelihood + 1e-12;
}

const finiteOr = (v: number): number => (Number.isFinite(v) ? v : Number.NEGATIVE_INFINITY);

/**
 * Fits per-class logit offsets on a labelled (validation) set to maximise `objective.value` of the arg-max
 * confusion matrix. Works for every objective, built-in or plug-in, since it only evaluates ψ.
 *
 * Ascent with exact line searches: raising the offsets of a set S of classes by t, sample n switches from its best
 * class outside S to its best class inside S at one breakpoint, so sorting the N breakpoints gives ψ on every
 * interval of t (N + 1 evaluations, no step size). Above 256 distinct breakpoints a line search evaluates ψ at 128
 * evenly spaced ones, then at every one around the best few of those (coarse to fine, about 20× fewer evaluations
 * for N = 5000; exact below). The directions are every single class and every set of the classes with the lowest
 * validation recalls (cut between distinct recall values: raising the tied worst classes
 * together is what lifts a min-type objective off a plateau). Each move takes the best direction; ties in ψ go to
 * the larger mean log-likelihood of the labels under softmax(s + a), so the result does not depend on the class
 * order. It starts at zero offsets and accepts moves that raise ψ; on a plateau (no direction raises ψ, e.g.
 * several classes tied at the minimum) it may take up to 2K moves that keep ψ and raise the likelihood by at least
 * 1e-3 nats per sample (toward the offsets that calibrate the model to the validation set), which often opens a
 * rise again. So the fitted ψ is never below the start's (beyond 1e-9 of rounding). With K = 2 and N ≤ 256 one
 * line search is exhaustive over thresholds, so it reaches the optimum.
 * Deterministic. Cost per move: up to 2K line searches of N log N + min(N, ~600)·cost(ψ).
 *
 * This is the plug-in approach of Narasimhan et al., "Consistent multiclass algorithms for complex metrics and
 * constraints" (for these metrics a Bayes-optimal classifier reweights the class probabilities), fitted by direct
 * search rather than Frank-Wolfe, which suits the non-smooth min-type objectives.
 *
 * @param objective - ψ to maximise (only `name` and `value` are used).
 * @param set - Scores (logits or probabilities), labels and K of the fitting set.
 * @param options - Iteration cap.
 * @returns The offsets and ψ before and after, on `set`.
 * @throws `SelmixError` `INVALID_SHAPE` / `INVALID_VALUE` for bad scores or labels; `INVALID_VALUE` for a bad
 *   iteration cap; whatever `objective.value` throws (e.g. `EMPTY_CLASS` when a class has no sample).
 * @example
 * {@includeCode ./examples.test.ts#fitPosthoc}
 */
export function fitPosthoc(objective: Pick<Objective, "name" | "value">, set: ScoredSet, options: PosthocOptions = {}): LogitOffsets {
  const k = set.numClasses;
  const s = logScores(set);
  const n = s.length / k;
  const labels = checkedLabels(set.labels, n, k);
  const maxIterations = options.maxIterations ?? 20 * k;
  if (!(Number.isInteger(maxIterations) && maxIterations >= 0)) {
    throw new SelmixError("INVALID_VALUE", `maxIterations must be an integer >= 0, got ${maxIterations}`);
  }
  const maxEvaluations = options.maxEvaluations ?? 1_000_000;
  if (!(maxEvaluations >= 0)) throw new SelmixError("INVALID_VALUE", `maxEvaluations must be >= 0, got ${maxEvaluations}`);
  let evaluations = 0;
  const a = new Float64Array(k);
  const counts = new Float64Array(k * k);
  const cm: ConfusionMatrix = { numClasses: k, values: counts };
  const psi = (): number => {
    evaluations++;
    return finiteOr(objective.value(cm));
  };
  const fill = (): void => {
    const predicted = argmaxWithOffsets(s, a);
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[labels[i]! * k + predicted[i]!]! += 1;
  };
  fill();
  const before = psi();
  evaluations = 0; // the budget counts the search's evaluations
  let current = before;
  let iterations = 0;
  let plateaus = 0;
  for (; iterations < maxIterations && evaluations < maxEvaluations; iterations++) {
    const adj = adjust(s, a);
    const sweeps = directions(counts, k).map((members) => sweep(members, adj, labels, counts, psi));
    let top = Number.NEGATIVE_INFINITY;
    for (const w of sweeps) top = Math.max(top, w.top);
    if (!(top > current + TIE)) {
      // A plateau (e.g. several classes tied at the minimum): step toward the likelihood's maximiser, the offsets
      // that calibrate the model to the balanced validation set, while ψ stays; a few such steps, then stop.
      const step = plateaus < PLATEAU_MOVES * k ? plateauMove(sweeps, current, adj, labels, s, a) : undefined;
      if (step === undefined) break;
      for (let c = 0; c < k; c++) if (step.members[c] === 1) a[c]! += step.offset;
      fill();
      current = psi();
      plateaus++;
      continue;
    }
    // The likelihood tie-break (the costly part) only for the directions that reach the best ψ.
    let best: { members: Uint8Array; move: Move } | undefined;
    for (const w of sweeps) {
      if (w.top < top - TIE) continue;
      const move = pointOf(w, s, labels, a);
      if (best === undefined || better(move, best.move)) best = { members: w.members, move };
    }
    if (best === undefined) break;
    for (let c = 0; c < k; c++) if (best.members[c] === 1) a[c]! += best.move.offset;
    fill();
    current = psi();
  }
  const mean = a.reduce((x, y) => x + y, 0) / k;
  const offsets = a.map((v) => v - mean);
  return { kind: "logit-offsets", objective: objective.name, offsets, fit: { before, after: current, samples: n }, iterations };
}

/**
 * The direction and shift of largest log-likelihood among those that keep ψ (within {@link TIE}), when that gains
 * at least {@link PLATEAU_GAIN}; undefined otherwise.
 */
function plateauMove(sweeps: readonly Sweep[], current: number, adj: Adjusted, labels: Int32Array, s: Float64Array, a: Float64Array): { members: Uint8Array; offset: number } | undefined {
  const now = meanLogLikelihood(adj, labels);
  let best: { members: Uint8Array; move: Move } | undefined;
  for (const w of sweeps) {
    if (w.top < current - TIE) continue;
    const move = pointOf(w, s, labels, a);
    if (move.value < current - TIE) continue;
    if (best === undefined || move.likelihood > best.move.likelihood + 1e-12) best = { members: w.members, move };
  }
  return best !== undefined && best.move.likelihood > now + PLATEAU_GAIN ? { members: best.members, offset: best.move.offset } : undefined;
}


/** Each class alone, then the classes with recall ≤ r for each distinct recall r but the largest (as 0/1 masks). */
function directions(counts: Float64Array, k: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let c = 0; c < k; c++) {
    const m = new Uint8Array(k);
    m[c] = 1;
    out.push(m);
  }
  const recall = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let row = 0;
    for (let j = 0; j < k; j++) row += counts[i * k + j]!;
    recall[i] = row > 0 ? counts[i * k + i]! / row : 0;
  }
  const levels = [...new Set(recall)].sort((x, y) => x - y).slice(0, -1);
  for (const r of levels) {
    const m = recall.map((v) => (v <= r ? 1 : 0));
    if (m.reduce((x, y) => x + y, 0) > 1) out.push(Uint8Array.from(m));
  }
  return out;
}
