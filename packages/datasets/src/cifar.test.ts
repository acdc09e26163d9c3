import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import { parseCifar } from "./cifar.ts";
import { loadSource } from "./sources.ts";
import { cifarBytes, pixel, tarBytes, tempDir } from "./testing/fixtures.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);
const code = (c: string) => expect.objectContaining({ code: c });

describe("parseCifar", () => {
  test("decodes CIFAR-10 records and converts CHW to HWC", () => {
    const batch = parseCifar(cifarBytes([3, 7], 5), "cifar10", "b.bin");
    expect(batch.count).toBe(2);
    expect(Array.from(batch.labels)).toEqual([3, 7]);
    // image 1, pixel (y=2, x=5), channel g -> CHW byte 1024 + 2 * 32 + 5
    const p = 2 * 32 + 5;
    expect(batch.images[3072 + p * 3 + 1]).toBe(pixel(5, 1, 1024 + p));
    expect(batch.images[3072 + p * 3 + 2]).toBe(pixel(5, 1, 2048 + p));
    expect(batch.images[p * 3]).toBe(pixel(5, 0, p));
  });

  test("decodes CIFAR-100 fine and coarse labels", () => {
    const batch = parseCifar(cifarBytes([[19, 99], [0, 4]]), "cifar100", "train.bin");
    expect(Array.from(batch.labels)).toEqual([99, 4]);
    expect(Array.from(batch.coarseLabels!)).toEqual([19, 0]);
  });

  test("rejects truncated files, bad labels and wrong counts, naming the file", () => {
    const good = cifarBytes([1, 2, 3]);
    expect(() => parseCifar(good.subarray(0, good.length - 1), "cifar10", "data_batch_1.bin")).toThrow(
      /data_batch_1\.bin: length 9218 is not a positive multiple of the cifar10 record size 3073/,
    );
    expect(() => parseCifar(new Uint8Array(0), "cifar10", "e.bin")).toThrow(code("CORRUPT_FILE"));
    const bad = good.slice();
    bad[3073] = 10;
    expect(() => parseCifar(bad, "cifar10", "x.bin")).toThrow(/x\.bin: record 1 has label 10, expected 0\.\.9/);
    expect(() => parseCifar(cifarBytes([[20, 1]]), "cifar100", "c.bin")).toThrow(/coarse label 20/);
    expect(() => parseCifar(cifarBytes([[1, 100]]), "cifar100", "c.bin")).toThrow(/label 100, expected 0\.\.99/);
    expect(() => parseCifar(good, "cifar10", "n.bin", 10000)).toThrow(/holds 3 records, expected 10000/);
    // a CIFAR-10 file read as CIFAR-100 has the wrong record size
    expect(() => parseCifar(good, "cifar100", "w.bin")).toThrow(code("CORRUPT_FILE"));
  });
});

const labels10 = (n: number, offset = 0): number[] => Array.from({ length: n }, (_, i) => (i + offset) % 10);

describe("CIFAR sources", () => {
  test("read the same data from extracted .bin files and from the .tar.gz", async () => {
    const files: Record<string, Uint8Array> = {};
    for (let b = 1; b <= 5; b++) files[`data_batch_${b}.bin`] = cifarBytes(labels10(20, b), b);
    files["test_batch.bin"] = cifarBytes(labels10(10), 9);
    const binDir = join(tmp.dir, "bins", "cifar-10-batches-bin");
    mkdirSync(binDir, { recursive: true });
    for (const [name, data] of Object.entries(files)) writeFileSync(join(binDir, name), data);
    const tarDir = join(tmp.dir, "tar");
    mkdirSync(tarDir);
    const members = Object.fromEntries(Object.entries(files).map(([n, d]) => [`cifar-10-batches-bin/${n}`, d]));
    writeFileSync(join(tarDir, "cifar-10-binary.tar.gz"), gzipSync(tarBytes({ "cifar-10-batches-bin/readme.html": new Uint8Array(700), ...members })));

    const fromBins = await loadSource("cifar10", { dataDir: join(tmp.dir, "bins"), strictCounts: false });
    const fromTar = await loadSource("cifar10", { dataDir: tarDir, strictCounts: false });
    expect(fromBins.train.labels.length).toBe(100);
    expect(fromBins.test.labels.length).toBe(10);
    expect(fromTar.files.map((f) => f.sha256)).toEqual(fromBins.files.map((f) => f.sha256));
    expect(Buffer.from(fromTar.train.images).equals(Buffer.from(fromBins.train.images))).toBe(true);
    expect(fromTar.checksum).toBe("unknown");
    expect(fromTar.flip).toBe(true);
    // official counts are required by default
    await expect(loadSource("cifar10", { dataDir: tarDir })).rejects.toThrow(/holds 20 records, expected 10000/);
  });

  test("reads CIFAR-100 from the archive with fine labels", async () => {
    const dir = join(tmp.dir, "c100");
    mkdirSync(dir);
    const train = cifarBytes(Array.from({ length: 200 }, (_, i) => [i % 20, i % 100] as const));
    const test = cifarBytes(Array.from({ length: 100 }, (_, i) => [i % 20, i] as const));
    writeFileSync(join(dir, "cifar-100-binary.tar.gz"), gzipSync(tarBytes({ "cifar-100-binary/train.bin": train, "cifar-100-binary/test.bin": test })));
    const src = await loadSource("cifar100", { dataDir: dir, strictCounts: false });
    expect(src.train.numClasses).toBe(100);
    expect(src.train.labels[150]).toBe(50);
  });

  test("rejects truncated and corrupt archives", async () => {
    const dir = join(tmp.dir, "badtar");
    mkdirSync(dir);
    const tar = tarBytes({ "cifar-10-batches-bin/data_batch_1.bin": cifarBytes(labels10(3)) });
    const archive = join(dir, "cifar-10-binary.tar.gz");
    writeFileSync(archive, gzipSync(tar.subarray(0, 2048)));
    await expect(loadSource("cifar10", { dataDir: dir, strictCounts: false })).rejects.toThrow(/truncated tar archive/);
    const gz = gzipSync(tar);
    writeFileSync(archive, gz.subarray(0, gz.length - 20));
    await expect(loadSource("cifar10", { dataDir: dir, strictCounts: false })).rejects.toThrow(/corrupt gzip stream/);
    const broken = tar.slice();
    broken[10] = 0xff; // header checksum no longer matches
    writeFileSync(archive, gzipSync(broken));
    await expect(loadSource("cifar10", { dataDir: dir, strictCounts: false })).rejects.toThrow(/tar header checksum mismatch/);
    writeFileSync(archive, gzipSync(tar));
    await expect(loadSource("cifar10", { dataDir: dir, strictCounts: false })).rejects.toThrow(
      /archive lacks data_batch_2\.bin, data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin, test_batch\.bin/,
    );
  });

  test("say where to put the files when they are missing", async () => {
    await expect(loadSource("cifar10", { dataDir: join(tmp.dir, "empty") })).rejects.toThrow(code("NOT_FOUND"));
    await expect(loadSource("cifar10", { dataDir: join(tmp.dir, "empty") })).rejects.toThrow(
      /put the official binary archive cifar-10-binary\.tar\.gz into the data dir, or extract it so that <data-dir>\/cifar-10-batches-bin\/ holds data_batch_1\.bin/,
    );
    await expect(loadSource("cifar100", { dataDir: join(tmp.dir, "empty") })).rejects.toThrow(/cifar-100-binary\.tar\.gz/);
  });
});
