import { SelmixError } from "@selmix/core";
import type { ConfusionMatrix, Objective } from "@selmix/metrics";
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
  /** ψ of the fitting set's confusion matrix with zero offsets (`before`) and with the fitted ones (`after`). */
  readonly fit: { readonly before: number; readonly after: number; readonly samples: number };
  /** Coordinate moves accepted. */
  readonly iterations: number;
}

/** Settings of {@link fitPosthoc}. */
export interface PosthocOptions {
  /** Most coordinate moves. @defaultValue 20·K */
  readonly maxIterations?: number;
}

/** ψ values closer than this are a tie (float rounding differs with the class order; counts differ by far more). */
const TIE = 1e-9;

/** Where one line search lands (the shift of its classes' offsets): the objective and the mean log-likelihood there. */
interface Move {
  readonly offset: number;
  readonly value: number;
  readonly likelihood: number;
}

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
 * interval of t (N + 1 evaluations, no step size). The directions are every single class and every set of the
 * classes with the lowest validation recalls (cut between distinct recall values: raising the tied worst classes
 * together is what lifts a min-type objective off a plateau). Each move takes the best direction; ties in ψ go to
 * the larger mean log-likelihood of the labels under softmax(s + a), so the result does not depend on the class
 * order. It starts at zero offsets and accepts only moves that raise ψ, so the fitted ψ is never below the
 * start's. With K = 2 one line search is exhaustive over thresholds, so it reaches the optimum. Deterministic.
 * Cost per move: up to 2K line searches of N log N + N·cost(ψ).
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
  const a = new Float64Array(k);
  const counts = new Float64Array(k * k);
  const cm: ConfusionMatrix = { numClasses: k, values: counts };
  const psi = (): number => finiteOr(objective.value(cm));
  const fill = (): void => {
    const predicted = argmaxWithOffsets(s, a);
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[labels[i]! * k + predicted[i]!]! += 1;
  };
  fill();
  const before = psi();
  let current = before;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    let best: { members: Uint8Array; move: Move } | undefined;
    for (const members of directions(counts, k)) {
      const move = lineSearch(members, s, labels, a, counts, psi);
      if (best === undefined || better(move, best.move)) best = { members, move };
    }
    // Only a higher ψ is a move: walking a plateau for likelihood alone would take many tiny steps.
    if (best === undefined || !(best.move.value > current + TIE)) break;
    for (let c = 0; c < k; c++) if (best.members[c] === 1) a[c]! += best.move.offset;
    fill();
    current = psi();
  }
  const mean = a.reduce((x, y) => x + y, 0) / k;
  const offsets = a.map((v) => v - mean);
  return { kind: "logit-offsets", objective: objective.name, offsets, fit: { before, after: current, samples: n }, iterations };
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

/** max and log-sum-exp of s_n + a over the classes inside (or outside) a set. */
function groupStats(s: Float64Array, a: Float64Array, i: number, members: Uint8Array, inside: 0 | 1): { arg: number; max: number; lse: number } {
  const k = a.length;
  let arg = -1;
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    if (members[c] !== inside) continue;
    const v = s[i * k + c]! + a[c]!;
    if (arg < 0 || v > max) {
      arg = c;
      max = v;
    }
  }
  let sum = 0;
  for (let c = 0; c < k; c++) if (members[c] === inside) sum += Math.exp(s[i * k + c]! + a[c]! - max);
  return { arg, max, lse: max + Math.log(sum) };
}

/**
 * The best shift t of the offsets of the classes in `members`, the others fixed: ψ on every interval between
 * breakpoints, then, among the intervals tied for the best ψ, the point of largest log-likelihood (concave in t, so:
 * its maximiser if it lies in a tied interval, else the point of the nearest tied interval next to it). `counts`
 * holds the current confusion matrix; it is used as scratch and restored.
 */
function lineSearch(members: Uint8Array, s: Float64Array, labels: Int32Array, a: Float64Array, counts: Float64Array, psi: () => number): Move {
  const k = a.length;
  const n = labels.length;
  const saved = Float64Array.from(counts);
  const insideArg = new Int32Array(n);
  const outsideArg = new Int32Array(n);
  const breakpoint = new Float64Array(n);
  const insideLse = new Float64Array(n);
  const outsideLse = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const inside = groupStats(s, a, i, members, 1);
    const outside = groupStats(s, a, i, members, 0);
    insideArg[i] = inside.arg;
    outsideArg[i] = outside.arg;
    breakpoint[i] = outside.max - inside.max;
    insideLse[i] = inside.lse;
    outsideLse[i] = outside.lse;
  }
  // t below every breakpoint: every sample predicts its best class outside the set.
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[labels[i]! * k + outsideArg[i]!]! += 1;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => breakpoint[x]! - breakpoint[y]!);
  // Interval r is (edges[r - 1], edges[r]) with edges[-1] = −∞ and edges[m] = +∞; values[r] is ψ there.
  const edges: number[] = [];
  const values: number[] = [psi()];
  for (let p = 0; p < n; ) {
    const t = breakpoint[order[p]!]!;
    for (; p < n && breakpoint[order[p]!]! === t; p++) {
      const i = order[p]!;
      counts[labels[i]! * k + outsideArg[i]!]! -= 1;
      counts[labels[i]! * k + insideArg[i]!]! += 1;
    }
    edges.push(t);
    values.push(psi());
  }
  counts.set(saved);
  let top = Number.NEGATIVE_INFINITY;
  for (const v of values) top = Math.max(top, v);
  const lo = (r: number): number => (r === 0 ? Number.NEGATIVE_INFINITY : edges[r - 1]!);
  const hi = (r: number): number => (r === edges.length ? Number.POSITIVE_INFINITY : edges[r]!);
  let count = 0;
  for (let i = 0; i < n; i++) count += members[labels[i]!]!;
  // Clamped into the breakpoints' range ± 1, so an infinite maximiser (no or every label in the set) picks a point.
  const target = Math.min(Math.max(likelihoodMaximizer(count, insideLse, outsideLse), edges[0]! - 1), edges[edges.length - 1]! + 1);
  let chosen = Number.NaN;
  let distance = Number.POSITIVE_INFINITY;
  for (let r = 0; r < values.length; r++) {
    if (values[r]! < top - TIE) continue;
    const l = lo(r);
    const h = hi(r);
    if (target > l && target < h) {
      chosen = target;
      break;
    }
    const d = target <= l ? l - target : target - h;
    if (d < distance) {
      distance = d;
      const inward = Math.min(0.5, (h - l) / 2);
      chosen = target <= l ? l + inward : h - inward;
    }
  }
  const r = edges.findIndex((e) => chosen < e);
  const value = values[r < 0 ? edges.length : r]!;
  return { offset: chosen, value, likelihood: likelihoodAt(chosen, members, s, labels, a, insideLse, outsideLse) };
}

/** Mean log-likelihood after shifting the set's offsets by t (the log-sum-exps inside and outside precomputed). */
function likelihoodAt(t: number, members: Uint8Array, s: Float64Array, labels: Int32Array, a: Float64Array, insideLse: Float64Array, outsideLse: Float64Array): number {
  const k = a.length;
  const n = labels.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const u = insideLse[i]! + t;
    const v = outsideLse[i]!;
    const m = Math.max(u, v);
    const lse = m + Math.log(Math.exp(u - m) + Math.exp(v - m));
    const y = labels[i]!;
    total += s[i * k + y]! + a[y]! + (members[y] === 1 ? t : 0) - lse;
  }
  return total / n;
}

/**
 * The shift t maximising the mean log-likelihood: its derivative (#labels in the set − Σ_n P_n(set; t)) / N
 * decreases in t, so bracket and bisect. ±∞ when no label (every label) is in the set.
 */
function likelihoodMaximizer(count: number, insideLse: Float64Array, outsideLse: Float64Array): number {
  const n = insideLse.length;
  if (count === 0) return Number.NEGATIVE_INFINITY;
  if (count === n) return Number.POSITIVE_INFINITY;
  const slope = (t: number): number => {
    let p = 0;
    for (let i = 0; i < n; i++) p += 1 / (1 + Math.exp(outsideLse[i]! - insideLse[i]! - t));
    return count - p;
  };
  let lo = -1;
  let hi = 1;
  for (let e = 0; e < 60 && slope(lo) < 0; e++) lo -= 2 ** e;
  for (let e = 0; e < 60 && slope(hi) > 0; e++) hi += 2 ** e;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (slope(mid) > 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
