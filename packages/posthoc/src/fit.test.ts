import { fc, test as property } from "@fast-check/vitest";
import { createRng } from "@selmix/core";
import { confusionFromPredictions, createObjective, OBJECTIVE_NAMES, type ObjectiveName, pluginObjective, recalls } from "@selmix/metrics";
import { describe, expect, test } from "vitest";
import { fitPosthoc } from "./fit.ts";
import { adjustedPredictions } from "./scores.ts";

/** A long-tailed model's validation scores: true-class signal, a bias toward the head classes, noise. */
function scoredSet(seed: number, k: number, perClass: number): { scores: Float64Array; labels: Int32Array; numClasses: number } {
  const rng = createRng(seed);
  const n = k * perClass;
  const labels = Int32Array.from({ length: n }, (_, i) => Math.floor(i / perClass));
  const bias = Float64Array.from({ length: k }, (_, c) => 1.5 * (1 - c / (k - 1)) + 0.3 * rng.normal());
  const scores = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) scores[i * k + c] = (c === labels[i] ? 1.2 : 0) + bias[c]! + rng.normal();
  return { scores, labels, numClasses: k };
}

const valueAt = (name: ObjectiveName, set: ReturnType<typeof scoredSet>, offsets: ArrayLike<number>): number =>
  createObjective(name).value(confusionFromPredictions(set.labels, adjustedPredictions(set, offsets), set.numClasses));

const arbSet = fc.record({ seed: fc.integer({ min: 0, max: 1_000_000 }), k: fc.integer({ min: 2, max: 5 }), perClass: fc.integer({ min: 3, max: 12 }) });

describe("fitPosthoc", () => {
  property.prop([arbSet, fc.constantFrom(...OBJECTIVE_NAMES)], { numRuns: 60 })("never lowers the objective of zero offsets", ({ seed, k, perClass }, name) => {
    const set = scoredSet(seed, k, perClass);
    const fit = fitPosthoc(createObjective(name), set);
    const start = valueAt(name, set, new Float64Array(k));
    expect(fit.fit.before).toBe(start);
    expect(fit.fit.after).toBeGreaterThanOrEqual(start - 1e-9);
    // The reported ψ is that of the returned offsets.
    expect(valueAt(name, set, fit.offsets)).toBeCloseTo(fit.fit.after, 12);
    expect(Math.abs(fit.offsets.reduce((a, b) => a + b, 0))).toBeLessThan(1e-9);
  });

  // Min head-tail recall splits head and tail by class index, so it is not invariant to relabelling.
  const symmetric = OBJECTIVE_NAMES.filter((n) => n !== "min-head-tail-recall");
  property.prop([arbSet, fc.constantFrom(...symmetric), fc.integer({ min: 0, max: 1000 })], { numRuns: 60 })(
    "relabelling the classes permutes the offsets and keeps the objective",
    ({ seed, k, perClass }, name, permutationSeed) => {
      const set = scoredSet(seed, k, perClass);
      const perm = Array.from({ length: k }, (_, c) => c); // new class of old class c
      const rng = createRng(permutationSeed);
      for (let i = k - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      const n = set.labels.length;
      const scores = new Float64Array(n * k);
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) scores[i * k + perm[c]!] = set.scores[i * k + c]!;
      const relabelled = { scores, labels: set.labels.map((y) => perm[y]!), numClasses: k };
      const a = fitPosthoc(createObjective(name), set);
      const b = fitPosthoc(createObjective(name), relabelled);
      expect(b.fit.after).toBeCloseTo(a.fit.after, 9);
      for (let c = 0; c < k; c++) expect(b.offsets[perm[c]!]).toBeCloseTo(a.offsets[c]!, 6);
    },
  );

  property.prop([fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(...symmetric), fc.integer({ min: 0, max: 1000 })], { numRuns: 8 })(
    "large sets (coarse-to-fine sweeps): never below the start, and relabelling permutes the offsets",
    (seed, name, permutationSeed) => {
      const k = 4;
      const set = scoredSet(seed, k, 150);
      const rng = createRng(permutationSeed);
      const perm = [0, 1, 2, 3];
      for (let i = k - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      const n = set.labels.length;
      const scores = new Float64Array(n * k);
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) scores[i * k + perm[c]!] = set.scores[i * k + c]!;
      const a = fitPosthoc(createObjective(name), set);
      const b = fitPosthoc(createObjective(name), { scores, labels: set.labels.map((y) => perm[y]!), numClasses: k });
      expect(a.fit.after).toBeGreaterThanOrEqual(a.fit.before - 1e-9);
      expect(valueAt(name, set, a.offsets)).toBeCloseTo(a.fit.after, 12);
      expect(b.fit.after).toBeCloseTo(a.fit.after, 9);
      for (let c = 0; c < k; c++) expect(b.offsets[perm[c]!]).toBeCloseTo(a.offsets[c]!, 6);
    },
  );

  property.prop([arbSet.map((r) => ({ ...r, k: 2 })), fc.constantFrom(...OBJECTIVE_NAMES)], { numRuns: 60 })(
    "K = 2: reaches the best threshold (exhaustive search)",
    ({ seed, perClass }, name) => {
      const set = scoredSet(seed, 2, perClass);
      const objective = createObjective(name);
      const n = set.labels.length;
      const margins = Array.from({ length: n }, (_, i) => set.scores[i * 2 + 1]! - set.scores[i * 2]!).sort((x, y) => x - y);
      // Predict 1 iff margin > t: every distinct prediction set is one t between (or outside) the sorted margins.
      const thresholds = [margins[0]! - 1, ...margins.map((m, i) => (m + (margins[i + 1] ?? m + 2)) / 2)];
      let best = Number.NEGATIVE_INFINITY;
      for (const t of thresholds) {
        const predicted = Int32Array.from({ length: n }, (_, i) => (set.scores[i * 2 + 1]! - set.scores[i * 2]! > t ? 1 : 0));
        best = Math.max(best, objective.value(confusionFromPredictions(set.labels, predicted, 2)));
      }
      expect(fitPosthoc(objective, set).fit.after).toBeCloseTo(best, 12);
    },
  );

  test("works on probabilities as on their logarithm, and for a plug-in objective", () => {
    const set = scoredSet(7, 4, 20);
    const probabilities = new Float64Array(set.scores.length);
    for (let i = 0; i < set.labels.length; i++) {
      const row = set.scores.subarray(i * 4, i * 4 + 4);
      const max = Math.max(...row);
      const sum = row.reduce((a, v) => a + Math.exp(v - max), 0);
      for (let c = 0; c < 4; c++) probabilities[i * 4 + c] = Math.exp(row[c]! - max) / sum;
    }
    const objective = pluginObjective({ name: "recall-3", psi: (cm) => Math.min(recalls(cm)[3]!, 0.5) + recalls(cm)[0]! });
    const fromLogits = fitPosthoc(objective, set);
    const fromProbabilities = fitPosthoc(objective, { ...set, scores: probabilities, space: "probabilities" });
    expect(fromProbabilities.fit.after).toBeCloseTo(fromLogits.fit.after, 9);
    expect(fromLogits.fit.after).toBeGreaterThan(fromLogits.fit.before);
    for (let c = 0; c < 4; c++) expect(fromProbabilities.offsets[c]).toBeCloseTo(fromLogits.offsets[c]!, 6);
  });

  test("the evaluation budget stops between moves", () => {
    const set = scoredSet(3, 10, 30);
    const full = fitPosthoc(createObjective("min-recall"), set);
    const capped = fitPosthoc(createObjective("min-recall"), set, { maxEvaluations: 1 });
    expect(capped.iterations).toBe(1); // the first move completes, then the budget is spent
    expect(full.iterations).toBeGreaterThan(1);
    expect(capped.fit.after).toBeLessThanOrEqual(full.fit.after);
  });

  test("is deterministic and lifts min recall of a head-biased model", () => {
    const set = scoredSet(3, 10, 30);
    const a = fitPosthoc(createObjective("min-recall"), set);
    const b = fitPosthoc(createObjective("min-recall"), set);
    expect(Array.from(a.offsets)).toEqual(Array.from(b.offsets));
    expect(a.fit.after).toBeGreaterThan(a.fit.before + 0.1);
    // Tail classes (large index, negative bias) get the larger offsets.
    expect(a.offsets[9]!).toBeGreaterThan(a.offsets[0]!);
  });

  test("bad input gets coded errors", () => {
    const objective = createObjective("mean-recall");
    expect(() => fitPosthoc(objective, { scores: [1, 2, 3], labels: [0], numClasses: 2 })).toThrow(expect.objectContaining({ code: "INVALID_SHAPE" }));
    expect(() => fitPosthoc(objective, { scores: [1, 2], labels: [0, 1], numClasses: 2 })).toThrow(/1 rows but labels have 2/);
    expect(() => fitPosthoc(objective, { scores: [1, Number.NaN], labels: [0], numClasses: 2 })).toThrow(/scores\[0\]\[1\] must be finite/);
    expect(() => fitPosthoc(objective, { scores: [0.5, 1.5], labels: [0], numClasses: 2, space: "probabilities" })).toThrow(/probability/);
    expect(() => fitPosthoc(objective, { scores: [1, 2], labels: [2], numClasses: 2 })).toThrow(/labels\[0\] must be a class/);
    expect(() => fitPosthoc(objective, { scores: [1, 2, 2, 1], labels: [0, 1], numClasses: 2 }, { maxIterations: -1 })).toThrow(/maxIterations/);
    expect(() => fitPosthoc(objective, { scores: [1, 2, 2, 1], labels: [0, 0], numClasses: 2 })).toThrow(expect.objectContaining({ code: "EMPTY_CLASS" }));
    expect(() => fitPosthoc(objective, { scores: [1, 2, 2, 1], labels: [0, 1], numClasses: 2 }, { maxEvaluations: Number.NaN })).toThrow(/maxEvaluations/);
  });
});
