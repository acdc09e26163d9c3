import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import { encodeIdx } from "./idx.ts";
import { inspectFile } from "./inspect.ts";
import { cifarBytes, stlImageBytes, tarBytes, tempDir } from "./testing/fixtures.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);
const write = (name: string, data: Uint8Array): string => {
  const path = join(tmp.dir, name);
  writeFileSync(path, data);
  return path;
};

describe("inspectFile", () => {
  test("reports every format", async () => {
    const labels = write("train-labels-idx1-ubyte.gz", gzipSync(encodeIdx([5], Uint8Array.from([0, 1, 1, 3, 3]))));
    expect(await inspectFile(labels)).toMatchObject({ format: "idx", count: 5, shape: [], labelHistogram: [1, 2, 0, 2] });
    const images = write("imgs", encodeIdx([2, 3, 3], new Uint8Array(18)));
    expect(await inspectFile(images)).toMatchObject({ format: "idx", count: 2, shape: [3, 3] });
    expect(await inspectFile(write("data_batch_1.bin", cifarBytes([1, 1, 2])))).toMatchObject({
      format: "cifar10",
      count: 3,
      shape: [32, 32, 3],
      labelHistogram: [0, 2, 1],
    });
    expect(await inspectFile(write("blob", cifarBytes([[0, 2]])))).toMatchObject({ format: "cifar100", labelHistogram: [0, 0, 1] });
    expect(await inspectFile(write("train_X.bin", stlImageBytes(2)))).toMatchObject({ format: "stl10-images", count: 2, shape: [96, 96, 3] });
    expect(await inspectFile(write("train_y.bin", Uint8Array.from([1, 2, 2])))).toMatchObject({ format: "stl10-labels", labelHistogram: [1, 2] });
    const tar = write("c.tar.gz", gzipSync(tarBytes({ "cifar-10-batches-bin/test_batch.bin": cifarBytes([4]) })));
    const report = await inspectFile(tar);
    expect(report).toMatchObject({ format: "tar", count: 1 });
    expect(report.members?.[0]).toMatchObject({ format: "cifar10", labelHistogram: [0, 0, 0, 0, 1] });
  });

  test("corrupt files give coded one-line errors naming the file", async () => {
    const cut = write("cut-idx", encodeIdx([2, 3, 3], new Uint8Array(18)).subarray(0, 20));
    await expect(inspectFile(cut)).rejects.toMatchObject({ code: "CORRUPT_FILE", message: expect.stringMatching(/cut-idx: truncated/) });
    const bad = write("test_batch.bin", cifarBytes([1]).subarray(0, 3000));
    await expect(inspectFile(bad)).rejects.toMatchObject({ code: "CORRUPT_FILE", message: expect.stringMatching(/test_batch\.bin/) });
    await expect(inspectFile(write("odd", new Uint8Array(7)))).rejects.toMatchObject({ code: "PARSE_ERROR" });
    await expect(inspectFile(join(tmp.dir, "missing.bin"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(inspectFile(cut, "jpeg")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(inspectFile(tmp.dir)).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: `${tmp.dir} is a folder, not a data file (inspect one of the files in it)` });
    const err = await inspectFile(bad).catch((e: Error) => e);
    expect((err as Error).message).not.toContain("\n");
  });
});
