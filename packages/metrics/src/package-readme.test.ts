//#region readme
import { confusionMatrix, createObjective, evaluateMetrics, metric, pluginObjective, recalls } from "@selmix/metrics";
//#endregion readme
import { expect, test } from "vitest";
import { expectReadmeExample } from "../../../test-support/readme-example.ts";

test("the README example runs and gives the documented numbers", () => {
  //#region readme
  const cm = confusionMatrix([[45, 5, 0], [10, 30, 10], [0, 2, 8]]); // counts or joint probabilities, rows = true class
  const report = evaluateMetrics(cm); // { accuracy, meanRecall, minRecall, hMean, gMean, minHeadTailRecall, minCoverage, recall, coverage }
  const dH = metric("h-mean").gradient(cm); // ∂H/∂C, K×K row-major

  // SelMix objective: derivative D = ∂ψ/∂C, normaliser, and multipliers to carry to the next refresh
  const minRecall = createObjective("min-recall"); // λ = softmax(−50·recall), the reference default
  const first = minRecall.linearize(cm);
  const next = minRecall.linearize(cm, first.state);

  // Your own metric: only ψ(C) is needed
  const mine = pluginObjective({ name: "recall-of-class-2", psi: (c) => recalls(c)[2]! });
  //#endregion readme

  expect(Array.from(report.recall)).toEqual([0.9, 0.6, 0.8]);
  expect(report.accuracy).toBeCloseTo(83 / 110, 12);
  expect(report.meanRecall).toBeCloseTo(2.3 / 3, 12);
  expect(report.minRecall).toBeCloseTo(0.6, 12);
  expect(report.hMean).toBeCloseTo(3 / (1 / 0.9 + 1 / 0.6 + 1 / 0.8), 12);
  expect(dH).toHaveLength(9);
  expect(first.derivative).toHaveLength(9);
  expect(first.normalizer).toBe(1);
  // λ = softmax(−50·recall) puts almost all weight on the worst class (class 1, recall 0.6)
  const lambda = first.state.multipliers!;
  expect(lambda[1]).toBeGreaterThan(0.99);
  expect(next.state.multipliers).toHaveLength(3);
  expect(mine.value(cm)).toBeCloseTo(0.8, 12);
  expect(mine.linearize(cm).derivative).toHaveLength(9);
});

test("the README example is the tested code", () => {
  expectReadmeExample(new URL("../", import.meta.url));
});
