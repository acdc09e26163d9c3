import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { writeFileAtomic } from "./atomic-write.ts";
import { isSelmixError, SelmixError } from "./errors.ts";

test("writes the whole file, creates folders, leaves no temporary file", () => {
  const dir = mkdtempSync(join(tmpdir(), "selmix-core-"));
  const path = join(dir, "a", "b", "out.json");
  writeFileAtomic(path, "first");
  writeFileAtomic(path, new TextEncoder().encode("second"));
  expect(readFileSync(path, "utf8")).toBe("second");
  expect(readdirSync(join(dir, "a", "b"))).toEqual(["out.json"]);
});

test("a failed write leaves the previous file intact", () => {
  const dir = mkdtempSync(join(tmpdir(), "selmix-core-"));
  const path = join(dir, "out.txt");
  writeFileAtomic(path, "kept");
  expect(() => writeFileAtomic(join(path, "child"), "x")).toThrow(); // parent is a file
  expect(readFileSync(path, "utf8")).toBe("kept");
});

test("a file where a folder is needed is an IO_ERROR naming the path", () => {
  const dir = mkdtempSync(join(tmpdir(), "selmix-core-"));
  const file = join(dir, "existing");
  writeFileAtomic(file, "x");
  const target = join(file, "manifest.json"); // `datasets build --out EXISTING_FILE`
  expect(() => writeFileAtomic(target, "{}")).toThrow(new SelmixError("IO_ERROR", `${target}: cannot write (a file stands where a folder of ${target} is needed)`));
  expect(() => writeFileAtomic(dir, "{}")).toThrow(/IO_ERROR|is a folder/);
  try {
    writeFileAtomic(dir, "{}");
  } catch (e) {
    expect(isSelmixError(e, "IO_ERROR")).toBe(true);
  }
});

test("SelmixError carries its code", () => {
  const e = new SelmixError("NOT_FOUND", "x.json: cannot read file");
  expect(isSelmixError(e)).toBe(true);
  expect(isSelmixError(e, "NOT_FOUND")).toBe(true);
  expect(isSelmixError(e, "PARSE_ERROR")).toBe(false);
  expect(isSelmixError(new Error("plain"))).toBe(false);
  expect(e.name).toBe("SelmixError");
});
