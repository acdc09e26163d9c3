import { SelmixError } from "@selmix/core";
import type { TextTokens } from "./text.ts";

/**
 * Images in memory: uint8 pixels, NHWC (`images[((n * height + y) * width + x) * channels + c]`), one label per
 * image. Labels are `0..numClasses-1`; an unlabelled pool (STL-10's `unlabeled_X.bin`) uses `-1`.
 *
 * A text dataset (the `wordnet-nouns` sources) has `text` instead: hashed n-gram ids per sample, `images` empty and
 * `[height, width, channels] = [1, buckets, 1]`, the shape of one sample of its batches (a bag of buckets, see
 * {@link toFloatBatch}).
 */
export interface Dataset {
  /** Pixels, NHWC uint8, `[n, height, width, channels]`. */
  readonly images: Uint8Array;
  /** One label per image, `[n]`; -1 for unlabelled images. */
  readonly labels: Uint8Array | Int32Array;
  /** Image height in pixels. */
  readonly height: number;
  /** Image width in pixels. */
  readonly width: number;
  /** Channels per pixel (1 grey, 3 RGB). */
  readonly channels: number;
  /** Number of classes K. */
  readonly numClasses: number;
  /** Human-readable class names, indexed by label. */
  readonly classNames?: readonly string[];
  /** Text datasets only: the token ids of every sample. */
  readonly text?: TextTokens;
}

/**
 * Number of images in `dataset`.
 *
 * @example
 * {@includeCode ./examples.test.ts#datasetSize}
 */
export function datasetSize(dataset: Dataset): number {
  return dataset.labels.length;
}

/**
 * Images per class, `[numClasses]`; labels of `-1` (unlabelled) are not counted.
 *
 * @param labels - Label per sample (`-1` for unlabelled).
 * @param numClasses - Number of classes K.
 * @param indices - count only these samples (default: all).
 * @throws `SelmixError` `INVALID_VALUE` if a label is outside `-1..numClasses-1` or an index is out of range.
 * @example
 * {@includeCode ./examples.test.ts#classHistogram}
 */
export function classHistogram(
  labels: ArrayLike<number>,
  numClasses: number,
  indices?: ArrayLike<number>,
): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  const n = indices === undefined ? labels.length : indices.length;
  for (let i = 0; i < n; i++) {
    const idx = indices === undefined ? i : indices[i]!;
    const label = labels[idx];
    if (label === undefined) throw new SelmixError("INVALID_VALUE", `index ${idx} is out of range 0..${labels.length - 1}`);
    if (label === -1) continue;
    if (!(label >= 0 && label < numClasses)) {
      throw new SelmixError("INVALID_VALUE", `label ${label} at index ${idx} is outside 0..${numClasses - 1}`);
    }
    counts[label]! += 1;
  }
  return counts;
}

/** Indices of every class: `result[k]` lists, ascending, the samples whose label is `k`. @internal */
export function indicesByClass(labels: ArrayLike<number>, numClasses: number): number[][] {
  const out: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label >= 0) out[label]?.push(i);
  }
  return out;
}

/**
 * Bytes of one image, `height * width * channels`.
 *
 * @example
 * {@includeCode ./examples.test.ts#imageSize}
 */
export function imageSize(dataset: Pick<Dataset, "height" | "width" | "channels">): number {
  return dataset.height * dataset.width * dataset.channels;
}
