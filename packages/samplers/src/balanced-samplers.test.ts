import { fc, it } from "@fast-check/vitest";
import { createRng, type Rng, rngFromState } from "@selmix/core";
import { describe, expect, test } from "vitest";
import { arbPool, chiSquareQuantile, pearson, poolOfSizes, Z_0_9999 } from "../test/support.ts";
import { createClassBalancedSampler, createInstanceBalancedSampler } from "./balanced-samplers.ts";

const code = (c: string) => expect.objectContaining({ code: c });

describe("createClassBalancedSampler", () => {
  test("classes are uniform whatever their sizes", () => {
    //#region class-balanced-example
    const pool = { indices: Int32Array.of(0, 1, 2, 3, 4, 5), labels: Int32Array.of(0, 0, 0, 0, 0, 2) };
    const sampler = createClassBalancedSampler({ pool, numClasses: 3, rng: createRng(0) });
    const batch = sampler.sample(10_000); // class 0 and class 2 about 5,000 times each; class 1 is empty
    //#endregion class-balanced-example
    const fromClass2 = batch.filter((x) => x === 5).length;
    expect(Math.abs(fromClass2 - 5000)).toBeLessThan(4 * Math.sqrt(2500));
  });

  test.each([
    ["empty pool", { pool: { indices: new Int32Array(0), labels: [] } }, "EMPTY_CLASS"],
    ["label out of range", { pool: { indices: Int32Array.of(0), labels: [3] } }, "INVALID_VALUE"],
    ["length mismatch", { pool: { indices: Int32Array.of(0), labels: [0, 1] } }, "INVALID_SHAPE"],
    ["bad numClasses", { numClasses: -1 }, "INVALID_VALUE"],
  ])("rejects %s", (_name, override, expected) => {
    const options = { pool: poolOfSizes([1, 1]), numClasses: 2, rng: createRng(0) };
    expect(() => createClassBalancedSampler({ ...options, ...override })).toThrow(code(expected));
  });

  it.prop([fc.integer({ min: 2, max: 6 }).chain((k) => fc.tuple(fc.constant(k), arbPool(k, 0, 1, 60))), fc.integer()], {
    seed: 7,
    numRuns: 100,
  })("class frequencies are uniform over the non-empty classes (chi-square)", ([k, pool], seed) => {
    const sampler = createClassBalancedSampler({ pool, numClasses: k, rng: createRng(seed) });
    const labelOf = new Map(Array.from(pool.indices, (x, n) => [x, pool.labels[n]!]));
    const present = new Set(pool.labels);
    const total = 10_000;
    const counts = new Float64Array(k);
    for (const x of sampler.sample(total)) counts[labelOf.get(x)!]!++;
    const expected = Float64Array.from({ length: k }, (_, c) => (present.has(c) ? 1 / present.size : 0));
    counts.forEach((n, c) => {
      if (!present.has(c)) expect(n).toBe(0);
    });
    const { stat, dof } = pearson(counts, expected, total);
    if (dof > 0) expect(stat).toBeLessThan(chiSquareQuantile(dof, Z_0_9999));
  });

  it.prop([fc.integer({ min: 2, max: 6 }).chain((k) => fc.tuple(fc.constant(k), arbPool(k, 500))), fc.integer()])(
    "same seed, same stream; a restored Rng resumes it; indices come from the pool",
    ([k, pool], seed) => {
      const make = (rng: Rng) => createClassBalancedSampler({ pool, numClasses: k, rng });
      expect(make(createRng(seed)).sample(40)).toEqual(make(createRng(seed)).sample(40));
      const rng = createRng(seed);
      const sampler = make(rng);
      sampler.sample(13);
      const saved = rng.state();
      const next = sampler.sample(20);
      expect(make(rngFromState(saved)).sample(20)).toEqual(next);
      const members = new Set(pool.indices);
      next.forEach((x) => {
        expect(members.has(x)).toBe(true);
      });
    },
  );
});

describe("createInstanceBalancedSampler", () => {
  test("without replacement, every sample appears once per epoch and epochs are reshuffled", () => {
    //#region instance-balanced-example
    const indices = Int32Array.from({ length: 10 }, (_, n) => 100 + n);
    const sampler = createInstanceBalancedSampler({ pool: { indices }, rng: createRng(0) });
    const twoEpochs = sampler.sample(20); // a batch may run across the end of an epoch
    //#endregion instance-balanced-example
    const sorted = (a: Int32Array) => Array.from(a).sort((x, y) => x - y);
    expect(sorted(twoEpochs.subarray(0, 10))).toEqual(Array.from(indices));
    expect(sorted(twoEpochs.subarray(10))).toEqual(Array.from(indices));
    expect(Array.from(twoEpochs.subarray(0, 10))).not.toEqual(Array.from(twoEpochs.subarray(10)));
  });

  it.prop([fc.integer({ min: 1, max: 30 }), fc.array(fc.integer({ min: 0, max: 25 }), { maxLength: 8 }), fc.integer()])(
    "batches of any size tile the epochs",
    (n, sizes, seed) => {
      const indices = Int32Array.from({ length: n }, (_, i) => 7 * i);
      const sampler = createInstanceBalancedSampler({ pool: { indices }, rng: createRng(seed) });
      const stream = sizes.flatMap((s) => Array.from(sampler.sample(s)));
      for (let start = 0; start + n <= stream.length; start += n) {
        expect(stream.slice(start, start + n).sort((a, b) => a - b)).toEqual(Array.from(indices));
      }
    },
  );

  it.prop([fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 70 }), fc.integer()])(
    "resumes mid-epoch from state() plus the saved Rng",
    (n, before, seed) => {
      const pool = { indices: Int32Array.from({ length: n }, (_, i) => i) };
      const rng = createRng(seed);
      const sampler = createInstanceBalancedSampler({ pool, rng });
      expect(createInstanceBalancedSampler({ pool, rng: createRng(seed) }).sample(before)).toEqual(sampler.sample(before));
      const savedRng = rng.state();
      const savedState = sampler.state();
      const next = sampler.sample(45);
      const resumed = createInstanceBalancedSampler({ pool, rng: rngFromState(savedRng), resume: savedState! });
      expect(resumed.sample(45)).toEqual(next);
    },
  );

  test("with replacement: uniform, and the Rng alone is the state", () => {
    const indices = Int32Array.of(3, 1, 4);
    const rng = createRng(1);
    const sampler = createInstanceBalancedSampler({ pool: { indices }, rng, replacement: true });
    expect(sampler.state()).toBeUndefined();
    const saved = rng.state();
    const batch = sampler.sample(9000);
    for (const x of indices) expect(Math.abs(batch.filter((y) => y === x).length - 3000)).toBeLessThan(200);
    const again = createInstanceBalancedSampler({ pool: { indices }, rng: rngFromState(saved), replacement: true });
    expect(again.sample(9000)).toEqual(batch);
  });

  test.each([
    ["empty pool", { pool: { indices: new Int32Array(0) } }, "EMPTY_CLASS"],
    ["negative index", { pool: { indices: Int32Array.of(-1) } }, "INVALID_VALUE"],
    ["resume with replacement", { replacement: true, resume: { shuffle: [1, 2, 3, 4], offset: 0 } }, "INVALID_ARGUMENT"],
    ["resume offset past the end", { resume: { shuffle: [1, 2, 3, 4], offset: 3 } }, "INVALID_VALUE"],
  ] as const)("rejects %s", (_name, override, expected) => {
    const options = { pool: { indices: Int32Array.of(0, 1) }, rng: createRng(0) };
    expect(() => createInstanceBalancedSampler({ ...options, ...override })).toThrow(code(expected));
  });

  test("rejects a bad batch size", () => {
    const sampler = createInstanceBalancedSampler({ pool: { indices: Int32Array.of(0) }, rng: createRng(0) });
    expect(() => sampler.sample(Number.NaN)).toThrow(code("INVALID_VALUE"));
    expect(sampler.sample(0).length).toBe(0);
  });
});
