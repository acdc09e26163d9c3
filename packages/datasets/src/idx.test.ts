import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import { encodeIdx, idxToDataset, parseIdx, readIdx } from "./idx.ts";
import { tempDir } from "./testing/fixtures.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);
const code = (c: string) => expect.objectContaining({ code: c });

const images = Uint8Array.from({ length: 3 * 4 * 5 }, (_, i) => i);
const labels = Uint8Array.from([2, 0, 9]);

describe("IDX", () => {
  test("round-trips raw and gzipped files", async () => {
    const raw = encodeIdx([3, 4, 5], images);
    expect(Array.from(raw.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 3]);
    writeFileSync(join(tmp.dir, "img"), raw);
    writeFileSync(join(tmp.dir, "img.gz"), gzipSync(raw));
    for (const name of ["img", "img.gz"]) {
      const idx = await readIdx(join(tmp.dir, name));
      expect(idx.dims).toEqual([3, 4, 5]);
      expect(Array.from(idx.data)).toEqual(Array.from(images));
    }
    const ds = idxToDataset(parseIdx(raw), parseIdx(encodeIdx([3], labels)), 10);
    expect([ds.height, ds.width, ds.channels, ds.labels.length]).toEqual([4, 5, 1, 3]);
  });

  test("rejects a wrong magic, a non-uint8 type and a bad rank", () => {
    const raw = encodeIdx([3, 4, 5], images);
    const bad = raw.slice();
    bad[0] = 0x12;
    expect(() => parseIdx(bad, "f.idx")).toThrow(/f\.idx: bad IDX magic 0x12000803/);
    const float = raw.slice();
    float[2] = 0x0d;
    expect(() => parseIdx(float, "f.idx")).toThrow(code("CORRUPT_FILE"));
    const rank = raw.slice();
    rank[3] = 0;
    expect(() => parseIdx(rank, "f.idx")).toThrow(/0 dimensions/);
  });

  test("rejects truncated files and trailing bytes, naming the file", () => {
    const raw = encodeIdx([3, 4, 5], images);
    expect(() => parseIdx(raw.subarray(0, raw.length - 1), "t.idx")).toThrow(/t\.idx: truncated: header \[3, 4, 5\] needs 60 data bytes, file has 59/);
    expect(() => parseIdx(raw.subarray(0, 10), "t.idx")).toThrow(/truncated IDX header/);
    expect(() => parseIdx(new Uint8Array([...raw, 1]), "t.idx")).toThrow(/trailing bytes/);
    expect(() => parseIdx(new Uint8Array(2), "t.idx")).toThrow(code("CORRUPT_FILE"));
  });

  test("rejects a truncated gzip stream and a missing file", async () => {
    const gz = gzipSync(encodeIdx([3, 4, 5], images));
    const path = join(tmp.dir, "cut.gz");
    writeFileSync(path, gz.subarray(0, gz.length - 10));
    await expect(readIdx(path)).rejects.toThrow(/cut\.gz: corrupt gzip stream/);
    await expect(readIdx(join(tmp.dir, "nope"))).rejects.toThrow(code("NOT_FOUND"));
  });

  test("rejects labels out of range and count mismatches", () => {
    const img = parseIdx(encodeIdx([3, 4, 5], images));
    expect(() => idxToDataset(img, parseIdx(encodeIdx([3], Uint8Array.from([0, 10, 1]))), 10)).toThrow(/label 10 at record 1/);
    expect(() => idxToDataset(img, parseIdx(encodeIdx([2], Uint8Array.from([0, 1]))), 10)).toThrow(/2 labels but images has 3 images/);
    expect(() => idxToDataset(parseIdx(encodeIdx([3], labels)), img, 10)).toThrow(code("CORRUPT_FILE"));
  });

  test("encodeIdx rejects a size mismatch", () => {
    expect(() => encodeIdx([2, 2], new Uint8Array(3))).toThrow(code("INVALID_SHAPE"));
  });
});
