//#region readme
import { classPrototypes, effectivePairs, gainMatrix, samplingDistribution } from "@selmix/gain";
import { confusionFromPredictions, createObjective } from "@selmix/metrics";
//#endregion readme
import { expect, test } from "vitest";
import { expectReadmeExample } from "../../../test-support/readme-example.ts";

test("the README example runs", () => {
  //#region readme
  // A toy validation set (K = 3 classes, d = 2 features) and the model's linear head
  const K = 3;
  const d = 2;
  const valFeatures = [1, 0, 0.9, 0.1, 0, 1, 0.2, 0.8, 0.5, 0.5, 0.6, 0.4]; // N×d, row-major
  const valLabels = [0, 0, 1, 1, 2, 2];
  const valPredictions = [0, 0, 1, 1, 0, 0]; // argmax of the head: class 2 is never recognised
  const weights = [2, 0, 0, 2, 1, 1]; // K×d
  const bias = [0, 0, -1];

  const confusion = confusionFromPredictions(valLabels, valPredictions, K); // validation set only
  const prototypes = classPrototypes(valFeatures, valLabels, K, d); // K×d class means
  const objective = createObjective("min-recall");
  const { gain, linearization } = gainMatrix({ confusion, prototypes, weights, bias, dim: d, objective });
  const p = samplingDistribution(gain, { temperature: 0.1 }); // K×K, sums to 1
  const spread = effectivePairs(p); // how many pairs P really spreads over
  // at the next refresh pass `state: linearization.state` (the multipliers)
  //#endregion readme

  expect(gain).toBeInstanceOf(Float64Array);
  expect(gain).toHaveLength(K * K);
  expect(gain.every(Number.isFinite)).toBe(true);
  expect(Array.from(prototypes)).toEqual([0.95, 0.05, 0.1, 0.9, 0.55, 0.45].map((v) => expect.closeTo(v, 12)));
  expect(p).toHaveLength(K * K);
  expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  expect(spread).toBeGreaterThanOrEqual(1);
  expect(spread).toBeLessThanOrEqual(K * K);
  // min recall: the multipliers sit on class 2 (recall 0), and the best pair mixes into class 2
  expect(linearization.state.multipliers![2]).toBeGreaterThan(0.99);
  const best = p.indexOf(Math.max(...p));
  expect(Math.floor(best / K)).toBe(2);
});

test("the README example is the tested code", () => {
  expectReadmeExample(new URL("../", import.meta.url));
});
