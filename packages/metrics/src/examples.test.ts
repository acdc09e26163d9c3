import { isSelmixError } from "@selmix/core";
import {
  accuracy,
  accuracyGradient,
  argMin,
  CONFUSION_CLIP,
  clip,
  columnSums,
  confusionFromPredictions,
  confusionMatrix,
  coverageDeficits,
  coverageMultipliers,
  coverages,
  createObjective,
  DEFAULT_COVERAGE_ALPHA,
  DEFAULT_HEAD_FRACTION,
  evaluateMetrics,
  fromValues,
  gMeanRecall,
  gMeanRecallGradient,
  gradientFromCoverageWeights,
  gradientFromRecallWeights,
  headTailGroups,
  headTailRecall,
  hMeanRecall,
  hMeanRecallGradient,
  isObjectiveName,
  METRIC_NAMES,
  macroF1,
  macroF1Gradient,
  meanRecall,
  meanRecallGradient,
  metric,
  minCoverage,
  minCoverageGradient,
  minHeadTailRecall,
  minHeadTailRecallGradient,
  minRecall,
  minRecallGradient,
  normalize,
  numericDerivative,
  OBJECTIVE_NAMES,
  pluginObjective,
  penalizedByCoverage,
  penalizedByCoverageGradient,
  recalls,
  rowSums,
  softConfusion,
  toRows,
  total,
} from "@selmix/metrics";
import { expect, test } from "vitest";

// Each region below is the `@example` of the export it is named after (pulled into the API docs with
// `{@includeCode ./examples.test.ts#name}`), so every documented example runs here. Most use the README's
// validation matrix: recalls [0.9, 0.6, 0.8], predictions per class [55, 37, 18] of 110.

function expectCloseTo(actual: ArrayLike<number>, expected: ArrayLike<number>, digits = 9): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, digits);
}

test("confusionMatrix", () => {
  //#region confusionMatrix
  const cm = confusionMatrix([[8, 2], [1, 4]]); // rows = true class, columns = predicted class
  const joint = confusionMatrix([[0.4, 0.1], [0.05, 0.45]]); // joint probabilities work too
  //#endregion confusionMatrix

  expect(cm.numClasses).toBe(2);
  expect(Array.from(cm.values)).toEqual([8, 2, 1, 4]);
  expect(Array.from(joint.values)).toEqual([0.4, 0.1, 0.05, 0.45]);
  expect(() => confusionMatrix([[1, 2, 3]])).toThrow(/at least 2 classes/);
  expect(() => confusionMatrix([[1, -2], [3, 4]])).toThrow(/must be finite and >= 0/);
});

test("fromValues", () => {
  //#region fromValues
  const cm = fromValues(3, [5, 1, 0, 2, 6, 1, 0, 0, 4]); // K = 3, row-major
  //#endregion fromValues

  expect(toRows(cm)).toEqual([[5, 1, 0], [2, 6, 1], [0, 0, 4]]);
  expect(() => fromValues(3, [1, 2, 3, 4])).toThrow("confusion must have K*K = 9 entries, got 4");
});

test("confusionFromPredictions", () => {
  //#region confusionFromPredictions
  const yTrue = [0, 0, 1, 1, 2, 2];
  const yPred = [0, 1, 1, 1, 2, 0];
  const cm = confusionFromPredictions(yTrue, yPred, 3);
  const rows = toRows(cm); // [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
  //#endregion confusionFromPredictions

  expect(rows).toEqual([[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
  expect(() => confusionFromPredictions([0, 3], [0, 1], 3)).toThrow("yTrue[1] must be a class in [0, 3), got 3");
});

test("softConfusion", () => {
  //#region softConfusion
  const yTrue = [0, 1, 1];
  const probabilities = [0.9, 0.1, 0.3, 0.7, 0.2, 0.8]; // softmax outputs, [N, K] row-major
  const cm = softConfusion(yTrue, probabilities, 2); // rows [[0.9, 0.1], [0.5, 1.5]]
  //#endregion softConfusion

  expectCloseTo(cm.values, [0.9, 0.1, 0.5, 1.5]);
  expect(total(cm)).toBeCloseTo(3, 12);
});

test("total", () => {
  //#region total
  const samples = total(confusionMatrix([[8, 2], [1, 4]])); // 15
  //#endregion total

  expect(samples).toBe(15);
});

test("normalize", () => {
  //#region normalize
  const cm = confusionMatrix([[8, 2], [1, 4]]);
  const joint = normalize(cm); // [[8/15, 2/15], [1/15, 4/15]], sums to 1
  const same = meanRecall(joint) === meanRecall(cm); // metrics do not depend on the scale
  //#endregion normalize

  expectCloseTo(joint.values, [8 / 15, 2 / 15, 1 / 15, 4 / 15], 15);
  expect(total(joint)).toBeCloseTo(1, 15);
  expect(same).toBe(true);
  expect(Array.from(cm.values)).toEqual([8, 2, 1, 4]); // the input is not modified
});

test("rowSums", () => {
  //#region rowSums
  const perClass = rowSums(confusionMatrix([[8, 2], [1, 4]])); // [10, 5] samples per true class
  const prior = rowSums(normalize(confusionMatrix([[8, 2], [1, 4]]))); // [2/3, 1/3]
  //#endregion rowSums

  expect(Array.from(perClass)).toEqual([10, 5]);
  expectCloseTo(prior, [2 / 3, 1 / 3], 15);
});

test("columnSums", () => {
  //#region columnSums
  const predicted = columnSums(confusionMatrix([[8, 2], [1, 4]])); // [9, 6] predictions per class
  //#endregion columnSums

  expect(Array.from(predicted)).toEqual([9, 6]);
});

test("recalls", () => {
  //#region recalls
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const recall = recalls(cm); // [0.9, 0.6, 0.8]
  //#endregion recalls

  expectCloseTo(recall, [0.9, 0.6, 0.8], 15);
  try {
    recalls(confusionMatrix([[1, 0], [0, 0]]));
    expect.unreachable();
  } catch (error) {
    expect(isSelmixError(error, "EMPTY_CLASS")).toBe(true);
  }
});

test("coverages", () => {
  //#region coverages
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const coverage = coverages(cm); // [55/110, 37/110, 18/110]: class 2 is rarely predicted
  //#endregion coverages

  expectCloseTo(coverage, [0.5, 37 / 110, 18 / 110], 15);
});

test("clip", () => {
  //#region clip
  const joint = normalize(confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]));
  const safe = clip(joint, 1e-7); // no zero entry left to divide by
  //#endregion clip

  expect(safe.values[2]).toBe(1e-7);
  expect(safe.values[6]).toBe(1e-7);
  expect(safe.values[0]).toBe(joint.values[0]);
  expect(joint.values[2]).toBe(0);
});

test("toRows", () => {
  //#region toRows
  const json = JSON.stringify(toRows(confusionMatrix([[8, 2], [1, 4]]))); // "[[8,2],[1,4]]"
  //#endregion toRows

  expect(json).toBe("[[8,2],[1,4]]");
  expect(confusionMatrix(JSON.parse(json))).toEqual(confusionMatrix([[8, 2], [1, 4]]));
});

test("DEFAULT_COVERAGE_ALPHA", () => {
  //#region DEFAULT_COVERAGE_ALPHA
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const target = DEFAULT_COVERAGE_ALPHA / cm.numClasses; // every class should get >= 0.95/3 of the predictions
  const met = Array.from(coverages(cm), (c) => c >= target); // [true, true, false]
  //#endregion DEFAULT_COVERAGE_ALPHA

  expect(DEFAULT_COVERAGE_ALPHA).toBe(0.95);
  expect(met).toEqual([true, true, false]);
});

test("gradientFromCoverageWeights", () => {
  //#region gradientFromCoverageWeights
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  // ψ = coverage of class 2, so ∂ψ/∂coverage = [0, 0, 1]
  const dPsi = gradientFromCoverageWeights(cm, [0, 0, 1]); // ∂ψ/∂C, row-major 3×3
  //#endregion gradientFromCoverageWeights

  expectCloseTo(dPsi, numericDerivative((c) => coverages(c)[2]!, cm), 9);
  expect(dPsi[2]).toBeCloseTo((1 - 18 / 110) / 110, 15);
});

test("minCoverage", () => {
  //#region minCoverage
  const worst = minCoverage(confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]])); // 18/110 ≈ 0.164
  //#endregion minCoverage

  expect(worst).toBeCloseTo(18 / 110, 15);
});

test("minCoverageGradient", () => {
  //#region minCoverageGradient
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const grad = minCoverageGradient(cm); // the gradient of class 2's coverage, the smallest
  //#endregion minCoverageGradient

  expectCloseTo(grad, numericDerivative(minCoverage, cm), 9);
  expectCloseTo(grad, gradientFromCoverageWeights(cm, [0, 0, 1]), 15);
});

test("coverageDeficits", () => {
  //#region coverageDeficits
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const deficits = coverageDeficits(cm); // [0, 0, 0.95/3 − 18/110 ≈ 0.153]
  const strict = coverageDeficits(cm, 1); // target 1/K: [0, 0, 1/3 − 18/110]
  //#endregion coverageDeficits

  expectCloseTo(deficits, [0, 0, 0.95 / 3 - 18 / 110], 15);
  expectCloseTo(strict, [0, 0, 1 / 3 - 18 / 110], 15);
  expect(() => coverageDeficits(cm, 0)).toThrow("coverage alpha must be in (0, 1], got 0");
});

test("penalizedByCoverage", () => {
  //#region penalizedByCoverage
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const score = penalizedByCoverage(meanRecall(cm), cm); // 0.767 − 0.153 ≈ 0.614
  //#endregion penalizedByCoverage

  expect(score).toBeCloseTo(2.3 / 3 - (0.95 / 3 - 18 / 110), 12);
  expect(score).toBe(metric("mean-recall-min-coverage").value(cm));
  expect(penalizedByCoverage(0.9, confusionMatrix([[5, 0], [0, 5]]))).toBe(0.9); // constraints met: no penalty
});

test("penalizedByCoverageGradient", () => {
  //#region penalizedByCoverageGradient
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const grad = penalizedByCoverageGradient(meanRecall(cm), meanRecallGradient(cm), cm);
  //#endregion penalizedByCoverageGradient

  expectCloseTo(grad, numericDerivative((c) => penalizedByCoverage(meanRecall(c), c), cm), 9);
});

test("DEFAULT_HEAD_FRACTION", () => {
  //#region DEFAULT_HEAD_FRACTION
  // classes are sorted by training frequency, so the first 90% are the head
  const { head, tail } = headTailGroups(10, { headFraction: DEFAULT_HEAD_FRACTION }); // tail = [9]
  //#endregion DEFAULT_HEAD_FRACTION

  expect(DEFAULT_HEAD_FRACTION).toBe(0.9);
  expect(head).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  expect(tail).toEqual([9]);
});

test("headTailGroups", () => {
  //#region headTailGroups
  const byFraction = headTailGroups(5, { headFraction: 0.6 }); // head [0, 1, 2], tail [3, 4]
  const explicit = headTailGroups(4, { head: [0, 2], tail: [1, 3] });
  //#endregion headTailGroups

  expect(byFraction).toEqual({ head: [0, 1, 2], tail: [3, 4] });
  expect(explicit).toEqual({ head: [0, 2], tail: [1, 3] });
  expect(() => headTailGroups(4, { head: [0, 1], tail: [1, 3] })).toThrow("class 1 is in both head and tail");
  expect(() => headTailGroups(3, { headFraction: 0.2 })).toThrow(/head fraction must leave/);
});

test("metric", () => {
  //#region metric
  const m = metric("h-mean");
  const value = m.value(confusionMatrix([[8, 2], [1, 4]])); // 0.8
  const gradient = m.gradient(confusionMatrix([[8, 2], [1, 4]])); // ∂H/∂C, row-major 2×2
  //#endregion metric

  expect(m.name).toBe("h-mean");
  expect(value).toBeCloseTo(0.8, 15);
  expectCloseTo(gradient, hMeanRecallGradient(confusionMatrix([[8, 2], [1, 4]])), 15);
  expect(metric("min-head-tail-recall", { split: { headFraction: 0.5 } }).value(confusionMatrix([[8, 2], [1, 4]]))).toBeCloseTo(0.8, 15);
});

test("METRIC_NAMES", () => {
  //#region METRIC_NAMES
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const scores = Object.fromEntries(METRIC_NAMES.map((name) => [name, metric(name).value(cm)]));
  //#endregion METRIC_NAMES

  expect(Object.keys(scores)).toHaveLength(10);
  expect(scores["min-recall"]).toBeCloseTo(0.6, 15);
  expect(scores.accuracy).toBeCloseTo(83 / 110, 15);
  for (const v of Object.values(scores)) expect(v >= 0 && v <= 1).toBe(true);
});

test("evaluateMetrics", () => {
  //#region evaluateMetrics
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const report = evaluateMetrics(cm); // { accuracy, meanRecall, minRecall, hMean, gMean, ... }
  const json = JSON.stringify(report, null, 2); // what `selmix metrics --json` prints
  //#endregion evaluateMetrics

  expect(report.recall).toEqual(Array.from(recalls(cm)));
  expect(report.accuracy).toBeCloseTo(83 / 110, 15);
  expect(report.meanRecall).toBeCloseTo(2.3 / 3, 15);
  expect(report.minRecall).toBeCloseTo(0.6, 15);
  expect(report.minHeadTailRecall).toBeCloseTo(0.75, 15); // head [0, 1] at 0.75, tail [2] at 0.8
  expect(report.minCoverage).toBeCloseTo(18 / 110, 15);
  expect(JSON.parse(json)).toEqual(report);
});

test("CONFUSION_CLIP", () => {
  //#region CONFUSION_CLIP
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const atRefresh = clip(normalize(cm), CONFUSION_CLIP); // where the reference differentiates ψ
  //#endregion CONFUSION_CLIP

  expect(CONFUSION_CLIP).toBe(1e-7);
  expect(Math.min(...atRefresh.values)).toBe(1e-7);
});

test("coverageMultipliers", () => {
  //#region coverageMultipliers
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const lambdas = coverageMultipliers(cm, 0.95, 0.01, 100); // ≈ [0, 0, 100]: only class 2 misses its target
  //#endregion coverageMultipliers

  expect(lambdas[0]).toBe(0);
  expect(lambdas[1]).toBe(0);
  expect(lambdas[2]).toBeCloseTo(100 * (1 - Math.exp((18 / 110 - 0.95 / 3) / 0.01)), 9);
  expect(lambdas[2]).toBeGreaterThan(99.99);
});

test("createObjective", () => {
  //#region createObjective
  const objective = createObjective("min-recall");
  const { derivative, normalizer, state } = objective.linearize(confusionMatrix([[8, 2], [1, 4]]));
  const next = objective.linearize(confusionMatrix([[7, 3], [1, 4]]), state); // carries the multipliers on
  //#endregion createObjective

  expect(objective.name).toBe("min-recall");
  expect(normalizer).toBe(1);
  expectCloseTo(state.multipliers!, [0.5, 0.5], 15); // equal recalls: equal weights
  expectCloseTo(derivative, [1, 0, 0, 1], 15); // K·λ on the diagonal
  expect(next.state.multipliers![0]).toBeGreaterThan(0.99); // class 0 (recall 0.7) is now the worst
});

test("isObjectiveName", () => {
  //#region isObjectiveName
  const requested: string = "h-mean"; // e.g. from a command-line flag
  const objective = isObjectiveName(requested) ? createObjective(requested) : undefined;
  //#endregion isObjectiveName

  expect(objective?.name).toBe("h-mean");
  expect(isObjectiveName("accuracy")).toBe(false); // a metric, but not a SelMix objective
});

test("OBJECTIVE_NAMES", () => {
  //#region OBJECTIVE_NAMES
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const values = OBJECTIVE_NAMES.map((name) => createObjective(name).value(cm));
  //#endregion OBJECTIVE_NAMES

  expect(OBJECTIVE_NAMES).toHaveLength(7);
  expect(OBJECTIVE_NAMES.every(isObjectiveName)).toBe(true);
  expect(values[0]).toBeCloseTo(meanRecall(cm), 15);
  expect(values[1]).toBeCloseTo(0.6, 15);
});

test("accuracy", () => {
  //#region accuracy
  const acc = accuracy(confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]])); // 83/110 ≈ 0.755
  //#endregion accuracy

  expect(acc).toBeCloseTo(83 / 110, 15);
});

test("accuracyGradient", () => {
  //#region accuracyGradient
  const grad = accuracyGradient(confusionMatrix([[8, 2], [1, 4]])); // (δ_ab − 0.8) / 15
  //#endregion accuracyGradient

  expectCloseTo(grad, [0.2 / 15, -0.8 / 15, -0.8 / 15, 0.2 / 15], 15);
  expectCloseTo(grad, numericDerivative(accuracy, confusionMatrix([[8, 2], [1, 4]])), 9);
});

test("macroF1", () => {
  //#region macroF1
  const f1 = macroF1(confusionMatrix([[8, 2], [1, 4]])); // (16/19 + 8/11) / 2 ≈ 0.785
  //#endregion macroF1

  expect(f1).toBeCloseTo((16 / 19 + 8 / 11) / 2, 15);
});

test("macroF1Gradient", () => {
  //#region macroF1Gradient
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const grad = macroF1Gradient(cm); // ∂F1/∂C, row-major 3×3
  //#endregion macroF1Gradient

  expectCloseTo(grad, numericDerivative(macroF1, cm), 9);
});

test("numericDerivative", () => {
  //#region numericDerivative
  const cm = normalize(confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]));
  const numeric = numericDerivative(meanRecall, cm); // 4·K² = 36 evaluations of ψ
  const analytic = meanRecallGradient(cm); // agrees to better than 1e-6 relative
  //#endregion numericDerivative

  for (let i = 0; i < 9; i++) expect(Math.abs(numeric[i]! - analytic[i]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(analytic[i]!)));
  expect(() => numericDerivative(() => Number.NaN, cm)).toThrow(/psi returned NaN/);
});

test("pluginObjective", () => {
  //#region pluginObjective
  // recall of class 3 plus half the recall of class 7
  const objective = pluginObjective({
    name: "class-3-and-7",
    psi: (cm) => { const r = recalls(cm); return r[3]! + 0.5 * r[7]!; },
  });
  //#endregion pluginObjective

  // 10 classes, 10 samples each; class c is right 10 − c times and otherwise mistaken for class (c + 1) % 10
  const yTrue: number[] = [];
  const yPred: number[] = [];
  for (let c = 0; c < 10; c++) {
    for (let n = 0; n < 10; n++) {
      yTrue.push(c);
      yPred.push(n < 10 - c ? c : (c + 1) % 10);
    }
  }
  const cm = confusionFromPredictions(yTrue, yPred, 10);
  expect(objective.name).toBe("class-3-and-7");
  expect(objective.value(cm)).toBeCloseTo(0.7 + 0.5 * 0.3, 12);
  const { derivative, normalizer, state } = objective.linearize(cm);
  expect([normalizer, state.multipliers]).toEqual([1, null]);
  const joint = clip(normalize(cm), CONFUSION_CLIP);
  const expected = gradientFromRecallWeights(joint, [0, 0, 0, 1, 0, 0, 0, 0.5, 0, 0]);
  for (let i = 0; i < 100; i++) expect(derivative[i]).toBeCloseTo(expected[i]!, 5);
});

test("argMin", () => {
  //#region argMin
  const worstClass = argMin(recalls(confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]))); // 1
  const first = argMin([0.5, 0.2, 0.2]); // 1: the first one on ties
  //#endregion argMin

  expect([worstClass, first]).toEqual([1, 1]);
});

test("gradientFromRecallWeights", () => {
  //#region gradientFromRecallWeights
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  // ψ = 2·recall_0 + recall_2, so ∂ψ/∂recall = [2, 0, 1]
  const dPsi = gradientFromRecallWeights(cm, [2, 0, 1]); // ∂ψ/∂C, row-major 3×3
  //#endregion gradientFromRecallWeights

  expectCloseTo(dPsi, numericDerivative((c) => 2 * recalls(c)[0]! + recalls(c)[2]!, cm), 9);
  expect(dPsi[0]).toBeCloseTo((2 * (1 - 0.9)) / 50, 15);
  expectCloseTo(dPsi.subarray(3, 6), [0, 0, 0], 15);
});

test("meanRecall", () => {
  //#region meanRecall
  const balancedAccuracy = meanRecall(confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]])); // (0.9 + 0.6 + 0.8) / 3
  //#endregion meanRecall

  expect(balancedAccuracy).toBeCloseTo(2.3 / 3, 15);
});

test("meanRecallGradient", () => {
  //#region meanRecallGradient
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const grad = meanRecallGradient(cm); // moving a sample of class 1 onto the diagonal: +1/(3·50)
  //#endregion meanRecallGradient

  expectCloseTo(grad, numericDerivative(meanRecall, cm), 9);
  expect(grad[4]! - grad[3]!).toBeCloseTo(1 / 150, 15);
});

test("minRecall", () => {
  //#region minRecall
  const worst = minRecall(confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]])); // 0.6 (class 1)
  //#endregion minRecall

  expect(worst).toBeCloseTo(0.6, 15);
});

test("minRecallGradient", () => {
  //#region minRecallGradient
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const grad = minRecallGradient(cm); // non-zero only in row 1, the worst class
  //#endregion minRecallGradient

  expectCloseTo(grad, numericDerivative(minRecall, cm), 9);
  expectCloseTo(grad, gradientFromRecallWeights(cm, [0, 1, 0]), 15);
});

test("hMeanRecall", () => {
  //#region hMeanRecall
  const h = hMeanRecall(confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]])); // 3 / (1/0.9 + 1/0.6 + 1/0.8)
  const zero = hMeanRecall(confusionMatrix([[5, 0], [5, 0]])); // 0: class 1 is never recalled
  //#endregion hMeanRecall

  expect(h).toBeCloseTo(3 / (1 / 0.9 + 1 / 0.6 + 1 / 0.8), 15);
  expect(zero).toBe(0);
});

test("hMeanRecallGradient", () => {
  //#region hMeanRecallGradient
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const grad = hMeanRecallGradient(cm); // ∂H/∂C, row-major 3×3
  const fromZero = hMeanRecallGradient(confusionMatrix([[5, 0], [5, 0]])); // still points up: raise class 1
  //#endregion hMeanRecallGradient

  expectCloseTo(grad, numericDerivative(hMeanRecall, cm), 9);
  expectCloseTo(fromZero, [0, 0, 0, 2 / 5], 15); // ∂H/∂recall_1 = K = 2, recall_1 = C[1][1] / 5
});

test("gMeanRecall", () => {
  //#region gMeanRecall
  const g = gMeanRecall(confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]])); // (0.9 · 0.6 · 0.8)^(1/3)
  //#endregion gMeanRecall

  expect(g).toBeCloseTo(Math.cbrt(0.9 * 0.6 * 0.8), 15);
});

test("gMeanRecallGradient", () => {
  //#region gMeanRecallGradient
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const grad = gMeanRecallGradient(cm); // ∂G/∂C, row-major 3×3
  const atZero = gMeanRecallGradient(confusionMatrix([[5, 0], [5, 0]])); // all zeros, as in the reference
  //#endregion gMeanRecallGradient

  expectCloseTo(grad, numericDerivative(gMeanRecall, cm), 9);
  expect(Array.from(atZero)).toEqual([0, 0, 0, 0]);
});

test("headTailRecall", () => {
  //#region headTailRecall
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const { head, tail } = headTailRecall(cm); // head = classes 0, 1 (0.75); tail = class 2 (0.8)
  const custom = headTailRecall(cm, { head: [0], tail: [1, 2] }); // { head: 0.9, tail: 0.7 }
  //#endregion headTailRecall

  expect(head).toBeCloseTo(0.75, 15);
  expect(tail).toBeCloseTo(0.8, 15);
  expect(custom.head).toBeCloseTo(0.9, 15);
  expect(custom.tail).toBeCloseTo(0.7, 15);
});

test("minHeadTailRecall", () => {
  //#region minHeadTailRecall
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const worstGroup = minHeadTailRecall(cm); // min(0.75, 0.8) = 0.75
  const custom = minHeadTailRecall(cm, { head: [0], tail: [1, 2] }); // min(0.9, 0.7) = 0.7
  //#endregion minHeadTailRecall

  expect(worstGroup).toBeCloseTo(0.75, 15);
  expect(custom).toBeCloseTo(0.7, 15);
});

test("minHeadTailRecallGradient", () => {
  //#region minHeadTailRecallGradient
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]);
  const grad = minHeadTailRecallGradient(cm); // the head (classes 0, 1) is the worse group: row 2 is 0
  //#endregion minHeadTailRecallGradient

  expectCloseTo(grad, numericDerivative((c) => minHeadTailRecall(c), cm), 9);
  expectCloseTo(grad.subarray(6, 9), [0, 0, 0], 15);
});
