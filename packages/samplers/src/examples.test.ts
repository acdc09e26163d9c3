// Every TSDoc `@example` of this package is a region of this file, pulled into the docs with `{@includeCode}`.
import { createRng } from "@selmix/core";
import {
  createClassBalancedSampler,
  createInstanceBalancedSampler,
  createPairSampler,
  createUniformPairSampler,
  pseudoLabelPool,
  withExploration,
} from "@selmix/samplers";
import { expect, test } from "vitest";

test("createClassBalancedSampler", () => {
  const indices = Int32Array.from({ length: 100 }, (_, n) => n);
  const labels = Array.from({ length: 100 }, (_, n) => (n < 91 ? n % 9 : 9)); // class 9 is rare
  //#region createClassBalancedSampler
  const sampler = createClassBalancedSampler({ pool: { indices, labels }, numClasses: 10, rng: createRng(0) });
  const batch = sampler.sample(64); // dataset indices
  //#endregion createClassBalancedSampler
  expect(batch).toBeInstanceOf(Int32Array);
  expect(batch).toHaveLength(64);
  for (const i of batch) expect(i >= 0 && i < 100).toBe(true);
  // each class is drawn with probability 1/10, so the rare class 9 (9 of 100 samples) is not starved
  const rare = createClassBalancedSampler({ pool: { indices, labels }, numClasses: 10, rng: createRng(1) }).sample(2000);
  const share = rare.filter((i) => labels[i] === 9).length / rare.length;
  expect(share).toBeGreaterThan(0.07);
  expect(share).toBeLessThan(0.13);
});

test("createInstanceBalancedSampler", () => {
  const indices = Int32Array.from({ length: 100 }, (_, n) => 1000 + n);
  //#region createInstanceBalancedSampler
  const sampler = createInstanceBalancedSampler({ pool: { indices }, rng: createRng(0) });
  const batch = sampler.sample(64);
  //#endregion createInstanceBalancedSampler
  expect(batch).toHaveLength(64);
  // without replacement: the 64 draws are 64 distinct pool members; the next 36 complete the epoch
  expect(new Set(batch).size).toBe(64);
  const rest = sampler.sample(36);
  expect([...batch, ...rest].sort((a, b) => a - b)).toEqual([...indices]);
  expect(sampler.state()?.offset).toBe(100);
});

test("withExploration", () => {
  //#region withExploration
  const p = withExploration(Float64Array.of(1, 0, 0, 0), 2); // [0.75, 0.08333, 0.08333, 0.08333]
  //#endregion withExploration
  expect(p).toBeInstanceOf(Float64Array);
  expect(p[0]).toBeCloseTo(0.75, 12);
  for (const v of p.subarray(1)) expect(v).toBeCloseTo(1 / 12, 12);
  expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
});

test("createPairSampler", () => {
  const k = 2;
  const p = Float64Array.of(0.1, 0.6, 0.1, 0.2);
  const labelledIdx = Int32Array.of(0, 1, 2, 3);
  const labelledY = [0, 0, 1, 1];
  const unlabelledIdx = Int32Array.of(10, 11, 12);
  const probabilities = Float32Array.of(0.9, 0.1, 0.2, 0.8, 0.3, 0.7);
  //#region createPairSampler
  const sampler = createPairSampler({
    distribution: p, // K*K, row-major
    numClasses: k,
    first: { indices: labelledIdx, labels: labelledY },
    partner: pseudoLabelPool(unlabelledIdx, { probabilities, numClasses: k }),
    rng: createRng(0),
  });
  const { first, partner, firstClass } = sampler.sample(64);
  //#endregion createPairSampler
  expect(first).toHaveLength(64);
  expect(partner).toHaveLength(64);
  for (let b = 0; b < 64; b++) {
    expect(labelledY[first[b]!]).toBe(firstClass[b]);
    expect([10, 11, 12]).toContain(partner[b]);
  }
  expect(sampler.numClasses).toBe(2);
  // P_eff = (P + 1/8) / (3/2)
  expect([...sampler.effective].map((v) => Number(v.toFixed(6)))).toEqual([0.15, 0.483333, 0.15, 0.216667]);
});

test("createUniformPairSampler", () => {
  const indices = Int32Array.of(0, 1, 2, 3, 4);
  const labels = [0, 0, 0, 1, 2];
  //#region createUniformPairSampler
  const sampler = createUniformPairSampler({
    numClasses: 3,
    first: { indices, labels },
    partner: { indices, labels },
    rng: createRng(0),
  });
  const { firstClass, partnerClass } = sampler.sample(32);
  //#endregion createUniformPairSampler
  expect(firstClass).toHaveLength(32);
  expect(partnerClass).toHaveLength(32);
  for (const v of sampler.effective) expect(v).toBeCloseTo(1 / 9, 12);
  // classes, not instances, are uniform: class 0 (3 of 5 samples) is about a third of the first samples
  const many = sampler.sample(3000).firstClass;
  const share = many.filter((c) => c === 0).length / many.length;
  expect(share).toBeGreaterThan(0.28);
  expect(share).toBeLessThan(0.39);
});

test("pseudoLabelPool", () => {
  const unlabelledIdx = Int32Array.of(20, 21, 22);
  const softmaxOutputs = new Float32Array(30).fill(0.01);
  softmaxOutputs.set([0.91], 3); // sample 20: class 3, not confident enough
  softmaxOutputs.set([0.99], 10 + 7); // sample 21: class 7
  softmaxOutputs.set([0.96], 20 + 1); // sample 22: class 1
  //#region pseudoLabelPool
  const partner = pseudoLabelPool(
    unlabelledIdx,
    { probabilities: softmaxOutputs, numClasses: 10 }, // model predictions, never ground truth
    { threshold: 0.95 },
  );
  //#endregion pseudoLabelPool
  expect([...partner.indices]).toEqual([21, 22]);
  expect(Array.from(partner.labels)).toEqual([7, 1]);
});
