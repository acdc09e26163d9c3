import { fc, test as property } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { effectivePairs, samplingDistribution, topPairs } from "./distribution.ts";
import { classPrototypes } from "./prototypes.ts";

const arbGain = fc.integer({ min: 2, max: 8 }).chain((k) =>
  fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: k * k, maxLength: k * k }).map((a) => Float64Array.from(a)),
);

describe("samplingDistribution", () => {
  property.prop([arbGain, fc.double({ min: 0.01, max: 10, noNaN: true })])("sums to 1, is >= 0 and keeps the order of positive gains", (g, t) => {
    const p = samplingDistribution(g, { temperature: t });
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (let a = 0; a < g.length; a++) {
      expect(p[a]).toBeGreaterThan(0);
      for (let b = 0; b < g.length; b++) if (g[a]! > 0 && g[a]! > g[b]!) expect(p[a]!).toBeGreaterThanOrEqual(p[b]!);
    }
  });

  property.prop([arbGain])("non-positive gains get only the epsilon floor", (g) => {
    const p = samplingDistribution(g);
    const floor = Math.min(...p);
    g.forEach((v, idx) => {
      if (v <= 0 && g.some((x) => x > 0)) expect(p[idx]).toBeCloseTo(floor, 15);
    });
  });

  test("reproduces the reference rule: softmax over all K^2, mask, + 1e-8, renormalise", () => {
    const g = Float64Array.of(0.3, -0.2, 0.1, 0);
    const e = Array.from(g, (v) => Math.exp(v / 0.1));
    const z = e.reduce((a, b) => a + b, 0);
    const masked = e.map((v, i) => (g[i]! > 0 ? v / z : 0) + 1e-8);
    const s = masked.reduce((a, b) => a + b, 0);
    const p = samplingDistribution(g);
    masked.forEach((v, i) => {
      expect(p[i]).toBeCloseTo(v / s, 15);
    });
  });

  test("uniform when no gain is positive", () => {
    expect(Array.from(samplingDistribution(Float64Array.of(-1, 0, -2, -3)))).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  test("the spread scale makes the temperature scale-free", () => {
    const g = Float64Array.of(0.3, -0.2, 0.1, 0.05);
    const a = samplingDistribution(g, { scale: "spread", temperature: 0.5 });
    const b = samplingDistribution(g.map((v) => v * 1000), { scale: "spread", temperature: 0.5 });
    a.forEach((v, i) => {
      expect(b[i]).toBeCloseTo(v, 12);
    });
  });

  test("rejects a bad temperature or a NaN gain", () => {
    expect(() => samplingDistribution(Float64Array.of(1, 2, 3, 4), { temperature: 0 })).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
    expect(() => samplingDistribution(Float64Array.of(1, Number.NaN, 3, 4))).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
  });
});

describe("diagnostics", () => {
  test("effective number of pairs: 1 for a point mass, K^2 for uniform", () => {
    expect(effectivePairs(Float64Array.of(1, 0, 0, 0))).toBe(1);
    expect(effectivePairs(Float64Array.of(0.25, 0.25, 0.25, 0.25))).toBeCloseTo(4, 12);
  });
  test("top pairs, largest first", () => {
    expect(topPairs(Float64Array.of(0.1, 0.5, 0.3, 0.2), 2, 2)).toEqual([
      { i: 0, j: 1, value: 0.5 },
      { i: 1, j: 0, value: 0.3 },
    ]);
  });
});

describe("classPrototypes", () => {
  test("class means", () => {
    const z = classPrototypes([1, 2, 3, 4, 10, 20], [0, 0, 1], 2, 2);
    expect(Array.from(z)).toEqual([2, 3, 10, 20]);
  });
  test("a class with no samples is a coded error naming it", () => {
    expect(() => classPrototypes([1, 2], [0], 2, 2)).toThrow(expect.objectContaining({ code: "EMPTY_CLASS", message: expect.stringContaining("class 1") }));
  });
  test("bad shapes and labels", () => {
    expect(() => classPrototypes([1, 2, 3], [0, 1], 2, 2)).toThrow(expect.objectContaining({ code: "INVALID_SHAPE" }));
    expect(() => classPrototypes([1, 2, 3, 4], [0, 2], 2, 2)).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
  });
});

describe("topPairs", () => {
  property.prop([fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 4, maxLength: 36 }), fc.integer({ min: 1, max: 8 })])(
    "equals a full stable sort, truncated",
    (values, count) => {
      const m = Float64Array.from(values);
      const expected = Array.from(m.keys())
        .sort((a, b) => m[b]! - m[a]! || a - b)
        .slice(0, count)
        .map((idx) => ({ i: Math.floor(idx / 2), j: idx % 2, value: m[idx]! }));
      expect(topPairs(m, 2, count)).toEqual(expected);
    },
  );
});
