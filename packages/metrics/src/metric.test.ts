import { fc, test as property } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { arbConfusion, arbPermuted, centralDifference, expectClose, relabel, scale } from "../test/support.ts";
import { type ConfusionMatrix, confusionFromPredictions, confusionMatrix, coverages, fromValues, recalls } from "./confusion.ts";
import { coverageDeficits } from "./coverage-metrics.ts";
import { evaluateMetrics, METRIC_NAMES, type MetricName, metric } from "./metric.ts";
import { accuracy, macroF1 } from "./other-metrics.ts";
import { gMeanRecall, hMeanRecall, meanRecall, minHeadTailRecall, minRecall } from "./recall-metrics.ts";

describe("hand-computed examples", () => {
  const cm = confusionMatrix([
    [45, 5, 0],
    [10, 30, 10],
    [0, 2, 8],
  ]); // recalls 0.9, 0.6, 0.8

  test("recall family", () => {
    expect(meanRecall(cm)).toBeCloseTo((0.9 + 0.6 + 0.8) / 3, 14);
    expect(minRecall(cm)).toBeCloseTo(0.6, 14);
    expect(hMeanRecall(cm)).toBeCloseTo(3 / (1 / 0.9 + 1 / 0.6 + 1 / 0.8), 14);
    expect(gMeanRecall(cm)).toBeCloseTo((0.9 * 0.6 * 0.8) ** (1 / 3), 14);
    expect(accuracy(cm)).toBeCloseTo(83 / 110, 14);
  });

  test("head/tail split by fraction and by groups", () => {
    // K = 3, fraction 0.9 -> head = classes 0, 1 (floor 2.7 = 2), tail = class 2
    expect(minHeadTailRecall(cm)).toBeCloseTo(Math.min((0.9 + 0.6) / 2, 0.8), 14);
    expect(minHeadTailRecall(cm, { head: [0], tail: [1, 2] })).toBeCloseTo(0.7, 14);
  });

  test("macro F1", () => {
    const f = [(2 * 45) / (50 + 55), (2 * 30) / (50 + 37), (2 * 8) / (10 + 18)];
    expect(macroF1(cm)).toBeCloseTo((f[0]! + f[1]! + f[2]!) / 3, 14);
  });

  test("mean recall is sklearn's balanced accuracy", () => {
    // sklearn.metrics.balanced_accuracy_score([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1]) == 0.625
    const c = confusionFromPredictions([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1], 2);
    expect(meanRecall(c)).toBe(0.625);
  });

  test("zero recall makes H-mean and G-mean 0", () => {
    const z = confusionMatrix([[5, 0], [3, 0]]);
    expect(hMeanRecall(z)).toBe(0);
    expect(gMeanRecall(z)).toBe(0);
    expect(Array.from(metric("g-mean").gradient(z)).every((g) => g === 0)).toBe(true);
    // H ≈ K·r near r = 0, so its gradient points at the zero-recall class only.
    const h = metric("h-mean").gradient(z);
    expect(h[3]).toBeCloseTo(2 / 3, 12); // ∂H/∂r_1 = K = 2, ∂r_1/∂C[1][1] = 1/3
    expect(h[0]).toBe(0);
  });

  test("evaluateMetrics reports everything with K-length arrays", () => {
    const report = evaluateMetrics(cm);
    expect(Object.keys(report).sort()).toEqual(
      ["accuracy", "coverage", "gMean", "hMean", "meanRecall", "minCoverage", "minHeadTailRecall", "minRecall", "recall"].sort(),
    );
    expect(report.recall).toHaveLength(3);
    expect(report.coverage).toHaveLength(3);
    expect(report.minCoverage).toBeCloseTo(18 / 110, 14);
  });
});

const all = METRIC_NAMES.map((n) => [n, metric(n)] as const);

describe.each(all)("%s", (_name, m) => {
  property.prop([arbConfusion()])("lies in [0, 1]", (cm) => {
    const v = m.value(cm);
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThanOrEqual(1 + 1e-15);
  });

  property.prop([arbConfusion(), fc.double({ min: 1e-3, max: 1e3, noNaN: true })])("ignores the scale of the counts", (cm, c) => {
    expectClose([m.value(scale(cm, c))], [m.value(cm)], 1e-12, 1e-9);
  });

  property.prop([fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 500 })])("a perfect classifier scores 1 (coverage: 1/K)", (k, n) => {
    const perfect = fromValues(k, Float64Array.from({ length: k * k }, (_, i) => (Math.floor(i / k) === i % k ? n : 0)));
    expect(m.value(perfect)).toBeCloseTo(m.name === "min-coverage" ? 1 / k : 1, 12);
  });
});

// Class-symmetric aggregates: relabelling classes must not change them (head/tail depends on the order by design).
const symmetric: MetricName[] = ["accuracy", "mean-recall", "min-recall", "h-mean", "g-mean", "min-coverage", "macro-f1", "mean-recall-min-coverage", "h-mean-min-coverage"];
describe.each(symmetric)("%s under relabelling", (name) => {
  property.prop([arbPermuted()])("is invariant", ([cm, perm]) => {
    const m = metric(name);
    expectClose([m.value(relabel(cm, perm))], [m.value(cm)], 1e-12, 1e-9);
  });
});

property.prop([arbConfusion()])("min <= H-mean <= G-mean <= mean recall <= max recall", (cm) => {
  const eps = 1e-12;
  const r = recalls(cm);
  expect(minRecall(cm)).toBeLessThanOrEqual(hMeanRecall(cm) + eps);
  expect(hMeanRecall(cm)).toBeLessThanOrEqual(gMeanRecall(cm) + eps);
  expect(gMeanRecall(cm)).toBeLessThanOrEqual(meanRecall(cm) + eps);
  expect(meanRecall(cm)).toBeLessThanOrEqual(Math.max(...r) + eps);
});

/** Matrices away from the kinks of min(), max(0, ·) and ties, where a derivative exists. */
function smoothAt(name: MetricName, cm: ConfusionMatrix): boolean {
  const gap = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length < 2 ? 1 : s[1]! - s[0]!;
  };
  const r = Array.from(recalls(cm));
  const k = cm.numClasses;
  switch (name) {
    case "min-recall":
      return gap(r) > 1e-3;
    case "min-coverage":
      return gap(Array.from(coverages(cm))) > 1e-3;
    case "min-head-tail-recall": {
      const nh = Math.floor(0.9 * k + 1e-9);
      const head = r.slice(0, nh).reduce((a, b) => a + b, 0) / nh;
      const tail = r.slice(nh).reduce((a, b) => a + b, 0) / (k - nh);
      return Math.abs(head - tail) > 1e-3;
    }
    case "mean-recall-min-coverage":
    case "h-mean-min-coverage":
      return Array.from(coverages(cm)).every((c) => Math.abs(c - 0.95 / k) > 1e-3) && coverageDeficits(cm).reduce((a, b) => a + b, 0) < 0.5;
    default:
      return true;
  }
}

describe.each(all)("%s gradient", (name, m) => {
  property.prop([arbConfusion({ minCount: 1, maxClasses: 6 })])("equals central finite differences", (cm) => {
    fc.pre(smoothAt(name, cm));
    const h = 1e-4;
    const numeric = centralDifference(m.value, cm, h);
    const analytic = m.gradient(cm);
    const scaleOf = Math.max(...numeric.map(Math.abs), 1e-12);
    expectClose(analytic, numeric, 1e-6 * scaleOf, 1e-4);
  });
});
