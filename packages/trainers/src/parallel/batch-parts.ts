import { type Dataset, toFloatBatch } from "@selmix/datasets";
import type { BatchPart } from "./protocol.ts";

/** Images of `indices` as a float32 part (the same values, and the same RNG draws, as `toFloatBatch`). */
export function imagePart(dataset: Dataset, indices: ArrayLike<number>, augment: Parameters<typeof toFloatBatch>[2]): BatchPart {
  const t = toFloatBatch(dataset, indices, augment);
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return { data, rows: indices.length };
}

/** Integer labels (or any per-row int32) as a part. */
export function intPart(values: Int32Array): BatchPart {
  return { data: values, rows: values.length };
}

/** One float per row (e.g. mixup λ) as a part. */
export function scalarPart(values: ArrayLike<number>): BatchPart {
  return { data: Float32Array.from(values), rows: values.length };
}
