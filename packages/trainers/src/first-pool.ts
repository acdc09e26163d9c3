import { SelmixError } from "@selmix/core";
import type { Pool } from "@selmix/samplers";

/**
 * Where a pair's x₁ comes from. `labeled`: the labelled split (the paper). `labeled+unlabeled` (semi-supervised):
 * also every unlabelled image, under the pseudo-label its partners are drawn by. Why the second: with a handful of
 * labelled images of a class the model has memorised them, so their mixups soon carry no gradient and the class's
 * recall stops rising; the pool holds many more images of it.
 */
export type FirstPool = "labeled" | "labeled+unlabeled";

/**
 * Every {@link FirstPool}, the paper's first.
 *
 * @example
 * {@includeCode ./examples.test.ts#FIRST_POOLS}
 */
export const FIRST_POOLS: readonly FirstPool[] = ["labeled", "labeled+unlabeled"];

/** The pool of a config that names none: the paper's. */
export const DEFAULT_FIRST_POOL: FirstPool = "labeled";

/**
 * x₁'s pool at a refresh. Row numbers: the labelled rows 0..n−1, then unlabelled row u as n + u (its label the
 * current pseudo-label, never its true one).
 *
 * @throws `SelmixError` `INVALID_ARGUMENT` for `labeled+unlabeled` without pseudo-labels (no unlabelled split).
 */
export function firstPool(which: FirstPool, labeled: Pool, pseudoLabels: Int32Array | undefined): Pool {
  if (which === "labeled") return labeled;
  if (pseudoLabels === undefined) {
    throw new SelmixError("INVALID_ARGUMENT", `first pool "${which}" draws x1 from the unlabelled split too: it needs an unlabelled split (the data's \`unlabeled\`)`);
  }
  const n = labeled.indices.length;
  const indices = new Int32Array(n + pseudoLabels.length);
  const labels = new Int32Array(n + pseudoLabels.length);
  indices.set(labeled.indices);
  labels.set(labeled.labels);
  for (let u = 0; u < pseudoLabels.length; u++) indices[n + u] = n + u;
  labels.set(pseudoLabels, n);
  return { indices, labels };
}

/** Whether a batch's x₁ rows reach into the unlabelled part (row ≥ `labeledCount`). */
export const reachesUnlabeled = (rows: Int32Array, labeledCount: number): boolean => rows.some((r) => r >= labeledCount);
