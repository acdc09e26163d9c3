//#region readme
import { createRng } from "@selmix/core";
import { createPairSampler, pseudoLabelPool } from "@selmix/samplers";
//#endregion readme
import { expect, test } from "vitest";
import { expectReadmeExample } from "../../../test-support/readme-example.ts";

test("the README example runs", () => {
  //#region readme
  const k = 2;
  // P(i, j) = weight of mixing class i with class j, K*K row-major (e.g. samplingDistribution of @selmix/gain)
  const p = new Float64Array([0.1, 0.6, 0.1, 0.2]);
  const labelledIdx = new Int32Array([0, 1, 2, 3]);
  const labelledY = [0, 0, 1, 1];
  // semi-supervised: unlabelled images, classed by the model's softmax outputs (N×K), never by ground truth
  const unlabelledIdx = new Int32Array([10, 11, 12]);
  const softmaxOutputs = new Float32Array([0.9, 0.1, 0.2, 0.8, 0.3, 0.7]);

  const rng = createRng(0);
  const sampler = createPairSampler({
    distribution: p,
    numClasses: k,
    first: { indices: labelledIdx, labels: labelledY }, // labelled set, true labels
    partner: pseudoLabelPool(unlabelledIdx, { probabilities: softmaxOutputs, numClasses: k }),
    rng,
  });
  const { first, partner, firstClass, partnerClass } = sampler.sample(64); // Int32Array each
  //#endregion readme

  for (const a of [first, partner, firstClass, partnerClass]) {
    expect(a).toBeInstanceOf(Int32Array);
    expect(a).toHaveLength(64);
  }
  const pseudo = new Map([[10, 0], [11, 1], [12, 1]]); // argmax of softmaxOutputs
  for (let n = 0; n < 64; n++) {
    expect(labelledY[first[n]!]).toBe(firstClass[n]);
    expect(pseudo.get(partner[n]!)).toBe(partnerClass[n]);
  }
  // (0, 1) has 60% of P (54.5% after the exploration floor): by far the most frequent pair
  const counts = [0, 0, 0, 0];
  for (let n = 0; n < 64; n++) counts[firstClass[n]! * k + partnerClass[n]!]! += 1;
  expect(counts.indexOf(Math.max(...counts))).toBe(1);
  expect(sampler.effective.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  // same seed, same draws
  const again = createPairSampler({
    distribution: p,
    numClasses: k,
    first: { indices: labelledIdx, labels: labelledY },
    partner: pseudoLabelPool(unlabelledIdx, { probabilities: softmaxOutputs, numClasses: k }),
    rng: createRng(0),
  }).sample(64);
  expect(again.first).toEqual(first);
  expect(again.partner).toEqual(partner);
});

test("the README example is the tested code", () => {
  expectReadmeExample(new URL("../", import.meta.url));
});
