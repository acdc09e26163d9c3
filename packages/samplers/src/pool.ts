import { SelmixError } from "@selmix/core";

/**
 * Samples a sampler may draw from, with the class of each.
 *
 * `labels[n]` is the class of dataset sample `indices[n]`. For the labelled pool these are the true labels; for an
 * unlabelled pool they must be pseudo-labels (model predictions, see {@link pseudoLabelPool}). The samplers never
 * look anything up elsewhere: the only class information they see is the `labels` array the caller passes in.
 */
export interface Pool {
  /** Dataset indices (>= 0) of the pool's samples. */
  readonly indices: Int32Array;
  /** Class of each entry of `indices`, an integer in [0, K); same length as `indices`. */
  readonly labels: ArrayLike<number>;
}

/** A pool grouped by class (counting sort): members of class `c` are `members[offsets[c] .. offsets[c + 1])`. */
export interface ClassIndex {
  readonly numClasses: number;
  readonly offsets: Int32Array;
  readonly members: Int32Array;
}

/** @throws `SelmixError` `INVALID_VALUE` unless `k` is an integer >= 1. */
export function checkNumClasses(k: number): void {
  if (!(Number.isSafeInteger(k) && k >= 1)) {
    throw new SelmixError("INVALID_VALUE", `numClasses must be an integer >= 1, got ${k}`);
  }
}

/** @throws `SelmixError` `INVALID_VALUE` unless `n` is an integer >= 0. */
export function checkBatchSize(n: number): void {
  if (!(Number.isSafeInteger(n) && n >= 0)) {
    throw new SelmixError("INVALID_VALUE", `batchSize must be an integer >= 0, got ${n}`);
  }
}

/** @throws `SelmixError` `INVALID_VALUE` if a dataset index is negative. */
export function checkIndices(indices: Int32Array, name: string): void {
  for (let n = 0; n < indices.length; n++) {
    const v = indices[n]!;
    if (v < 0) throw new SelmixError("INVALID_VALUE", `${name}.indices[${n}] must be >= 0, got ${v}`);
  }
}

/**
 * Validates `pool` and groups its dataset indices by class in O(N + K); entries keep their pool order within a class.
 *
 * @param name - how the pool is named in error messages.
 * @throws `SelmixError` `INVALID_SHAPE` if `indices` and `labels` differ in length; `INVALID_VALUE` if a label
 *   is not an integer in [0, K) or an index is negative.
 */
export function indexPool(pool: Pool, numClasses: number, name: string): ClassIndex {
  const { indices, labels } = pool;
  if (indices.length !== labels.length) {
    throw new SelmixError(
      "INVALID_SHAPE",
      `${name}.labels must have one entry per index (${indices.length}), got ${labels.length}`,
    );
  }
  checkIndices(indices, name);
  const offsets = new Int32Array(numClasses + 1);
  for (let n = 0; n < labels.length; n++) {
    const c = labels[n]!;
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) {
      throw new SelmixError("INVALID_VALUE", `${name}.labels[${n}] must be an integer in [0, ${numClasses}), got ${c}`);
    }
    offsets[c + 1]!++;
  }
  for (let c = 0; c < numClasses; c++) offsets[c + 1]! += offsets[c]!;
  const cursor = offsets.slice(0, numClasses);
  const members = new Int32Array(indices.length);
  for (let n = 0; n < labels.length; n++) members[cursor[labels[n]!]!++] = indices[n]!;
  return { numClasses, offsets, members };
}

/** Number of members of class `c`. */
export function classSize(index: ClassIndex, c: number): number {
  return index.offsets[c + 1]! - index.offsets[c]!;
}
