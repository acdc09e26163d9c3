import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { gunzip } from "node:zlib";
import { promisify } from "node:util";
import { SelmixError } from "@selmix/core";
import type { Dataset } from "./dataset.ts";

const gunzipAsync = promisify(gunzip);

/** A decoded IDX file: dimensions and uint8 payload (row-major). */
export interface IdxArray {
  /** Dimensions, outermost first (e.g. `[n, 28, 28]`). */
  readonly dims: readonly number[];
  /** Payload, row-major uint8. */
  readonly data: Uint8Array;
}

/** True for a gzip stream (magic 1f 8b). @internal */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses an uncompressed uint8 IDX file (magic `00 00 08 ndim`, big-endian uint32 sizes, row-major bytes).
 *
 * @param name - file name used in error messages.
 * @throws `SelmixError` `CORRUPT_FILE` naming `name` if the magic, the data type, the number of dimensions
 *   or the length disagrees with the header (a truncated file, trailing bytes).
 * @example
 * {@includeCode ./examples.test.ts#parseIdx}
 */
export function parseIdx(bytes: Uint8Array, name = "IDX data"): IdxArray {
  if (bytes.length < 4) throw new SelmixError("CORRUPT_FILE", `${name}: ${bytes.length} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    throw new SelmixError("CORRUPT_FILE", `${name}: bad IDX magic 0x${magic}, expected 0x000008xx`);
  }
  if (bytes[2] !== 0x08) {
    throw new SelmixError("CORRUPT_FILE", `${name}: IDX data type 0x${bytes[2]!.toString(16)} is not uint8 (0x08)`);
  }
  const ndim = bytes[3]!;
  if (ndim < 1 || ndim > 4) throw new SelmixError("CORRUPT_FILE", `${name}: IDX has ${ndim} dimensions, expected 1 to 4`);
  const headerLength = 4 + 4 * ndim;
  if (bytes.length < headerLength) {
    throw new SelmixError("CORRUPT_FILE", `${name}: truncated IDX header (${bytes.length} of ${headerLength} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual !== expected) {
    const what = actual < expected ? "truncated" : "has trailing bytes";
    throw new SelmixError(
      "CORRUPT_FILE",
      `${name}: ${what}: header [${dims.join(", ")}] needs ${expected} data bytes, file has ${actual}`,
    );
  }
  return { dims, data: bytes.subarray(headerLength) };
}

/**
 * Encodes a uint8 IDX file (uncompressed). Used to write fixtures and subsets.
 *
 * @throws `SelmixError` `INVALID_SHAPE` if `data.length` is not the product of `dims`.
 * @example
 * {@includeCode ./examples.test.ts#encodeIdx}
 */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (dims.length < 1 || dims.length > 4 || data.length !== expected) {
    throw new SelmixError("INVALID_SHAPE", `data has ${data.length} bytes, dims [${dims.join(", ")}] need ${expected}`);
  }
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Reads a file and gunzips it when it starts with the gzip magic; coded errors name the file. @internal */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  let raw: Uint8Array;
  try {
    raw = await readFile(path);
  } catch (error) {
    throw new SelmixError("NOT_FOUND", `${path}: cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`, {
      cause: error,
    });
  }
  if (!isGzip(raw)) return raw;
  try {
    return new Uint8Array(await gunzipAsync(raw));
  } catch (error) {
    throw new SelmixError("CORRUPT_FILE", `${path}: corrupt gzip stream (${(error as Error).message})`, { cause: error });
  }
}

/**
 * Reads an IDX file, raw or gzipped (detected from the gzip magic, not the name).
 *
 * @throws `SelmixError` `NOT_FOUND` if the file cannot be read, `CORRUPT_FILE` (naming the file) if the gzip
 *   stream or the IDX content is corrupt or truncated.
 * @example
 * {@includeCode ./examples.test.ts#readIdx}
 */
export async function readIdx(path: string): Promise<
  IdxArray & {
    /** The whole decoded (gunzipped) file, header included. */
    readonly decoded: Uint8Array;
  }
> {
  const decoded = await readMaybeGzip(path);
  return { ...parseIdx(decoded, path), decoded };
}

/**
 * Builds a {@link Dataset} from a decoded IDX image array `[n, h, w]` (or `[n, h, w, c]`) and label array `[n]`.
 *
 * @param images - Decoded image file, `[n, h, w]` or `[n, h, w, c]`.
 * @param labels - Decoded label file, `[n]`.
 * @param numClasses - Number of classes K.
 * @param names - File names for error messages.
 * @param classNames - Human-readable class names, indexed by label.
 * @throws `SelmixError` `CORRUPT_FILE` naming the files if the ranks, the record counts disagree or a label is
 *   outside `0..numClasses-1`.
 * @example
 * {@includeCode ./examples.test.ts#idxToDataset}
 */
export function idxToDataset(
  images: IdxArray,
  labels: IdxArray,
  numClasses: number,
  names: { images: string; labels: string } = { images: "images", labels: "labels" },
  classNames?: readonly string[],
): Dataset {
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new SelmixError("CORRUPT_FILE", `${names.images}: expected an image file [n, h, w], got [${images.dims.join(", ")}]`);
  }
  if (labels.dims.length !== 1) {
    throw new SelmixError("CORRUPT_FILE", `${names.labels}: expected a label file [n], got [${labels.dims.join(", ")}]`);
  }
  const [n, height, width, channels = 1] = images.dims as [number, number, number, number?];
  if (labels.dims[0] !== n) {
    throw new SelmixError(
      "CORRUPT_FILE",
      `${basename(names.labels)} has ${labels.dims[0]} labels but ${basename(names.images)} has ${n} images`,
    );
  }
  for (let i = 0; i < n; i++) {
    const label = labels.data[i]!;
    if (label >= numClasses) {
      throw new SelmixError("CORRUPT_FILE", `${names.labels}: label ${label} at record ${i} is outside 0..${numClasses - 1}`);
    }
  }
  return {
    images: images.data,
    labels: labels.data,
    height,
    width,
    channels,
    numClasses,
    ...(classNames === undefined ? {} : { classNames }),
  };
}
