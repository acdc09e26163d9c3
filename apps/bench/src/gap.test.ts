import { describe, expect, it } from "vitest";
import type { Cell } from "./aggregate.ts";
import { isRealGap, perSeedDifferences } from "./gap.ts";
import { mean, std } from "./stats.ts";

const unseeded = (values: number[]): Cell => ({ mean: mean(values), std: std(values), values });
const cell = (values: number[], seeds = values.map((_, i) => i)): Cell => ({ ...unseeded(values), seeds });
/** `base` shifted seed by seed by `shift`. */
const shifted = (base: number[], shift: number[]): Cell => cell(base.map((v, i) => v + shift[i]!));

describe("gaps between rows, seed by seed", () => {
  const base = [70, 60, 80]; // the seeds' luck: a spread of 10 that moves both rows alike
  it("pairs values by seed, over the seeds both rows have", () => {
    expect(perSeedDifferences(cell([3, 5], [1, 2]), cell([1, 1, 1], [0, 1, 2]))).toEqual([2, 4]);
    expect(perSeedDifferences(cell([3, 5], [1, 2]), cell([1], [2]))).toBeNull(); // one shared seed: nothing to test
    expect(perSeedDifferences(unseeded([3, 5]), cell([1, 1]))).toBeNull();
  });

  it("calls a steady gain real even when the seeds' spread dwarfs it, and a gain that flips sign noise", () => {
    expect(isRealGap(shifted(base, [1, 1, 1]), cell(base))).toBe(true);
    expect(isRealGap(shifted(base, [2.4, 2.16, 2.0]), cell(base))).toBe(true);
    expect(isRealGap(shifted(base, [4, -1, 3]), cell(base))).toBe(false); // mean 2, std 2.65: t = 1.31
    expect(isRealGap(cell(base), cell(base))).toBe(false);
  });

  it("uses the 10% two-sided t threshold: 2.92 for 3 seeds", () => {
    // mean 1, std s: t = √3 / s
    expect(isRealGap(shifted(base, [1 - 0.5, 1, 1 + 0.5]), cell(base))).toBe(true); // s 0.5, t 3.46
    expect(isRealGap(shifted(base, [1 - 0.7, 1, 1 + 0.7]), cell(base))).toBe(false); // s 0.7, t 2.47
  });

  it("without seeds, needs a gap larger than the two stds together", () => {
    const a = unseeded([72, 73, 74]);
    expect(isRealGap(a, unseeded([69, 70, 71]))).toBe(true); // gap 3 > 1 + 1
    expect(isRealGap(a, unseeded([71, 72, 73]))).toBe(false);
  });
});
