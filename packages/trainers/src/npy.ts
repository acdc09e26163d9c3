import { readFileSync } from "node:fs";
import { SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";

/** The `descr` values {@link parseNpy} reads: little-endian floats and integers (bytes have no byte order). */
export type NpyDtype = "<f4" | "<f8" | "<i8" | "<i4" | "<i2" | "|i1" | "|u1";

/**
 * Every {@link NpyDtype}.
 *
 * @example
 * {@includeCode ./examples.test.ts#NPY_DTYPES}
 */
export const NPY_DTYPES: readonly NpyDtype[] = ["<f4", "<f8", "<i8", "<i4", "<i2", "|i1", "|u1"];

/** A decoded `.npy` array: floats stay at their precision, every integer type becomes Int32Array. */
export interface NpyArray {
  /** The file's `descr`. */
  readonly dtype: NpyDtype;
  /** One or two dimensions, C (row-major) order. */
  readonly shape: readonly number[];
  /** Values, C order, typed by `dtype`. */
  readonly data: Float32Array | Float64Array | Int32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ITEM_SIZE: Record<NpyDtype, number> = { "<f4": 4, "<f8": 8, "<i8": 8, "<i4": 4, "<i2": 2, "|i1": 1, "|u1": 1 };
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type HeaderValue = string | boolean | number | number[];

/** Parses numpy's header: a Python dict literal of strings, booleans, integers and tuples of integers. */
function parseHeaderDict(text: string, name: string): Map<string, HeaderValue> {
  let i = 0;
  const fail = (what: string): never => {
    throw new SelmixError("PARSE_ERROR", `${name}: bad .npy header (${what} at character ${i}): ${JSON.stringify(text.trim())}`);
  };
  const skip = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string): void => {
    skip();
    if (text[i] !== c) fail(`expected '${c}'`);
    i++;
  };
  const integer = (): number => {
    skip();
    const m = /^\d+L?/.exec(text.slice(i));
    if (m === null) return fail("expected an integer");
    i += m[0].length;
    return Number(m[0].replace("L", ""));
  };
  const value = (): HeaderValue => {
    skip();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail("unterminated string");
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (text.startsWith("True", i) || text.startsWith("False", i)) {
      const t = text.startsWith("True", i);
      i += t ? 4 : 5;
      return t;
    }
    if (c === "(") {
      i++;
      const items: number[] = [];
      for (;;) {
        skip();
        if (text[i] === ")") break;
        items.push(integer());
        skip();
        if (text[i] === ",") i++;
        else if (text[i] !== ")") fail("expected ',' or ')'");
      }
      i++;
      return items;
    }
    if (c === "[") return fail("structured dtypes are not supported");
    return integer();
  };
  const dict = new Map<string, HeaderValue>();
  expect("{");
  for (;;) {
    skip();
    if (text[i] === "}") break;
    const key = value();
    if (typeof key !== "string") fail("expected a string key");
    expect(":");
    dict.set(key as string, value());
    skip();
    if (text[i] === ",") i++;
    else if (text[i] !== "}") fail("expected ',' or '}'");
  }
  i++;
  skip();
  if (i !== text.length) fail("unexpected text after the dict");
  return dict;
}

function checkDtype(descr: HeaderValue | undefined, name: string): NpyDtype {
  if (typeof descr !== "string") throw new SelmixError("PARSE_ERROR", `${name}: .npy header has no string 'descr'`);
  if ((NPY_DTYPES as readonly string[]).includes(descr)) return descr as NpyDtype;
  if (descr.startsWith(">")) {
    throw new SelmixError("PARSE_ERROR", `${name}: big-endian dtype '${descr}' is not supported; save it little-endian (x.astype(x.dtype.newbyteorder('<')))`);
  }
  throw new SelmixError("PARSE_ERROR", `${name}: unsupported dtype '${descr}'; expected one of ${NPY_DTYPES.join(", ")}`);
}

/** The little-endian data bytes as the dtype's array (floats copied into a fresh, aligned buffer). */
function decodeData(bytes: Uint8Array, dtype: NpyDtype, count: number, name: string): Float32Array | Float64Array | Int32Array {
  // `new Uint8Array(typedArray)` copies; Buffer#slice would not (it shares Node's pool).
  const copy = (): ArrayBuffer => new Uint8Array(bytes.subarray(0, count * ITEM_SIZE[dtype])).buffer;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "<f4":
      if (HOST_LITTLE_ENDIAN) return new Float32Array(copy());
      return Float32Array.from({ length: count }, (_, j) => view.getFloat32(4 * j, true));
    case "<f8":
      if (HOST_LITTLE_ENDIAN) return new Float64Array(copy());
      return Float64Array.from({ length: count }, (_, j) => view.getFloat64(8 * j, true));
    case "<i8": {
      const out = new Int32Array(count);
      for (let j = 0; j < count; j++) {
        const lo = view.getInt32(8 * j, true);
        const hi = view.getInt32(8 * j + 4, true);
        if (hi !== (lo < 0 ? -1 : 0)) {
          throw new SelmixError("INVALID_VALUE", `${name}: int64 value ${view.getBigInt64(8 * j, true)} at index ${j} does not fit in 32 bits`);
        }
        out[j] = lo;
      }
      return out;
    }
    case "<i4":
      return Int32Array.from({ length: count }, (_, j) => view.getInt32(4 * j, true));
    case "<i2":
      return Int32Array.from({ length: count }, (_, j) => view.getInt16(2 * j, true));
    case "|i1":
      return Int32Array.from({ length: count }, (_, j) => view.getInt8(j));
    case "|u1":
      return Int32Array.from(bytes.subarray(0, count));
  }
}

/**
 * Decodes the bytes of a NumPy `.npy` file (format 1.0 or 2.0; C order; one or two dimensions; dtype one of
 * {@link NPY_DTYPES}). Integers become Int32Array (int64 values must fit in 32 bits).
 *
 * @param name - the file, named first in every error.
 * @throws `SelmixError` `CORRUPT_FILE` for a bad magic string, a truncated header or data, or bytes after the
 *   data; `PARSE_ERROR` for an unsupported version, a malformed header, an unsupported or big-endian dtype or
 *   Fortran order; `INVALID_SHAPE` for a shape that is not 1-D or 2-D; `INVALID_VALUE` for an int64 outside int32.
 *
 * @example
 * {@includeCode ./examples.test.ts#parseNpy}
 */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  if (MAGIC.some((b, j) => bytes[j] !== b)) {
    throw new SelmixError("CORRUPT_FILE", `${name}: not a .npy file (bad magic string; expected \\x93NUMPY)`);
  }
  if (bytes.length < 8) throw new SelmixError("CORRUPT_FILE", `${name}: truncated .npy header (no version)`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if ((major !== 1 && major !== 2) || minor !== 0) {
    throw new SelmixError("PARSE_ERROR", `${name}: unsupported .npy format version ${major}.${minor}; expected 1.0 or 2.0`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) throw new SelmixError("CORRUPT_FILE", `${name}: truncated .npy header`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = prefix + headerLength;
  if (bytes.length < dataStart) {
    throw new SelmixError("CORRUPT_FILE", `${name}: truncated .npy header (${headerLength} bytes announced, ${bytes.length - prefix} present)`);
  }
  const headerBytes = bytes.subarray(prefix, dataStart);
  if (headerBytes.some((b) => b > 0x7f)) throw new SelmixError("PARSE_ERROR", `${name}: .npy header is not ASCII`);
  const dict = parseHeaderDict(new TextDecoder("latin1").decode(headerBytes), name);
  for (const key of dict.keys()) {
    if (key !== "descr" && key !== "fortran_order" && key !== "shape") throw new SelmixError("PARSE_ERROR", `${name}: unexpected key '${key}' in the .npy header`);
  }
  const dtype = checkDtype(dict.get("descr"), name);
  const fortran = dict.get("fortran_order");
  if (typeof fortran !== "boolean") throw new SelmixError("PARSE_ERROR", `${name}: .npy header has no boolean 'fortran_order'`);
  if (fortran) {
    throw new SelmixError("PARSE_ERROR", `${name}: Fortran-order arrays are not supported; save np.ascontiguousarray(x) instead`);
  }
  const shape = dict.get("shape");
  if (!Array.isArray(shape)) throw new SelmixError("PARSE_ERROR", `${name}: .npy header has no tuple 'shape'`);
  if (shape.length < 1 || shape.length > 2) {
    throw new SelmixError("INVALID_SHAPE", `${name}: shape (${shape.join(", ")}) has ${shape.length} dimensions; expected 1 or 2`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const size = count * ITEM_SIZE[dtype];
  const available = bytes.length - dataStart;
  if (available < size) {
    throw new SelmixError("CORRUPT_FILE", `${name}: truncated data: shape (${shape.join(", ")}) of ${dtype} needs ${size} bytes, found ${available}`);
  }
  if (available > size) throw new SelmixError("CORRUPT_FILE", `${name}: ${available - size} unexpected bytes after the data`);
  return { dtype, shape, data: decodeData(bytes.subarray(dataStart), dtype, count, name) };
}

/**
 * Reads a NumPy `.npy` file (see {@link parseNpy}).
 *
 * @throws `SelmixError` `NOT_FOUND` when the file cannot be read; the codes of {@link parseNpy}.
 *
 * @example
 * {@includeCode ./examples.test.ts#readNpy}
 */
export function readNpy(path: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new SelmixError("NOT_FOUND", `${path}: cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseNpy(bytes, path);
}

const DESCR_OF = (array: Float32Array | Float64Array | Int32Array): "<f4" | "<f8" | "<i4" =>
  array instanceof Float32Array ? "<f4" : array instanceof Float64Array ? "<f8" : "<i4";

/**
 * The bytes of a `.npy` file holding `array` with `shape`, exactly as `numpy.save` (numpy 2) writes them: format
 * 1.0 (2.0 when the header needs it), header dict with sorted keys, padded with spaces to a multiple of 64 bytes
 * and ended by a newline.
 *
 * @throws `SelmixError` `INVALID_SHAPE` when `shape` has a negative or fractional dimension or does not hold
 *   `array.length` values.
 *
 * @example
 * {@includeCode ./examples.test.ts#encodeNpy}
 */
export function encodeNpy(array: Float32Array | Float64Array | Int32Array, shape: readonly number[]): Uint8Array {
  if (shape.some((d) => !(Number.isSafeInteger(d) && d >= 0)) || shape.reduce((a, b) => a * b, 1) !== array.length) {
    throw new SelmixError("INVALID_SHAPE", `shape [${shape.join(", ")}] does not hold ${array.length} values`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  // numpy 2 leaves room for the first axis to grow to 21 digits, then pads (with at least one space) to 64 bytes.
  const growth = shape.length > 0 ? 21 - String(shape[0]).length : 0;
  const dict = `{'descr': '${DESCR_OF(array)}', 'fortran_order': False, 'shape': ${shapeText}, }${" ".repeat(growth)}`;
  const paddedFor = (prefix: number): number => dict.length + 64 - ((prefix + dict.length + 1) % 64);
  const prefix = paddedFor(10) + 1 > 0xffff ? 12 : 10;
  const padded = paddedFor(prefix);
  const header = `${dict.padEnd(padded, " ")}\n`;
  const out = new Uint8Array(prefix + header.length + array.byteLength);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[6] = prefix === 10 ? 1 : 2;
  out[7] = 0;
  if (prefix === 10) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let j = 0; j < header.length; j++) out[prefix + j] = header.charCodeAt(j);
  const start = prefix + header.length;
  if (HOST_LITTLE_ENDIAN) out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), start);
  else {
    const size = array.BYTES_PER_ELEMENT;
    for (let j = 0; j < array.length; j++) {
      const v = array[j]!;
      if (array instanceof Float32Array) view.setFloat32(start + size * j, v, true);
      else if (array instanceof Float64Array) view.setFloat64(start + size * j, v, true);
      else view.setInt32(start + size * j, v, true);
    }
  }
  return out;
}

/**
 * Writes `array` with `shape` to `path` as a `.npy` file (`<f4`, `<f8` or `<i4`, see {@link encodeNpy}), atomically:
 * readers never see a partial file.
 *
 * @param path - Destination file.
 * @param array - Values, C order.
 * @param shape - Dimensions of `array`.
 * @throws `SelmixError` `INVALID_SHAPE` as {@link encodeNpy}.
 *
 * @example
 * {@includeCode ./examples.test.ts#writeNpy}
 */
export function writeNpy(path: string, array: Float32Array | Float64Array | Int32Array, shape: readonly number[]): void {
  writeFileAtomic(path, encodeNpy(array, shape));
}
