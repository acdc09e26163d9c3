// One line search of the post-hoc fit: ψ along a direction of the offsets, and the point the tie-break picks.

/** Above 2× this many breakpoint groups, a sweep evaluates ψ at this many evenly spaced ones first. */
const COARSE_POINTS = 128;
/** ... and then at every group around this many of the best of those (the first along t when tied). */
const REFINED_POINTS = 4;

/** ψ values closer than this are a tie (float rounding differs with the class order; counts differ by far more). */
export const TIE = 1e-9;

/** Where one line search lands (the shift of its classes' offsets): the objective and the mean log-likelihood there. */
export interface Move {
  readonly offset: number;
  readonly value: number;
  readonly likelihood: number;
}

/** Mean log softmax(v)_y of the adjusted scores. */
export function meanLogLikelihood(adj: Adjusted, labels: Int32Array): number {
  const { k, v, rowMax, e } = adj;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += e[i * k + c]!;
    total += v[i * k + labels[i]!]! - rowMax[i]! - Math.log(sum);
  }
  return total / labels.length;
}

/** The adjusted scores v = s + a of the current offsets, their row maxima and exp(v − row max): one pass per move. */
export interface Adjusted {
  readonly k: number;
  readonly v: Float64Array;
  readonly rowMax: Float64Array;
  readonly e: Float64Array;
}

export function adjust(s: Float64Array, a: Float64Array): Adjusted {
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
export interface Sweep {
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
export function sweep(members: Uint8Array, adj: Adjusted, labels: Int32Array, counts: Float64Array, psi: () => number): Sweep {
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
export function pointOf(w: Sweep, s: Float64Array, labels: Int32Array, a: Float64Array): Move {
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
