import {
  classPrototypes,
  effectivePairs,
  gainMatrix,
  gainMatrixStreaming,
  matmulTransposed,
  samplingDistribution,
  topPairs,
  transpose,
} from "@selmix/gain";
import { confusionMatrix, createObjective, hMeanRecall } from "@selmix/metrics";
import { expect, test } from "vitest";

// Each region below is the `@example` of the export it is named after (pulled into the API docs with
// `{@includeCode ./examples.test.ts#name}`), so every documented example runs here.

function expectCloseTo(actual: ArrayLike<number>, expected: ArrayLike<number>, digits = 12): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, digits);
}

test("gainMatrix", () => {
  //#region gainMatrix
  const confusion = confusionMatrix([[9, 1, 0], [2, 8, 0], [3, 3, 4]]); // validation set, rows = true class
  const prototypes = [1, 0, 0, 1, 0.5, 0.5]; // class means of the features, K×d (see classPrototypes)
  const weights = [2, 0, 0, 2, 1, 1]; // linear head, K×d
  const bias = [0, 0, -1];
  const { gain, linearization } = gainMatrix({ confusion, prototypes, weights, bias, dim: 2, objective: createObjective("min-recall") });
  const p = samplingDistribution(gain, { temperature: 0.1 });
  //#endregion gainMatrix

  expect(gain).toHaveLength(9);
  expect(gain.every(Number.isFinite)).toBe(true);
  // min recall: the multipliers sit on class 2 (recall 0.4), and the likeliest pair mixes into class 2
  expect(linearization.state.multipliers![2]).toBeGreaterThan(0.99);
  expect(Math.floor(p.indexOf(Math.max(...p)) / 3)).toBe(2);
  expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  const streaming = gainMatrixStreaming({ confusion, prototypes, weights, bias, dim: 2, objective: createObjective("min-recall") });
  expectCloseTo(gain, streaming.gain, 12);
  expect(() => gainMatrix({ confusion, prototypes, weights, bias: [0, 0], dim: 2, objective: createObjective("min-recall") })).toThrow(
    "head bias must be K = 3 values, got 2",
  );
});

test("gainMatrixStreaming", () => {
  //#region gainMatrixStreaming
  const inputs = {
    confusion: confusionMatrix([[9, 1, 0], [2, 8, 0], [3, 3, 4]]),
    prototypes: [1, 0, 0, 1, 0.5, 0.5],
    weights: [2, 0, 0, 2, 1, 1],
    bias: [0, 0, -1],
    dim: 2,
    objective: createObjective("h-mean"),
  };
  const fast = gainMatrix(inputs).gain;
  const reference = gainMatrixStreaming(inputs).gain; // K³ exponentials; the same numbers to rounding
  //#endregion gainMatrixStreaming

  expectCloseTo(reference, fast, 12);
  expect(gainMatrixStreaming(inputs).fallbackEntries).toBe(0);
  expect(inputs.objective.value(inputs.confusion)).toBeCloseTo(hMeanRecall(inputs.confusion), 15);
  expect(reference.some((g) => g > 0)).toBe(true);
});

test("samplingDistribution", () => {
  //#region samplingDistribution
  const gain = Float64Array.of(0, 0.2, -0.1, 0.05); // K = 2, row-major
  const p = samplingDistribution(gain, { temperature: 0.1 }); // ≈ [0, 0.82, 0, 0.18]: only positive gains count
  const flatter = samplingDistribution(gain, { temperature: 1 }); // ≈ [0, 0.54, 0, 0.46]
  const none = samplingDistribution(Float64Array.of(-1, 0, -2, -3)); // no positive gain: uniform
  //#endregion samplingDistribution

  const masked = (t: number): number[] => [0, Math.exp(0.2 / t), 0, Math.exp(0.05 / t)];
  const z = (t: number): number => Math.exp(0 / t) + Math.exp(0.2 / t) + Math.exp(-0.1 / t) + Math.exp(0.05 / t);
  for (const [dist, t] of [[p, 0.1], [flatter, 1]] as const) {
    const raw = masked(t).map((v) => v / z(t) + 1e-8);
    const sum = raw.reduce((a, b) => a + b, 0);
    expectCloseTo(dist, raw.map((v) => v / sum), 12);
  }
  expect(p[1]).toBeCloseTo(0.82, 2);
  expect(flatter[1]).toBeCloseTo(0.54, 2);
  expect(Array.from(none)).toEqual([0.25, 0.25, 0.25, 0.25]);
  expect(() => samplingDistribution(gain, { temperature: 0 })).toThrow("temperature must be > 0, got 0");
});

test("effectivePairs", () => {
  //#region effectivePairs
  const uniform = effectivePairs(new Float64Array(9).fill(1 / 9)); // 9 = K²: no preference at all
  const collapsed = effectivePairs(Float64Array.of(1, 0, 0, 0)); // 1: every draw is the same pair
  const two = effectivePairs(Float64Array.of(0.5, 0, 0, 0.5)); // 2
  //#endregion effectivePairs

  expect(uniform).toBeCloseTo(9, 12);
  expect(collapsed).toBe(1);
  expect(two).toBeCloseTo(2, 12);
});

test("topPairs", () => {
  //#region topPairs
  const gain = Float64Array.of(0, 0.2, -0.1, 0.05, 0, 0.3, 0.1, 0, 0); // K = 3, row-major
  const best = topPairs(gain, 3, 2); // [{ i: 1, j: 2, value: 0.3 }, { i: 0, j: 1, value: 0.2 }]
  //#endregion topPairs

  expect(best).toEqual([
    { i: 1, j: 2, value: 0.3 },
    { i: 0, j: 1, value: 0.2 },
  ]);
  expect(topPairs(gain, 3, 100)).toHaveLength(9);
  expect(topPairs(Float64Array.of(1, 1, 1, 1), 2, 2)).toEqual([
    { i: 0, j: 0, value: 1 },
    { i: 0, j: 1, value: 1 },
  ]);
});

test("matmulTransposed", () => {
  //#region matmulTransposed
  const a = Float64Array.of(1, 2, 3, 4, 5, 6); // [2, 3]
  const b = Float64Array.of(1, 0, 1, 0, 1, 0); // [2, 3]
  const product = matmulTransposed(a, b, 2, 2, 3); // a·bᵀ = [[4, 2], [10, 5]]
  //#endregion matmulTransposed

  expect(Array.from(product)).toEqual([4, 2, 10, 5]);
  // odd sizes exercise the edge loops of the 2×2 blocks
  const c = Float64Array.from({ length: 15 }, (_, i) => i - 7);
  const d = Float64Array.from({ length: 10 }, (_, i) => (i % 3) - 1);
  const naive = Array.from({ length: 6 }, (_, idx) => {
    const i = Math.floor(idx / 2);
    const j = idx % 2;
    let s = 0;
    for (let l = 0; l < 5; l++) s += c[i * 5 + l]! * d[j * 5 + l]!;
    return s;
  });
  expect(Array.from(matmulTransposed(c, d, 3, 2, 5))).toEqual(naive);
});

test("transpose", () => {
  //#region transpose
  const m = Float64Array.of(1, 2, 3, 4, 5, 6); // [[1, 2, 3], [4, 5, 6]]
  const t = transpose(m, 2, 3); // [[1, 4], [2, 5], [3, 6]]
  //#endregion transpose

  expect(Array.from(t)).toEqual([1, 4, 2, 5, 3, 6]);
  expect(Array.from(transpose(t, 3, 2))).toEqual(Array.from(m));
});

test("classPrototypes", () => {
  //#region classPrototypes
  const features = [1, 0, 0.9, 0.1, 0, 1, 0.2, 0.8]; // N = 4 samples × d = 2, row-major
  const labels = [0, 0, 1, 1];
  const prototypes = classPrototypes(features, labels, 2, 2); // [0.95, 0.05, 0.1, 0.9]: one mean per class
  //#endregion classPrototypes

  expectCloseTo(prototypes, [0.95, 0.05, 0.1, 0.9], 15);
  expect(() => classPrototypes(features, labels, 3, 2)).toThrow("class 2 has no samples, so it has no prototype");
});
