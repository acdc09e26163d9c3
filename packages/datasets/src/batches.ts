import * as tf from "@tensorflow/tfjs-core";
import { createRng, type Rng, SelmixError, shuffleInPlace } from "@selmix/core";
import { type AugmentKind, type AugmentOptions, strongAugment, weakAugment } from "./augment.ts";
import { type Dataset, imageSize } from "./dataset.ts";
import { bagOfBuckets } from "./text.ts";

/** Augmentation is for images: a text dataset takes `none`. */
function assertAugmentFits(dataset: Dataset, kind: AugmentKind): void {
  if (kind !== "none" && dataset.text !== undefined) throw new SelmixError("INVALID_ARGUMENT", `augment "${kind}" is for images; a text dataset takes "none"`);
}

/** One batch: float images in [0, 1] and int32 labels (-1 for unlabelled images). The caller disposes both. */
export interface Batch {
  /** `[batch, height, width, channels]`, float32, pixel / 255. */
  readonly images: tf.Tensor4D;
  /** `[batch]`, int32. */
  readonly labels: tf.Tensor1D;
  /** Which samples of the pool are in the batch, in batch order. */
  readonly indices: Int32Array;
}

function checkIndices(dataset: Dataset, indices: ArrayLike<number>): void {
  const n = dataset.labels.length;
  for (let i = 0; i < indices.length; i++) {
    const idx = indices[i]!;
    if (!(Number.isInteger(idx) && idx >= 0 && idx < n)) {
      throw new SelmixError("INVALID_VALUE", `index ${idx} at position ${i} is out of range 0..${n - 1}`);
    }
  }
}

function toTensor(bytes: Uint8Array, count: number, dataset: Dataset): tf.Tensor4D {
  const floats = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) floats[i] = bytes[i]! / 255;
  return tf.tensor4d(floats, [count, dataset.height, dataset.width, dataset.channels], "float32");
}

/**
 * Gathers `indices` of `dataset` into a float batch `[b, H, W, C]` = pixel / 255, optionally augmenting each image
 * (see {@link weakAugment}, {@link strongAugment}) with `rng`. The uint8 work is plain JS; one tensor is created.
 * The caller owns (and disposes) the result.
 *
 * A text dataset gives its bags of buckets instead, `[b, 1, buckets, 1]`: per bucket the count of the sample's
 * n-grams hashed there over √n (so a product with an embedding matrix is the "sqrtn" embedding bag); it takes no
 * augmentation.
 *
 * @param dataset - The pool the indices point into.
 * @param indices - Samples to gather, in batch order.
 * @param augment - Augmentation kind, with its generator and options when not `none`.
 * @returns `[indices.length, height, width, channels]`, float32.
 * @throws `SelmixError` `INVALID_VALUE` if an index is out of range, `INVALID_ARGUMENT` if `augment` is not
 *   `none` and no `rng` or `augmentOptions` are given, or for a text dataset.
 * @example
 * {@includeCode ./examples.test.ts#toFloatBatch}
 */
export function toFloatBatch(
  dataset: Dataset,
  indices: ArrayLike<number>,
  augment: { readonly kind: AugmentKind; readonly rng?: Rng; readonly options?: AugmentOptions } = { kind: "none" },
): tf.Tensor4D {
  checkIndices(dataset, indices);
  assertAugmentFits(dataset, augment.kind);
  if (dataset.text !== undefined) {
    return tf.tensor4d(bagOfBuckets(dataset.text, indices), [indices.length, 1, dataset.text.buckets, 1], "float32");
  }
  const size = imageSize(dataset);
  const out = new Uint8Array(indices.length * size);
  const fn = augment.kind === "weak" ? weakAugment : augment.kind === "strong" ? strongAugment : undefined;
  if (fn !== undefined && (augment.rng === undefined || augment.options === undefined)) {
    throw new SelmixError("INVALID_ARGUMENT", `augment "${augment.kind}" needs an rng and options`);
  }
  for (let i = 0; i < indices.length; i++) {
    const image = dataset.images.subarray(indices[i]! * size, (indices[i]! + 1) * size);
    out.set(fn === undefined ? image : fn(image, dataset, augment.rng!, augment.options!), i * size);
  }
  return toTensor(out, indices.length, dataset);
}

/** Options of {@link createBatchIterator}. */
export interface BatchIteratorOptions {
  /** Images per batch (a positive integer). */
  readonly batchSize: number;
  /** Shuffle the order every epoch. @defaultValue true */
  readonly shuffle?: boolean;
  /** Seed of the order and the augmentation (ignored when `rng` is given). @defaultValue 0 */
  readonly seed?: number;
  /** Generator for the order and the augmentation; overrides `seed`. */
  readonly rng?: Rng;
  /** Drop a last, smaller batch. @defaultValue false */
  readonly dropLast?: boolean;
  /** Passes over the indices; `Infinity` for an endless stream. @defaultValue 1 */
  readonly epochs?: number;
  /** @defaultValue "none" */
  readonly augment?: AugmentKind;
  /** Required when `augment` is not `none`; e.g. `{ flip: source.flip }`. */
  readonly augmentOptions?: AugmentOptions;
}

/** An async iterator of {@link Batch}es that prepares the next batch while the current one is used. */
export interface BatchIterator extends AsyncIterableIterator<Batch> {
  /** Number of batches per epoch. */
  readonly batchesPerEpoch: number;
  /** Stops the iterator and frees the prefetched batch. Idempotent. */
  dispose(): void;
}

/**
 * Iterates over `indices` of `dataset` in batches, shuffled per epoch and augmented from one seeded generator, with
 * one batch of prefetch: after a batch is handed out, the next one is built in a macrotask (`setImmediate`), so it
 * overlaps with the consumer's asynchronous work (a backend's `await data()`, a training step). The consumer owns
 * the tensors of each yielded batch; the prefetched batch is freed by `return()` (e.g. `break` in `for await`) or
 * `dispose()`.
 *
 * @param dataset - The pool the indices point into.
 * @param indices - Samples of `dataset` to iterate over.
 * @param options - Batch size, order, epochs and augmentation.
 * @throws `SelmixError` `INVALID_VALUE` if `batchSize` or `epochs` is not a positive integer (or `Infinity`)
 *   or an index is out of range; `INVALID_ARGUMENT` if `augment` is set without `augmentOptions` or for a text
 *   dataset.
 * @example
 * {@includeCode ./examples.test.ts#createBatchIterator}
 */
export function createBatchIterator(
  dataset: Dataset,
  indices: ArrayLike<number>,
  options: BatchIteratorOptions,
): BatchIterator {
  const { batchSize, shuffle = true, dropLast = false, epochs = 1, augment = "none" } = options;
  if (!(Number.isSafeInteger(batchSize) && batchSize > 0)) {
    throw new SelmixError("INVALID_VALUE", `batchSize must be a positive integer, got ${batchSize}`);
  }
  if (!(epochs === Number.POSITIVE_INFINITY || (Number.isSafeInteger(epochs) && epochs > 0))) {
    throw new SelmixError("INVALID_VALUE", `epochs must be a positive integer or Infinity, got ${epochs}`);
  }
  assertAugmentFits(dataset, augment);
  if (augment !== "none" && options.augmentOptions === undefined) {
    throw new SelmixError("INVALID_ARGUMENT", `augment "${augment}" needs augmentOptions (e.g. { flip: source.flip })`);
  }
  checkIndices(dataset, indices);
  const rng = options.rng ?? createRng(options.seed ?? 0);
  const order = Int32Array.from(indices as ArrayLike<number>);
  const batchesPerEpoch = dropLast ? Math.floor(order.length / batchSize) : Math.ceil(order.length / batchSize);
  let epoch = 0;
  let position = 0;
  let closed = batchesPerEpoch === 0;

  const build = (): Batch | undefined => {
    if (closed) return undefined;
    if (position === 0 && shuffle) shuffleInPlace(order, rng);
    const end = Math.min(order.length, position + batchSize);
    const batchIndices = order.slice(position, end);
    position = end;
    if (position >= order.length || (dropLast && order.length - position < batchSize)) {
      position = 0;
      epoch += 1;
      if (epoch >= epochs) closed = true;
    }
    const labels = new Int32Array(batchIndices.length);
    batchIndices.forEach((idx, i) => {
      labels[i] = dataset.labels[idx]!;
    });
    const images = toFloatBatch(
      dataset,
      batchIndices,
      augment === "none" ? { kind: "none" } : { kind: augment, rng, options: options.augmentOptions! },
    );
    return { images, labels: tf.tensor1d(labels, "int32"), indices: batchIndices };
  };

  type Settled = { ok: true; batch: Batch | undefined } | { ok: false; error: unknown };
  let pending: Promise<Settled> | undefined;
  const schedule = (): void => {
    pending = new Promise((resolve) =>
      setImmediate(() => {
        try {
          resolve({ ok: true, batch: build() });
        } catch (error) {
          resolve({ ok: false, error });
        }
      }),
    );
  };
  const release = async (): Promise<void> => {
    closed = true;
    const p = pending;
    pending = undefined;
    const settled = await p;
    if (settled?.ok && settled.batch !== undefined) tf.dispose([settled.batch.images, settled.batch.labels]);
  };

  const iterator: BatchIterator = {
    batchesPerEpoch,
    async next(): Promise<IteratorResult<Batch>> {
      if (pending === undefined) {
        if (closed) return { done: true, value: undefined };
        schedule();
      }
      const settled = await pending!;
      pending = undefined;
      if (!settled.ok) {
        closed = true;
        throw settled.error;
      }
      if (settled.batch === undefined) return { done: true, value: undefined };
      if (!closed) schedule();
      return { done: false, value: settled.batch };
    },
    async return(): Promise<IteratorResult<Batch>> {
      await release();
      return { done: true, value: undefined };
    },
    dispose(): void {
      void release();
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
