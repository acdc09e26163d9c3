/// <reference path="./jstat.d.ts" />
import jstat from "jstat";
import type { Cell } from "./aggregate.ts";
import { mean, std } from "./stats.ts";

/** Two-sided level of the paired t-test that calls a gap between two rows real. */
export const GAP_TEST_LEVEL = 0.1;

/** a − b seed by seed, over the seeds both cells have; null without seeds on both or with fewer than two shared. */
export function perSeedDifferences(a: Cell, b: Cell): number[] | null {
  const bSeeds = b.seeds;
  if (a.seeds === undefined || bSeeds === undefined) return null;
  const d = a.seeds.flatMap((seed, i) => {
    const j = bSeeds.indexOf(seed);
    return j < 0 ? [] : [a.values[i]! - b.values[j]!];
  });
  return d.length < 2 ? null : d;
}

/**
 * Whether the gap between two cells is beyond noise. The rows of a table share their seeds (a seed draws the splits,
 * the start and the sampling), so the gap is judged seed by seed: a paired t-test at {@link GAP_TEST_LEVEL}
 * (two-sided; with 3 seeds the mean difference must exceed 1.69 times their std). Cells without shared seeds: the
 * gap must exceed the sum of the two stds.
 */
export function isRealGap(a: Cell, b: Cell): boolean {
  const d = perSeedDifferences(a, b);
  if (d === null) return Math.abs(a.mean - b.mean) > a.std + b.std;
  const m = Math.abs(mean(d));
  const s = std(d);
  if (s === 0) return m > 0;
  return m / (s / Math.sqrt(d.length)) > jstat.jStat.studentt.inv(1 - GAP_TEST_LEVEL / 2, d.length - 1);
}
