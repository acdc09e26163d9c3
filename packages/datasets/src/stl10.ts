import { createHash } from "node:crypto";
import { type FileHandle, open } from "node:fs/promises";
import { SelmixError } from "@selmix/core";

/**
 * Side of an STL-10 image.
 *
 * @example
 * {@includeCode ./examples.test.ts#STL10_SIZE}
 */
export const STL10_SIZE = 96;
const STL_IMAGE_BYTES = 3 * STL10_SIZE * STL10_SIZE;

/** Options of {@link readStl10Images}. */
export interface Stl10ReadOptions {
  /**
   * Output side. 96 keeps the original; a divisor of 96 (the paper uses 32) downsamples by the area (box) filter:
   * each output pixel is the rounded mean of a `96/size` square block, exact for 32 (3 x 3 blocks).
   * @defaultValue 96
   */
  readonly size?: number;
  /** Read at most this many images (from the start of the file). */
  readonly limit?: number;
  /** When given, the exact number of images the file must hold (5000 train, 8000 test, 100000 unlabelled). */
  readonly expectedRecords?: number;
}

/** Images read from an STL-10 `*_X.bin` file, HWC uint8. */
export interface Stl10Images {
  /** Pixels, `[count, size, size, 3]` HWC uint8. */
  readonly images: Uint8Array;
  /** Number of images read. */
  readonly count: number;
  /** Image side in pixels. */
  readonly size: number;
  /** SHA-256 of the whole file (also of the images past `limit`). */
  readonly sha256: string;
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (error) {
    throw new SelmixError("NOT_FOUND", `${path}: cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`, {
      cause: error,
    });
  }
}

/**
 * Converts one STL-10 image (3 planes of 96 x 96, each column-major) to HWC at `size`, writing into `out` at
 * `offset`. @internal
 */
export function convertStlImage(src: Uint8Array, srcOffset: number, size: number, out: Uint8Array, offset: number): void {
  const plane = STL10_SIZE * STL10_SIZE;
  const f = STL10_SIZE / size;
  const area = f * f;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dx = 0; dx < f; dx++) {
          const col = srcOffset + c * plane + (x * f + dx) * STL10_SIZE + y * f;
          for (let dy = 0; dy < f; dy++) sum += src[col + dy]!;
        }
        out[offset + (y * size + x) * 3 + c] = Math.round(sum / area);
      }
    }
  }
}

/**
 * Streams an STL-10 image file (`train_X.bin`, `test_X.bin`, `unlabeled_X.bin`: N x 3 x 96 x 96 uint8, each
 * channel plane column-major) in chunks, converting to HWC and optionally downsampling, so the 2.7 GB unlabelled
 * file never sits in memory at full size. The SHA-256 of the file is computed on the way.
 *
 * @throws `SelmixError` `NOT_FOUND` if the file cannot be opened, `CORRUPT_FILE` naming it if its length is
 *   not a positive multiple of 27648 bytes or the count differs from `expectedRecords`, `INVALID_VALUE` if `size`
 *   does not divide 96 or `limit` is not a positive integer.
 * @example
 * {@includeCode ./examples.test.ts#readStl10Images}
 */
export async function readStl10Images(path: string, options: Stl10ReadOptions = {}): Promise<Stl10Images> {
  const { size = STL10_SIZE, limit, expectedRecords } = options;
  if (!(Number.isInteger(size) && size > 0 && STL10_SIZE % size === 0)) {
    throw new SelmixError("INVALID_VALUE", `STL-10 size must divide 96 (e.g. 96, 48, 32), got ${size}`);
  }
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
    throw new SelmixError("INVALID_VALUE", `limit must be a positive integer, got ${limit}`);
  }
  const handle = await openFile(path);
  try {
    const { size: bytes } = await handle.stat();
    if (bytes === 0 || bytes % STL_IMAGE_BYTES !== 0) {
      throw new SelmixError(
        "CORRUPT_FILE",
        `${path}: length ${bytes} is not a positive multiple of ${STL_IMAGE_BYTES} (3 x 96 x 96; truncated or not an STL-10 image file)`,
      );
    }
    const total = bytes / STL_IMAGE_BYTES;
    if (expectedRecords !== undefined && total !== expectedRecords) {
      throw new SelmixError("CORRUPT_FILE", `${path}: holds ${total} images, expected ${expectedRecords}`);
    }
    const count = Math.min(total, limit ?? total);
    const out = new Uint8Array(count * size * size * 3);
    const hash = createHash("sha256");
    const chunkImages = 256;
    const buffer = new Uint8Array(chunkImages * STL_IMAGE_BYTES);
    for (let first = 0; first < total; first += chunkImages) {
      const n = Math.min(chunkImages, total - first);
      const want = n * STL_IMAGE_BYTES;
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buffer, got, want - got, first * STL_IMAGE_BYTES + got);
        if (bytesRead === 0) throw new SelmixError("CORRUPT_FILE", `${path}: file shrank while reading`);
        got += bytesRead;
      }
      hash.update(buffer.subarray(0, want));
      for (let i = 0; i < n && first + i < count; i++) {
        convertStlImage(buffer, i * STL_IMAGE_BYTES, size, out, (first + i) * size * size * 3);
      }
    }
    return { images: out, count, size, sha256: hash.digest("hex") };
  } finally {
    await handle.close();
  }
}

/**
 * Decodes an STL-10 label file (`train_y.bin`, `test_y.bin`: one byte per image, 1..10) to 0..9.
 *
 * @param bytes - The file's content.
 * @param name - File name for error messages.
 * @param expectedRecords - When given, the exact number of labels the file must hold.
 * @returns Labels 0..9, one per image.
 * @throws `SelmixError` `CORRUPT_FILE` naming the file if it is empty, the count differs from
 *   `expectedRecords`, or a label is outside 1..10.
 * @example
 * {@includeCode ./examples.test.ts#parseStl10Labels}
 */
export function parseStl10Labels(bytes: Uint8Array, name: string, expectedRecords?: number): Uint8Array {
  if (bytes.length === 0) throw new SelmixError("CORRUPT_FILE", `${name}: empty STL-10 label file`);
  if (expectedRecords !== undefined && bytes.length !== expectedRecords) {
    throw new SelmixError("CORRUPT_FILE", `${name}: holds ${bytes.length} labels, expected ${expectedRecords}`);
  }
  const labels = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const label = bytes[i]!;
    if (label < 1 || label > 10) throw new SelmixError("CORRUPT_FILE", `${name}: label ${label} at record ${i} is outside 1..10`);
    labels[i] = label - 1;
  }
  return labels;
}
