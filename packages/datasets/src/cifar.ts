import { SelmixError } from "@selmix/core";

/** Which CIFAR binary layout: CIFAR-10 (1 label byte) or CIFAR-100 (coarse and fine label bytes). */
export type CifarVariant = "cifar10" | "cifar100";

/** Decoded records of one CIFAR `.bin` file: 32 x 32 x 3 images in HWC order. */
export interface CifarBatch {
  /** `[count, 32, 32, 3]`, NHWC uint8. */
  readonly images: Uint8Array;
  /** CIFAR-10 label or CIFAR-100 fine label, `[count]`. */
  readonly labels: Uint8Array;
  /** CIFAR-100 only: coarse (super-class) label, `[count]`. */
  readonly coarseLabels?: Uint8Array;
  /** Number of records. */
  readonly count: number;
}

const PIXELS = 32 * 32;

/**
 * Record length in bytes of `variant`: 3073 (CIFAR-10) or 3074 (CIFAR-100).
 *
 * @example
 * {@includeCode ./examples.test.ts#cifarRecordSize}
 */
export function cifarRecordSize(variant: CifarVariant): number {
  return variant === "cifar10" ? 1 + 3 * PIXELS : 2 + 3 * PIXELS;
}

/**
 * Decodes a CIFAR binary batch: records of `label (CIFAR-10) | coarse, fine (CIFAR-100)` then 3072 bytes of CHW
 * pixels (1024 red, 1024 green, 1024 blue, each row-major), converted to HWC.
 *
 * @param bytes - The file's content.
 * @param variant - Which CIFAR layout the file uses.
 * @param name - file name for error messages.
 * @param expectedRecords - when given, the exact number of records the file must hold (10000 for official files).
 * @throws `SelmixError` `CORRUPT_FILE` naming the file if it is empty, its length is not a multiple of the
 *   record size (truncated), the record count differs from `expectedRecords`, or a label is out of range
 *   (0..9 for CIFAR-10; coarse 0..19 and fine 0..99 for CIFAR-100).
 * @example
 * {@includeCode ./examples.test.ts#parseCifar}
 */
export function parseCifar(bytes: Uint8Array, variant: CifarVariant, name: string, expectedRecords?: number): CifarBatch {
  const recordSize = cifarRecordSize(variant);
  if (bytes.length === 0 || bytes.length % recordSize !== 0) {
    throw new SelmixError(
      "CORRUPT_FILE",
      `${name}: length ${bytes.length} is not a positive multiple of the ${variant} record size ${recordSize} (truncated or not a ${variant} batch)`,
    );
  }
  const count = bytes.length / recordSize;
  if (expectedRecords !== undefined && count !== expectedRecords) {
    throw new SelmixError("CORRUPT_FILE", `${name}: holds ${count} records, expected ${expectedRecords}`);
  }
  const images = new Uint8Array(count * 3 * PIXELS);
  const labels = new Uint8Array(count);
  const coarseLabels = variant === "cifar100" ? new Uint8Array(count) : undefined;
  const labelBytes = recordSize - 3 * PIXELS;
  const maxLabel = variant === "cifar10" ? 9 : 99;
  for (let r = 0; r < count; r++) {
    const base = r * recordSize;
    const label = bytes[base + labelBytes - 1]!;
    if (label > maxLabel) {
      throw new SelmixError("CORRUPT_FILE", `${name}: record ${r} has label ${label}, expected 0..${maxLabel}`);
    }
    labels[r] = label;
    if (coarseLabels !== undefined) {
      const coarse = bytes[base]!;
      if (coarse > 19) throw new SelmixError("CORRUPT_FILE", `${name}: record ${r} has coarse label ${coarse}, expected 0..19`);
      coarseLabels[r] = coarse;
    }
    const src = base + labelBytes;
    const dst = r * 3 * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      images[dst + 3 * p] = bytes[src + p]!;
      images[dst + 3 * p + 1] = bytes[src + PIXELS + p]!;
      images[dst + 3 * p + 2] = bytes[src + 2 * PIXELS + p]!;
    }
  }
  return coarseLabels === undefined ? { images, labels, count } : { images, labels, coarseLabels, count };
}

/** Concatenates decoded batches (e.g. `data_batch_1..5`) in order. @internal */
export function concatBatches(batches: readonly CifarBatch[]): { images: Uint8Array; labels: Uint8Array } {
  const count = batches.reduce((a, b) => a + b.count, 0);
  const images = new Uint8Array(count * 3 * PIXELS);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const batch of batches) {
    images.set(batch.images, offset * 3 * PIXELS);
    labels.set(batch.labels, offset);
    offset += batch.count;
  }
  return { images, labels };
}
