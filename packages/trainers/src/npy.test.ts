import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isSelmixError, type SelmixErrorCode } from "@selmix/core";
import { describe, expect, test } from "vitest";
import { encodeNpy, parseNpy, readNpy, writeNpy } from "./npy.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-npy-"));
const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const le = (value: number, bytes: number): number[] => Array.from({ length: bytes }, (_, j) => Math.floor(value / 256 ** j) % 256);

/** A .npy file byte by byte: magic, version, little-endian header length, header text, data bytes. */
function npyFile(header: string, data: readonly number[], version: 1 | 2 = 1): Uint8Array {
  return Uint8Array.from([0x93, ...ascii("NUMPY"), version, 0, ...le(header.length, version === 1 ? 2 : 4), ...ascii(header), ...data]);
}
const dict = (descr: string, shape: string, fortran = "False"): string => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
const f4 = (...values: number[]): number[] => Array.from(new Uint8Array(Float32Array.from(values).buffer));
const f8 = (...values: number[]): number[] => Array.from(new Uint8Array(Float64Array.from(values).buffer));
const i8 = (...values: number[]): number[] => Array.from(new Uint8Array(BigInt64Array.from(values, BigInt).buffer));

function expectCode(run: () => unknown, code: SelmixErrorCode, mention: string): void {
  try {
    run();
  } catch (error) {
    expect(isSelmixError(error, code), String(error)).toBe(true);
    expect((error as Error).message.startsWith("f.npy: ")).toBe(true);
    expect((error as Error).message).toContain(mention);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe("parseNpy", () => {
  test("reads a file exactly as numpy.save writes it, and encodeNpy writes the same bytes", () => {
    // np.save(f, np.array([1.5, -2], dtype=np.float32)) with numpy 2: the dict, 20 spaces of room for the first
    // axis to grow to 21 digits, then spaces up to 128 bytes in all, then a newline.
    const text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    const header = `${text}${" ".repeat(118 - 1 - text.length)}\n`;
    const bytes = npyFile(header, f4(1.5, -2));
    expect(bytes.slice(0, 10)).toEqual(Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]));
    expect((10 + header.length) % 64).toBe(0);
    const array = parseNpy(bytes, "f.npy");
    expect(array).toEqual({ dtype: "<f4", shape: [2], data: Float32Array.from([1.5, -2]) });
    expect(encodeNpy(Float32Array.from([1.5, -2]), [2])).toEqual(bytes);
  });

  test("format 2.0 (uint32 header length), older 16-byte padding, double quotes and Python 2 longs", () => {
    const v2 = parseNpy(npyFile(`${dict("<f8", "(2, 2)")}    \n`, f8(1, 2, 3, 4), 2), "f.npy");
    expect(v2).toEqual({ dtype: "<f8", shape: [2, 2], data: Float64Array.from([1, 2, 3, 4]) });
    const old = parseNpy(npyFile(`{"descr": "<f4", "fortran_order": False, "shape": (1L, 2L)}   \n`, f4(5, 6)), "f.npy");
    expect(old.shape).toEqual([1, 2]);
    expect(old.data).toEqual(Float32Array.from([5, 6]));
  });

  test.each([
    ["<i8", i8(-3, 0, 2147483647, -2147483648)],
    ["<i4", Array.from(new Uint8Array(Int32Array.from([-3, 0, 2147483647, -2147483648]).buffer))],
  ])("integer labels %s become Int32Array", (descr, data) => {
    const array = parseNpy(npyFile(`${dict(descr, "(4,)")}\n`, data), "f.npy");
    expect(array.data).toEqual(Int32Array.from([-3, 0, 2147483647, -2147483648]));
  });

  test("small integer types: <i2, |i1, |u1", () => {
    expect(parseNpy(npyFile(`${dict("<i2", "(2,)")}\n`, [0xfd, 0xff, 7, 1]), "f.npy").data).toEqual(Int32Array.from([-3, 263]));
    expect(parseNpy(npyFile(`${dict("|i1", "(2,)")}\n`, [0xfd, 7]), "f.npy").data).toEqual(Int32Array.from([-3, 7]));
    expect(parseNpy(npyFile(`${dict("|u1", "(2,)")}\n`, [0xfd, 7]), "f.npy").data).toEqual(Int32Array.from([253, 7]));
  });

  test("an empty array (0 rows) is fine", () => {
    expect(parseNpy(npyFile(`${dict("<f4", "(0, 3)")}\n`, []), "f.npy")).toEqual({ dtype: "<f4", shape: [0, 3], data: new Float32Array(0) });
  });

  const good = dict("<f4", "(2,)");
  test.each<[string, Uint8Array, SelmixErrorCode, string]>([
    ["bad magic", Uint8Array.from([0x93, ...ascii("NUMPZ"), 1, 0, 0, 0]), "CORRUPT_FILE", "bad magic"],
    ["a text file", Uint8Array.from(ascii("label\n1\n2\n")), "CORRUPT_FILE", "bad magic"],
    ["an empty file", new Uint8Array(0), "CORRUPT_FILE", "bad magic"],
    ["no version", Uint8Array.from([0x93, ...ascii("NUMPY")]), "CORRUPT_FILE", "truncated"],
    ["a truncated header", npyFile(`${good}\n`, f4(1, 2)).slice(0, 30), "CORRUPT_FILE", "truncated .npy header"],
    ["truncated data", npyFile(`${good}\n`, f4(1, 2)).slice(0, -3), "CORRUPT_FILE", "truncated data"],
    ["bytes after the data", npyFile(`${good}\n`, [...f4(1, 2), 0]), "CORRUPT_FILE", "1 unexpected bytes"],
    ["version 3.0", Uint8Array.from([...npyFile(`${good}\n`, f4(1, 2))].map((b, j) => (j === 6 ? 3 : b))), "PARSE_ERROR", "version 3.0"],
    ["a header that is no dict", npyFile("descr=<f4\n", f4(1, 2)), "PARSE_ERROR", "bad .npy header"],
    ["an unclosed header", npyFile("{'descr': '<f4', 'shape': (2,\n", f4(1, 2)), "PARSE_ERROR", "bad .npy header"],
    ["no shape", npyFile("{'descr': '<f4', 'fortran_order': False}\n", f4(1, 2)), "PARSE_ERROR", "'shape'"],
    ["an extra key", npyFile(`{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n`, f4(1, 2)), "PARSE_ERROR", "'x'"],
    ["unsupported dtype", npyFile(`${dict("<u4", "(2,)")}\n`, f4(1, 2)), "PARSE_ERROR", "unsupported dtype '<u4'"],
    ["float16", npyFile(`${dict("<f2", "(2,)")}\n`, [0, 0, 0, 0]), "PARSE_ERROR", "unsupported dtype '<f2'"],
    ["big-endian", npyFile(`${dict(">f4", "(2,)")}\n`, f4(1, 2)), "PARSE_ERROR", "big-endian"],
    ["structured dtype", npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n", f4(1, 2)), "PARSE_ERROR", "structured"],
    ["Fortran order", npyFile(`${dict("<f4", "(1, 2)", "True")}\n`, f4(1, 2)), "PARSE_ERROR", "Fortran"],
    ["three dimensions", npyFile(`${dict("<f4", "(1, 1, 2)")}\n`, f4(1, 2)), "INVALID_SHAPE", "3 dimensions"],
    ["a scalar", npyFile(`${dict("<f4", "()")}\n`, f4(1)), "INVALID_SHAPE", "0 dimensions"],
    ["int64 beyond int32", npyFile(`${dict("<i8", "(2,)")}\n`, i8(1, 2 ** 31)), "INVALID_VALUE", "2147483648 at index 1"],
    ["negative int64 beyond int32", npyFile(`${dict("<i8", "(1,)")}\n`, i8(-(2 ** 31) - 1)), "INVALID_VALUE", "-2147483649"],
  ])("%s → %s naming the file", (_, bytes, code, mention) => {
    expectCode(() => parseNpy(bytes, "f.npy"), code, mention);
  });
});

describe("writeNpy / readNpy", () => {
  test("round-trip float32 [K, d], float64 and int32 [K] through files", () => {
    const w = Float32Array.from({ length: 12 }, (_, j) => j / 7 - 0.5);
    writeNpy(join(dir, "w.npy"), w, [3, 4]);
    expect(readNpy(join(dir, "w.npy"))).toEqual({ dtype: "<f4", shape: [3, 4], data: w });
    const b = Float64Array.from([Math.PI, -1e-300, 0]);
    writeNpy(join(dir, "b.npy"), b, [3]);
    expect(readNpy(join(dir, "b.npy"))).toEqual({ dtype: "<f8", shape: [3], data: b });
    const y = Int32Array.from([2, 0, -1]);
    writeNpy(join(dir, "y.npy"), y, [3]);
    expect(readNpy(join(dir, "y.npy"))).toEqual({ dtype: "<i4", shape: [3], data: y });
  });

  test("a subarray writes only its own values; every header is padded to 64 bytes", () => {
    const backing = Float32Array.from([9, 1, 2, 9]);
    const bytes = encodeNpy(backing.subarray(1, 3), [2]);
    expect(parseNpy(bytes, "f.npy").data).toEqual(Float32Array.from([1, 2]));
    for (const shape of [[1], [3, 4], [0, 5], [123456789012, 0]]) {
      const out = encodeNpy(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
      const headerEnd = 10 + out[8]! + 256 * out[9]!;
      expect(headerEnd % 64).toBe(0);
      expect(out[headerEnd - 1]).toBe(0x0a);
    }
  });

  test("a shape that does not hold the values is INVALID_SHAPE; a missing file is NOT_FOUND", () => {
    expect(() => encodeNpy(new Float32Array(6), [4, 2])).toThrow(expect.objectContaining({ code: "INVALID_SHAPE" }));
    expect(() => encodeNpy(new Float32Array(2), [-1, -2])).toThrow(expect.objectContaining({ code: "INVALID_SHAPE" }));
    writeFileSync(join(dir, "text.npy"), "1,2,3\n");
    expect(() => readNpy(join(dir, "text.npy"))).toThrow(expect.objectContaining({ code: "CORRUPT_FILE", message: expect.stringContaining("text.npy") }));
    expect(() => readNpy(join(dir, "missing.npy"))).toThrow(expect.objectContaining({ code: "NOT_FOUND", message: expect.stringContaining("missing.npy") }));
  });
});
