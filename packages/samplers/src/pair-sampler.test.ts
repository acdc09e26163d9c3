import { fc, it } from "@fast-check/vitest";
import { createRng, rngFromState } from "@selmix/core";
import { describe, expect, test } from "vitest";
import { arbDistribution, arbPool, chiSquareQuantile, pearson, poolOfSizes, Z_0_9999 } from "../test/support.ts";
import { createPairSampler, createUniformPairSampler, withExploration } from "./pair-sampler.ts";

const code = (c: string) => expect.objectContaining({ code: c });

function pairCounts(k: number, firstClass: Int32Array, partnerClass: Int32Array): Float64Array {
  const counts = new Float64Array(k * k);
  for (let b = 0; b < firstClass.length; b++) counts[firstClass[b]! * k + partnerClass[b]!]!++;
  return counts;
}

describe("withExploration", () => {
  test("is (P + 1/K³) / (1 + 1/K) exactly for a P that sums to 1", () => {
    //#region exploration-example
    const p = Float64Array.of(0.5, 0.25, 0.125, 0.125); // K = 2, sums to exactly 1
    const eff = withExploration(p, 2);
    //#endregion exploration-example
    expect(Array.from(eff)).toEqual(Array.from(p, (v) => (v + 1 / 8) / (1 + 1 / 2)));
    expect(eff.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it.prop([arbDistribution(2, 12)])("matches the formula for a normalised P and sums to 1", ({ k, p }) => {
    const total = p.reduce((a, b) => a + b, 0);
    const normalised = p.map((v) => v / total);
    const eff = withExploration(normalised, k);
    eff.forEach((v, idx) => {
      const expected = (normalised[idx]! + 1 / k ** 3) / (1 + 1 / k);
      expect(Math.abs(v - expected)).toBeLessThanOrEqual(1e-15 * expected);
    });
    expect(Math.abs(eff.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
  });

  test("the sampler's effective distribution is P_eff when every class is present", () => {
    const p = Float64Array.of(0, 0.5, 0.25, 0, 0, 0.25, 0, 0, 0); // K = 3
    const pool = poolOfSizes([2, 1, 3]);
    const sampler = createPairSampler({ distribution: p, numClasses: 3, first: pool, partner: pool, rng: createRng(0) });
    expect(Array.from(sampler.effective)).toEqual(Array.from(withExploration(p, 3)));
    expect(sampler.effective[0]).toBe(1 / 27 / (4 / 3));
  });

  test("exploration: false keeps the normalised P", () => {
    const pool = poolOfSizes([1, 1]);
    const sampler = createPairSampler({
      distribution: Float64Array.of(2, 0, 1, 1),
      numClasses: 2,
      first: pool,
      partner: pool,
      rng: createRng(0),
      exploration: false,
    });
    expect(Array.from(sampler.effective)).toEqual([0.5, 0, 0.25, 0.25]);
  });
});

describe("createPairSampler", () => {
  test("draws pairs from the two pools with their classes", () => {
    //#region pair-sampler-example
    const labelled = { indices: Int32Array.of(10, 11, 12, 13), labels: Int32Array.of(0, 0, 1, 1) };
    const unlabelled = { indices: Int32Array.of(20, 21, 22), labels: Int32Array.of(1, 0, 1) }; // pseudo-labels
    const sampler = createPairSampler({
      distribution: Float64Array.of(0, 1, 0, 0), // mix class 0 with class 1 only
      numClasses: 2,
      first: labelled,
      partner: unlabelled,
      rng: createRng(0),
      exploration: false,
    });
    const batch = sampler.sample(64);
    //#endregion pair-sampler-example
    expect(batch.first.every((x) => x === 10 || x === 11)).toBe(true);
    expect(batch.partner.every((x) => x === 20 || x === 22)).toBe(true);
    expect(batch.firstClass.every((c) => c === 0)).toBe(true);
    expect(batch.partnerClass.every((c) => c === 1)).toBe(true);
    expect(new Set(batch.first).size).toBe(2);
    expect(new Set(batch.partner).size).toBe(2);
  });

  test("sample(0) is an empty batch", () => {
    const pool = poolOfSizes([1, 1]);
    const sampler = createUniformPairSampler({ numClasses: 2, first: pool, partner: pool, rng: createRng(0) });
    expect(sampler.sample(0).first.length).toBe(0);
    expect(() => sampler.sample(-1)).toThrow(code("INVALID_VALUE"));
    expect(() => sampler.sample(1.5)).toThrow(code("INVALID_VALUE"));
  });

  test("does not modify the caller's distribution", () => {
    const p = Float64Array.of(2, 0, 1, 1);
    const pool = poolOfSizes([1, 0]);
    const sampler = createPairSampler({ distribution: p, numClasses: 2, first: pool, partner: pool, rng: createRng(0) });
    expect(Array.from(p)).toEqual([2, 0, 1, 1]);
    sampler.effective.fill(0);
    expect(sampler.sample(10).firstClass.every((c) => c === 0)).toBe(true);
  });

  test.each([
    ["distribution of the wrong length", { distribution: new Float64Array(3) }, "INVALID_SHAPE"],
    ["NaN in the distribution", { distribution: Float64Array.of(1, Number.NaN, 0, 0) }, "INVALID_VALUE"],
    ["infinite entry", { distribution: Float64Array.of(1, Number.POSITIVE_INFINITY, 0, 0) }, "INVALID_VALUE"],
    ["negative entry", { distribution: Float64Array.of(1, -1, 0, 1) }, "INVALID_VALUE"],
    ["all-zero distribution", { distribution: new Float64Array(4) }, "INVALID_VALUE"],
    ["non-integer numClasses", { numClasses: 2.5 }, "INVALID_VALUE"],
    ["zero classes", { numClasses: 0 }, "INVALID_VALUE"],
    ["label out of range", { first: { indices: Int32Array.of(0, 1), labels: [0, 2] } }, "INVALID_VALUE"],
    ["non-integer label", { partner: { indices: Int32Array.of(0, 1), labels: [0, 0.5] } }, "INVALID_VALUE"],
    ["negative label", { partner: { indices: Int32Array.of(0), labels: [-1] } }, "INVALID_VALUE"],
    ["negative dataset index", { first: { indices: Int32Array.of(-3), labels: [0] } }, "INVALID_VALUE"],
    ["labels shorter than indices", { first: { indices: Int32Array.of(0, 1), labels: [0] } }, "INVALID_SHAPE"],
    ["empty first pool", { first: { indices: new Int32Array(0), labels: [] } }, "EMPTY_CLASS"],
    ["empty partner pool", { partner: { indices: new Int32Array(0), labels: [] } }, "EMPTY_CLASS"],
  ])("rejects %s", (_name, override, expected) => {
    const pool = poolOfSizes([1, 1]);
    const options = { distribution: Float64Array.of(1, 1, 1, 1), numClasses: 2, first: pool, partner: pool, rng: createRng(0) };
    expect(() => createPairSampler({ ...options, ...override })).toThrow(code(expected));
  });

  test("EMPTY_CLASS names the classes present in each pool when no pair is possible", () => {
    const options = {
      distribution: Float64Array.of(0, 0, 1, 0), // only (1, 0)
      numClasses: 2,
      first: poolOfSizes([3, 0]),
      partner: poolOfSizes([0, 2]),
      rng: createRng(0),
      exploration: false,
    };
    expect(() => createPairSampler(options)).toThrow(code("EMPTY_CLASS"));
    expect(() => createPairSampler(options)).toThrow(/first pool has classes \[0\], partner pool has classes \[1\]/);
    // With exploration every pair has mass, so the same pools work.
    const sampler = createPairSampler({ ...options, exploration: true });
    expect(Array.from(sampler.effective)).toEqual([0, 1, 0, 0]);
  });

  test("uniform pair sampler: uniform over the available class pairs", () => {
    const sampler = createUniformPairSampler({
      numClasses: 3,
      first: poolOfSizes([5, 1, 0]),
      partner: poolOfSizes([2, 2, 9]),
      rng: createRng(0),
    });
    expect(Array.from(sampler.effective)).toEqual([1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 0, 0, 0]);
  });
});

describe("createPairSampler properties", () => {
  // Fixed fast-check seed and run count: the statistical bound is checked on the same draws every time, so the test
  // is deterministic (at the 0.9999 quantile, a correct sampler fails an independent run with probability 1e-4).
  it.prop([arbDistribution(2, 5), fc.boolean(), fc.integer({ min: 0, max: 2 ** 31 })], { seed: 20240611, numRuns: 100 })(
    "pair-class frequencies fit P_eff (Pearson chi-square below the 0.9999 quantile)",
    ({ k, p }, exploration, seed) => {
      const pool = poolOfSizes(Array.from({ length: k }, (_, c) => 1 + (c % 3)));
      const rng = createRng(seed);
      const sampler = createPairSampler({ distribution: p, numClasses: k, first: pool, partner: pool, rng, exploration });
      const total = 20_000;
      const { firstClass, partnerClass } = sampler.sample(total);
      const counts = pairCounts(k, firstClass, partnerClass);
      const expected = exploration ? withExploration(p, k) : p.map((v) => v / p.reduce((a, b) => a + b, 0));
      expect(Array.from(sampler.effective)).toEqual(Array.from(expected));
      counts.forEach((c, idx) => {
        if (expected[idx] === 0) expect(c).toBe(0);
      });
      const { stat, dof } = pearson(counts, expected, total);
      if (dof > 0) expect(stat).toBeLessThan(chiSquareQuantile(dof, Z_0_9999));
    },
  );

  const arbTwoPools = arbDistribution(2, 5).chain(({ k, p }) =>
    fc.tuple(fc.constant(k), fc.constant(p), arbPool(k, 0), arbPool(k, 1000)),
  );
  it.prop([arbTwoPools, fc.integer()])(
    "every index belongs to its pool and has the drawn class",
    ([k, p, first, partner], seed) => {
      const sampler = createPairSampler({ distribution: p, numClasses: k, first, partner, rng: createRng(seed) });
      const firstLabel = new Map(Array.from(first.indices, (x, n) => [x, first.labels[n]!]));
      const partnerLabel = new Map(Array.from(partner.indices, (x, n) => [x, partner.labels[n]!]));
      const batch = sampler.sample(200);
      batch.first.forEach((x, b) => {
        expect(firstLabel.get(x)).toBe(batch.firstClass[b]);
      });
      batch.partner.forEach((x, b) => {
        expect(partnerLabel.get(x)).toBe(batch.partnerClass[b]);
      });
    },
  );

  it.prop([arbDistribution(2, 5), fc.integer(), fc.integer({ min: 0, max: 5 })])(
    "the same seed gives the same stream, and a restored Rng resumes it",
    ({ k, p }, seed, skip) => {
      const pool = poolOfSizes(Array.from({ length: k }, (_, c) => c + 1));
      const make = (rng: ReturnType<typeof createRng>) =>
        createPairSampler({ distribution: p, numClasses: k, first: pool, partner: pool, rng });
      const a = make(createRng(seed));
      const b = make(createRng(seed));
      expect(a.sample(50)).toEqual(b.sample(50));
      // Checkpoint after `skip` more batches, then rebuild from the saved state.
      const rng = createRng(seed);
      const c = make(rng);
      for (let s = 0; s < skip; s++) c.sample(7);
      const saved = rng.state();
      const next = c.sample(30);
      expect(make(rngFromState(saved)).sample(30)).toEqual(next);
    },
  );

  it.prop([
    arbDistribution(2, 5).chain(({ k, p }) =>
      fc.tuple(
        fc.constant(k),
        fc.constant(p),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: k, maxLength: k }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: k, maxLength: k }),
      ),
    ),
    fc.integer(),
  ])("classes absent from a pool are never drawn and their mass is renormalised away", ([k, p, firstSizes, partnerSizes], seed) => {
    fc.pre(firstSizes.some((s) => s > 0) && partnerSizes.some((s) => s > 0));
    const sampler = createPairSampler({
      distribution: p,
      numClasses: k,
      first: poolOfSizes(firstSizes),
      partner: poolOfSizes(partnerSizes, 100),
      rng: createRng(seed),
    });
    const eff = sampler.effective;
    expect(Math.abs(eff.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
    const full = withExploration(p, k);
    let kept = 0;
    full.forEach((v, idx) => {
      if (firstSizes[Math.floor(idx / k)] !== 0 && partnerSizes[idx % k] !== 0) kept += v;
    });
    eff.forEach((v, idx) => {
      const i = Math.floor(idx / k);
      const j = idx % k;
      if (firstSizes[i] === 0 || partnerSizes[j] === 0) expect(v).toBe(0);
      else expect(Math.abs(v - full[idx]! / kept)).toBeLessThan(1e-12);
    });
    const batch = sampler.sample(500);
    batch.firstClass.forEach((c) => {
      expect(firstSizes[c]).toBeGreaterThan(0);
    });
    batch.partnerClass.forEach((c) => {
      expect(partnerSizes[c]).toBeGreaterThan(0);
    });
  });
});

describe("createPairSampler at K = 1000", () => {
  test("builds and draws a batch of 64 quickly", () => {
    const k = 1000;
    const rng = createRng(1);
    const p = new Float64Array(k * k);
    for (let idx = 0; idx < p.length; idx++) p[idx] = rng.next() < 0.1 ? rng.next() : 0;
    const pool = poolOfSizes(Array.from({ length: k }, (_, c) => 1 + (c % 50)));
    const sampler = createPairSampler({ distribution: p, numClasses: k, first: pool, partner: pool, rng });
    for (let b = 0; b < 200; b++) sampler.sample(64);
    const batch = sampler.sample(64);
    expect(batch.first.length).toBe(64);
    batch.first.forEach((x, b) => {
      expect(pool.labels[x]).toBe(batch.firstClass[b]);
    });
    batch.partner.forEach((x, b) => {
      expect(pool.labels[x]).toBe(batch.partnerClass[b]);
    });
  });
});
