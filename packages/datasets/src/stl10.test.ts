import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { loadSource } from "./sources.ts";
import { parseStl10Labels, readStl10Images } from "./stl10.ts";
import { pixel, stlImageBytes, tempDir } from "./testing/fixtures.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);
const code = (c: string) => expect.objectContaining({ code: c });

describe("STL-10 reader", () => {
  test("converts column-major planes to HWC", async () => {
    const path = join(tmp.dir, "two_X.bin");
    writeFileSync(path, stlImageBytes(2, 3));
    const { images, count, size } = await readStl10Images(path);
    expect([count, size]).toEqual([2, 96]);
    const [y, x, c] = [5, 17, 2];
    expect(images[27648 + (y * 96 + x) * 3 + c]).toBe(pixel(3, 1, c * 9216 + x * 96 + y));
  });

  test("downsamples to 32 x 32 by 3 x 3 block means", async () => {
    const path = join(tmp.dir, "one_X.bin");
    writeFileSync(path, stlImageBytes(1, 1));
    const small = await readStl10Images(path, { size: 32 });
    const [y, x, c] = [4, 9, 1];
    let sum = 0;
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) sum += pixel(1, 0, c * 9216 + (3 * x + dx) * 96 + 3 * y + dy);
    expect(small.images.length).toBe(32 * 32 * 3);
    expect(small.images[(y * 32 + x) * 3 + c]).toBe(Math.round(sum / 9));
    await expect(readStl10Images(path, { size: 40 })).rejects.toThrow(code("INVALID_VALUE"));
  });

  test("rejects truncated image files and bad labels, naming the file", async () => {
    const path = join(tmp.dir, "cut_X.bin");
    writeFileSync(path, stlImageBytes(2).subarray(0, 27648 + 100));
    await expect(readStl10Images(path)).rejects.toThrow(/cut_X\.bin: length 27748 is not a positive multiple of 27648/);
    await expect(readStl10Images(join(tmp.dir, "none_X.bin"))).rejects.toThrow(code("NOT_FOUND"));
    expect(() => parseStl10Labels(Uint8Array.from([1, 10, 0]), "y.bin")).toThrow(/y\.bin: label 0 at record 2 is outside 1\.\.10/);
    expect(() => parseStl10Labels(Uint8Array.from([11]), "y.bin")).toThrow(code("CORRUPT_FILE"));
    expect(Array.from(parseStl10Labels(Uint8Array.from([1, 10]), "y.bin"))).toEqual([0, 9]);
    expect(() => parseStl10Labels(Uint8Array.from([1, 2]), "y.bin", 3)).toThrow(/holds 2 labels, expected 3/);
  });

  test("loads the stl10 source with its unlabelled split", async () => {
    const dir = join(tmp.dir, "data", "stl10_binary");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "train_X.bin"), stlImageBytes(20, 1));
    writeFileSync(join(dir, "train_y.bin"), Uint8Array.from({ length: 20 }, (_, i) => 1 + (i % 10)));
    writeFileSync(join(dir, "test_X.bin"), stlImageBytes(10, 2));
    writeFileSync(join(dir, "test_y.bin"), Uint8Array.from({ length: 10 }, (_, i) => 1 + i));
    writeFileSync(join(dir, "unlabeled_X.bin"), stlImageBytes(7, 3));
    const src = await loadSource("stl10", { dataDir: join(tmp.dir, "data"), strictCounts: false, unlabeledLimit: 5 });
    expect([src.train.height, src.train.labels.length, src.test.labels.length]).toEqual([32, 20, 10]);
    expect(src.unlabeled?.labels.length).toBe(5);
    expect(src.unlabeled?.labels[0]).toBe(-1);
    expect(src.files.map((f) => f.name)).toEqual(["train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin", "unlabeled_X.bin"]);
    await expect(loadSource("stl10", { dataDir: join(tmp.dir, "data") })).rejects.toThrow(/holds 20 images, expected 5000/);
    writeFileSync(join(dir, "train_y.bin"), Uint8Array.from({ length: 19 }, () => 1));
    await expect(loadSource("stl10", { dataDir: join(tmp.dir, "data"), strictCounts: false })).rejects.toThrow(/holds 19 labels, expected 20/);
    await expect(loadSource("stl10", { dataDir: tmp.dir })).rejects.toThrow(/extract the official stl10_binary\.tar\.gz/);
  });
});
