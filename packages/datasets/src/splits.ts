import { createRng, SelmixError, shuffleInPlace } from "@selmix/core";
import { type Dataset, indicesByClass } from "./dataset.ts";
import { longTailCounts } from "./long-tail.ts";
import type { ProfileParams } from "./profiles.ts";

/** The four splits as sorted index arrays into their pools. */
export interface SplitIndices {
  /** Into the training split. */
  readonly labeled: Int32Array;
  /** Into the training split, or into the unlabelled split for STL-10. */
  readonly unlabeled: Int32Array;
  /** Into the training split; balanced. */
  readonly validation: Int32Array;
  /** Into the official test split. */
  readonly test: Int32Array;
}

/** The pools a split can index. */
export interface SplitPools {
  /** Official training split. */
  readonly train: Dataset;
  /** Official test split. */
  readonly test: Dataset;
  /** STL-10's official unlabelled split. */
  readonly unlabeled?: Dataset;
}

/**
 * Requested per-class counts of a profile for `numClasses` classes: labelled N_k, unlabelled M_k (empty when the
 * profile has none) and validation. For the `natural` profile the labelled counts are caps (N1 for every class).
 *
 * @throws `SelmixError` `INVALID_VALUE` from {@link longTailCounts}.
 * @example
 * {@includeCode ./examples.test.ts#profileCounts}
 */
export function profileCounts(
  params: ProfileParams,
  numClasses: number,
): {
  /** Labelled count per class, N_k. */
  labeled: number[];
  /** Unlabelled count per class, M_k (empty when the profile has none). */
  unlabeled: number[];
  /** Validation count per class. */
  validation: number[];
} {
  return {
    labeled: longTailCounts(params.n1, params.rhoL, numClasses),
    unlabeled: params.rhoU === null || params.m1 === 0 ? [] : longTailCounts(params.m1, params.rhoU, numClasses),
    validation: new Array<number>(numClasses).fill(params.valPerClass),
  };
}

function sorted(values: number[]): Int32Array {
  return Int32Array.from(values).sort();
}

/**
 * Draws the splits of a profile, deterministically from `seed`:
 *
 * 1. every class's training indices (ascending) are shuffled with one seeded generator, classes in label order;
 * 2. the first `valPerClass` go to validation, the next N_k to the labelled set, the next M_k to the unlabelled
 *    set, so the three are disjoint (`natural`: N_k = min(N1, what is left after validation));
 * 3. the test set is the official test split, or (with `balancedTest`) a seeded subsample of the smallest class
 *    count per class;
 * 4. for STL-10 the unlabelled set is the whole official unlabelled split.
 *
 * Each split is returned sorted ascending.
 *
 * @param pools - Official splits to draw from.
 * @param params - Resolved long-tail profile.
 * @param seed - Seed of the draw (an integer).
 * @returns Sorted indices of each split into its pool.
 * @throws `SelmixError` `INVALID_ARGUMENT` naming the class and the counts when a class has fewer training
 *   images than validation + labelled + unlabelled need, or when the profile wants STL-10's unlabelled split and
 *   `pools.unlabeled` is missing; `INVALID_VALUE` for a bad seed.
 * @example
 * {@includeCode ./examples.test.ts#drawSplits}
 */
export function drawSplits(pools: SplitPools, params: ProfileParams, seed: number): SplitIndices {
  const k = pools.train.numClasses;
  const rng = createRng(seed);
  const trainRng = rng.fork();
  const testRng = rng.fork();
  const wanted = profileCounts(params, k);
  const byClass = indicesByClass(pools.train.labels, k);
  const validation: number[] = [];
  const labeled: number[] = [];
  const unlabeled: number[] = [];
  byClass.forEach((indices, c) => {
    const v = params.valPerClass;
    const n = params.name === "natural" ? Math.max(0, Math.min(wanted.labeled[c]!, indices.length - v)) : wanted.labeled[c]!;
    const m = wanted.unlabeled[c] ?? 0;
    if (v + n + m > indices.length) {
      throw new SelmixError(
        "INVALID_ARGUMENT",
        `class ${c} has ${indices.length} training images; the profile needs ${v} validation + ${n} labelled + ${m} unlabelled = ${v + n + m}`,
      );
    }
    shuffleInPlace(indices, trainRng);
    validation.push(...indices.slice(0, v));
    labeled.push(...indices.slice(v, v + n));
    unlabeled.push(...indices.slice(v + n, v + n + m));
  });
  let unlabeledIndices = sorted(unlabeled);
  if (params.unlabeledPool === "unlabeled") {
    if (pools.unlabeled === undefined) {
      throw new SelmixError("INVALID_ARGUMENT", `profile "${params.name}" needs an official unlabelled split (STL-10)`);
    }
    unlabeledIndices = Int32Array.from({ length: pools.unlabeled.labels.length }, (_, i) => i);
  }
  let test: number[];
  if (params.balancedTest) {
    const testByClass = indicesByClass(pools.test.labels, pools.test.numClasses);
    const perClass = Math.min(...testByClass.map((ix) => ix.length));
    test = testByClass.flatMap((ix) => shuffleInPlace(ix, testRng).slice(0, perClass));
  } else {
    test = Array.from({ length: pools.test.labels.length }, (_, i) => i);
  }
  return {
    labeled: sorted(labeled),
    unlabeled: unlabeledIndices,
    validation: sorted(validation),
    test: sorted(test),
  };
}
