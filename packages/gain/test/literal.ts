import { CONFUSION_CLIP, type ConfusionMatrix, normalize, type Objective, type ObjectiveState } from "@selmix/metrics";

/**
 * The gain exactly as section 4.2 of the method notes defines it, with the K×K×K×K logit-change tensor built
 * literally. Only for tiny K: it is the independent check of the fast algebra.
 */
export function literalGain(
  confusion: ConfusionMatrix,
  z: Float64Array,
  w: Float64Array,
  b: Float64Array,
  dim: number,
  objective: Objective,
  opts: { lambdaMin?: number; exact?: boolean; validationPrior?: boolean; state?: ObjectiveState } = {},
): Float64Array {
  const k = confusion.numClasses;
  const lb = ((opts.lambdaMin ?? 0.6) + 1) / 2;
  const c = normalize(confusion).values;
  const cc = c.map((v) => Math.max(v, CONFUSION_CLIP));
  const lin = objective.linearize(normalize(confusion), opts.state, { prior: opts.validationPrior ? "validation" : "uniform" });
  const d = lin.derivative;
  const m = new Float64Array(k * k);
  for (let q = 0; q < k; q++) {
    let prior = 0;
    for (let j = 0; j < k; j++) prior += c[q * k + j]!;
    const inv = opts.validationPrior ? 1 / prior : k;
    let dot = 0;
    for (let j = 0; j < k; j++) dot += d[q * k + j]! * cc[q * k + j]!;
    for (let l = 0; l < k; l++) m[q * k + l] = (cc[q * k + l]! * (d[q * k + l]! - inv * dot)) / lin.normalizer;
  }
  const dotv = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
    let s = 0;
    for (let t = 0; t < dim; t++) s += x[t]! * y[t]!;
    return s;
  };
  const row = (a: Float64Array, r: number): Float64Array => a.subarray(r * dim, (r + 1) * dim);
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const mixed = Float64Array.from({ length: dim }, (_, t) => lb * z[i * dim + t]! + (1 - lb) * z[j * dim + t]!);
      const logits = Float64Array.from({ length: k }, (_, l) => dotv(row(w, l), mixed) + b[l]!);
      const mx = Math.max(...logits);
      const e = logits.map((v) => Math.exp(v - mx));
      const s = e.reduce((a2, b2) => a2 + b2, 0);
      const p = e.map((v) => v / s);
      let total = 0;
      for (let q = 0; q < k; q++) {
        const target = opts.exact ? dotv(mixed, row(z, q)) : dotv(row(z, i), row(z, q));
        for (let l = 0; l < k; l++) {
          const lcr = (l === i ? target : 0) - p[l]! * dotv(mixed, row(z, q));
          total += m[q * k + l]! * lcr;
        }
      }
      g[i * k + j] = total;
    }
  }
  return g;
}
