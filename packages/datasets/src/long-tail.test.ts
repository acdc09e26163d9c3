import { fc, test as property } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { longTailCounts } from "./long-tail.ts";

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe("longTailCounts", () => {
  test("reproduces the paper's CIFAR-10 tables (method notes 8.1)", () => {
    expect(longTailCounts(5000, 100, 10)).toEqual([5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]);
    expect(longTailCounts(1500, 100, 10)).toEqual([1500, 899, 539, 323, 193, 116, 69, 41, 25, 15]);
    expect(longTailCounts(3000, 100, 10)).toEqual([3000, 1798, 1078, 646, 387, 232, 139, 83, 50, 30]);
    expect(longTailCounts(3000, 1, 10)).toEqual(new Array(10).fill(3000));
    expect(longTailCounts(30, 0.01, 10)).toEqual([30, 50, 83, 139, 232, 387, 646, 1078, 1798, 2999]);
    expect(longTailCounts(450, 10, 10)).toEqual([450, 348, 269, 208, 161, 125, 96, 75, 58, 45]);
    expect(longTailCounts(5000, 10, 10)).toEqual([5000, 3871, 2997, 2320, 1796, 1391, 1077, 834, 645, 500]);
  });

  test("reproduces the 100-class totals and ends", () => {
    const l = longTailCounts(150, 10, 100);
    expect(sum(l)).toBe(5835);
    expect([...l.slice(0, 5), ...l.slice(-3)]).toEqual([150, 146, 143, 139, 136, 15, 15, 15]);
    const u = longTailCounts(300, 10, 100);
    expect(sum(u)).toBe(11720);
    expect([...u.slice(0, 5), ...u.slice(-3)]).toEqual([300, 293, 286, 279, 273, 31, 30, 30]);
    expect(sum(longTailCounts(433, 10, 100))).toBe(16945);
    expect(sum(longTailCounts(866, 10, 100))).toBe(33939);
  });

  test("rejects bad arguments", () => {
    const cases: [number, number, number][] = [[-1, 10, 10], [1.5, 10, 10], [10, 0, 10], [10, Number.NaN, 10], [10, 10, 1]];
    for (const [head, ratio, k] of cases) {
      expect(() => longTailCounts(head, ratio, k)).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
    }
  });

  property.prop([fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 1, max: 1000, noNaN: true }), fc.integer({ min: 2, max: 100 })])(
    "is non-increasing for ratio >= 1, starts at the head and ends near head / ratio",
    (head, ratio, k) => {
      const c = longTailCounts(head, ratio, k);
      expect(c[0]).toBe(head);
      for (let i = 1; i < k; i++) expect(c[i]!).toBeLessThanOrEqual(c[i - 1]!);
      expect(Math.abs(c[k - 1]! - head / ratio)).toBeLessThanOrEqual(1);
    },
  );
});
