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
  /** ψ on the fitting set without and with the offsets. */
  readonly fit: FitSummary;
  /** Coordinate moves accepted. */
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
  /** Most coordinate moves. @defaultValue 20·K */
  readonly maxIterations?: number;
}

/** Above 2× this many breakpoint groups, a sweep evaluates ψ at this many evenly spaced ones first. */
const COARSE_POINTS = 128;
/** ... and then at every group around this many of the best of those (the first along t when tied). */
const REFINED_POINTS = 4;

/** Plateau moves (ψ kept, likelihood up) allowed per class, and the least likelihood gain (nats per sample) of one. */
const PLATEAU_MOVES = 2;
const PLATEAU_GAIN = 1e-3;

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
 * interval of t (N + 1 evaluations, no step size). Above 256 distinct breakpoints a line search evaluates ψ at 128
 * evenly spaced ones, then at every one around the best few of those (coarse to fine, about 20× fewer evaluations
 * for N = 5000; exact below). The directions are every single class and every set of the
 * classes with the lowest validation recalls (cut between distinct recall values: raising the tied worst classes
 * together is what lifts a min-type objective off a plateau). Each move takes the best direction; ties in ψ go to
 * the larger mean log-likelihood of the labels under softmax(s + a), so the result does not depend on the class
 * order. It starts at zero offsets and accepts moves that raise ψ; on a plateau (no direction raises ψ, e.g.
 * several classes tied at the minimum) it may take up to 2K moves that keep ψ and raise the likelihood by at least
 * 1e-3 nats per sample (toward the offsets that calibrate the model to the validation set), which often opens a
 * rise again. So the fitted ψ is never below the start's (beyond 1e-9 of rounding). With K = 2 and N ≤ 256 one line search is exhaustive over thresholds, so it reaches the optimum.
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
  let plateaus = 0;
  for (; iterations < maxIterations; iterations++) {
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

/** Mean log softmax(v)_y of the adjusted scores. */
function meanLogLikelihood(adj: Adjusted, labels: Int32Array): number {
  const { k, v, rowMax, e } = adj;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += e[i * k + c]!;
    total += v[i * k + labels[i]!]! - rowMax[i]! - Math.log(sum);
  }
  return total / labels.length;
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

/** The adjusted scores v = s + a of the current offsets, their row maxima and exp(v − row max): one pass per move. */
interface Adjusted {
  readonly k: number;
  readonly v: Float64Array;
  readonly rowMax: Float64Array;
  readonly e: Float64Array;
}

function adjust(s: Float64Array, a: Float64Array): Adjusted {
  const k = a.length;
  const n = s.length / k;
  const v = new Float64Array(s.length);
  const rowMax = new Float64Array(n);
  const e = new Float64Array(s.length);
  for (let i = 0; i < n; i++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      v[i * k + c] = s[i * k + c]! + a[c]!;
      max = Math.max(max, v[i * k + c]!);
    }
    rowMax[i] = max;
    for (let c = 0; c < k; c++) e[i * k + c] = Math.exp(v[i * k + c]! - max);
  }
  return { k, v, rowMax, e };
}

/** Arg-max, max and log-sum-exp of sample i's adjusted scores over the classes inside (or outside) a set. */
function groupStats(adj: Adjusted, i: number, members: Uint8Array, inside: 0 | 1): { arg: number; max: number; lse: number } {
  const { k, v, e } = adj;
  let arg = -1;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let c = 0; c < k; c++) {
    if (members[c] !== inside) continue;
    const x = v[i * k + c]!;
    if (arg < 0 || x > max) {
      arg = c;
      max = x;
    }
    sum += e[i * k + c]!;
  }
  if (sum > 0) return { arg, max, lse: adj.rowMax[i]! + Math.log(sum) };
  // Every member is more than ~745 below the row's maximum: sum relative to the group's own maximum instead.
  for (let c = 0; c < k; c++) if (members[c] === inside) sum += Math.exp(v[i * k + c]! - max);
  return { arg, max, lse: max + Math.log(sum) };
}

/** ψ along one direction: on every interval between the samples' breakpoints, plus what the tie-break needs. */
interface Sweep {
  readonly members: Uint8Array;
  /** Breakpoints, ascending; interval r is (edges[r − 1], edges[r]) with edges[−1] = −∞ and edges[m] = +∞. */
  readonly edges: readonly number[];
  /** ψ on each interval. */
  readonly values: readonly number[];
  readonly top: number;
  /** Per sample: log-sum-exp of s + a over the classes inside and outside the set. */
  readonly insideLse: Float64Array;
  readonly outsideLse: Float64Array;
  /** Labels that fall inside the set. */
  readonly count: number;
}

/**
 * Raising the offsets of the classes in `members` by t, the others fixed: each sample switches from its best class
 * outside the set to its best inside at one breakpoint; sorting them gives ψ on every interval of t. `counts`
 * holds the current confusion matrix; it is used as scratch and restored.
 */
function sweep(members: Uint8Array, adj: Adjusted, labels: Int32Array, counts: Float64Array, psi: () => number): Sweep {
  const k = adj.k;
  const n = labels.length;
  const saved = Float64Array.from(counts);
  const insideArg = new Int32Array(n);
  const outsideArg = new Int32Array(n);
  const breakpoint = new Float64Array(n);
  const insideLse = new Float64Array(n);
  const outsideLse = new Float64Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const inside = groupStats(adj, i, members, 1);
    const outside = groupStats(adj, i, members, 0);
    insideArg[i] = inside.arg;
    outsideArg[i] = outside.arg;
    breakpoint[i] = outside.max - inside.max;
    insideLse[i] = inside.lse;
    outsideLse[i] = outside.lse;
    count += members[labels[i]!]!;
  }
  const base = new Float64Array(k * k); // t below every breakpoint: every sample predicts its best class outside the set
  for (let i = 0; i < n; i++) base[labels[i]! * k + outsideArg[i]!]! += 1;
  // Samples in ascending breakpoint order, grouped by equal breakpoints: a native sort of the values, then a
  // counting sort of the samples into the groups (a comparator sort of the indices costs several times more).
  const sorted = Float64Array.from(breakpoint).sort();
  const edges: number[] = [];
  for (let p = 0; p < n; p++) if (p === 0 || sorted[p] !== sorted[p - 1]) edges.push(sorted[p]!);
  const groupOf = new Int32Array(n);
  const groupStart = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < n; i++) {
    let lo = 0;
    let hi = edges.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid]! < breakpoint[i]!) lo = mid + 1;
      else hi = mid;
    }
    groupOf[i] = lo;
    groupStart[lo + 1]! += 1;
  }
  for (let g = 0; g < edges.length; g++) groupStart[g + 1]! += groupStart[g]!;
  const order = new Int32Array(n);
  const next = groupStart.slice(0, edges.length);
  for (let i = 0; i < n; i++) order[next[groupOf[i]!]!++] = i;
  const groups = edges.length;
  const values: number[] = new Array<number>(groups + 1).fill(Number.NaN);
  // ψ on intervals from..to (every `stride`-th), switching the groups on the way; counts start at interval `from`.
  const evaluate = (from: number, to: number, stride: number): void => {
    counts.set(base);
    for (let r = 0; r <= to; r++) {
      if (r > 0) {
        for (let p = groupStart[r - 1]!; p < groupStart[r]!; p++) {
          const i = order[p]!;
          counts[labels[i]! * k + outsideArg[i]!]! -= 1;
          counts[labels[i]! * k + insideArg[i]!]! += 1;
        }
      }
      if (r >= from && ((r - from) % stride === 0 || r === to) && Number.isNaN(values[r]!)) values[r] = psi();
    }
  };
  // Every interval when there are few; else every stride-th, then every interval around the best few of those.
  const stride = groups <= 2 * COARSE_POINTS ? 1 : Math.ceil(groups / COARSE_POINTS);
  evaluate(0, groups, stride);
  if (stride > 1) {
    let coarseTop = Number.NEGATIVE_INFINITY;
    for (const v of values) if (!Number.isNaN(v)) coarseTop = Math.max(coarseTop, v);
    const around = values.flatMap((v, r) => (v >= coarseTop - TIE ? [r] : [])).slice(0, REFINED_POINTS);
    for (const r of around) evaluate(Math.max(0, r - stride + 1), Math.min(groups, r + stride - 1), 1);
  }
  counts.set(saved);
  let top = Number.NEGATIVE_INFINITY;
  for (const v of values) if (!Number.isNaN(v)) top = Math.max(top, v);
  return { members, edges, values, top, insideLse, outsideLse, count };
}

/**
 * Among the intervals of a sweep tied for its best ψ, the point of largest log-likelihood (concave in t, so: its
 * maximiser if it lies in a tied interval, else the point of the nearest tied interval next to it).
 */
function pointOf(w: Sweep, s: Float64Array, labels: Int32Array, a: Float64Array): Move {
  const { edges, values, top } = w;
  const lo = (r: number): number => (r === 0 ? Number.NEGATIVE_INFINITY : edges[r - 1]!);
  const hi = (r: number): number => (r === edges.length ? Number.POSITIVE_INFINITY : edges[r]!);
  // Clamped into the breakpoints' range ± 1, so an infinite maximiser (no or every label in the set) picks a point.
  const target = Math.min(Math.max(likelihoodMaximizer(w.count, w.insideLse, w.outsideLse), edges[0]! - 1), edges[edges.length - 1]! + 1);
  let chosen = Number.NaN;
  let distance = Number.POSITIVE_INFINITY;
  for (let r = 0; r < values.length; r++) {
    if (!(values[r]! >= top - TIE)) continue; // also skips the intervals a coarse sweep did not evaluate
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
  return { offset: chosen, value, likelihood: likelihoodAt(chosen, w.members, s, labels, a, w.insideLse, w.outsideLse) };
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
 * The shift t maximising the mean log-likelihood: its derivative (#labels in the set − Σ_n σ(u_n + t)) / N, with
 * u_n = inside − outside log-sum-exp, decreases in t. Newton steps inside a bracket that halves when a step leaves
 * it. ±∞ when no label (every label) is in the set.
 */
function likelihoodMaximizer(count: number, insideLse: Float64Array, outsideLse: Float64Array): number {
  const n = insideLse.length;
  if (count === 0) return Number.NEGATIVE_INFINITY;
  if (count === n) return Number.POSITIVE_INFINITY;
  const slopeAndCurvature = (t: number): [number, number] => {
    let p = 0;
    let q = 0;
    for (let i = 0; i < n; i++) {
      const sigma = 1 / (1 + Math.exp(outsideLse[i]! - insideLse[i]! - t));
      p += sigma;
      q += sigma * (1 - sigma);
    }
    return [count - p, q];
  };
  let lo = -1;
  let hi = 1;
  for (let e = 0; e < 60 && slopeAndCurvature(lo)[0] < 0; e++) lo -= 2 ** e;
  for (let e = 0; e < 60 && slopeAndCurvature(hi)[0] > 0; e++) hi += 2 ** e;
  let t = (lo + hi) / 2;
  for (let it = 0; it < 100; it++) {
    const [g, h] = slopeAndCurvature(t);
    if (g > 0) lo = t;
    else hi = t;
    if (Math.abs(g) < 1e-12 * n || hi - lo < 1e-12) break;
    const newton = h > 0 ? t + g / h : Number.NaN;
    t = newton > lo && newton < hi ? newton : (lo + hi) / 2;
  }
  return t;
}
