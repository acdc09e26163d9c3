import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Splits } from "@selmix/datasets";
import { createModel, initBackend, type Model, type NamedArray } from "@selmix/models";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { smallMnist } from "../../test/mnist-small.ts";
import { DEFAULT_FIXMATCH_CONFIG, type FixMatchConfig, pretrainFixMatch } from "../fixmatch.ts";
import { defaultFinetuneConfig, type FinetuneConfig, finetune } from "../finetune.ts";
import { DEFAULT_PRETRAIN_CONFIG, type PretrainConfig, pretrain } from "../pretrain.ts";
import { imagePart, intPart } from "./batch-parts.ts";
import { startGradientWorkers } from "./gradient-workers.ts";

let data: Splits;
/** Weights of an uninterrupted 2-worker run of `config` (from the first test). */
let uninterrupted: NamedArray[] | undefined;
const dirs: string[] = [];
const mlp = (): Model => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
const config: PretrainConfig = { ...DEFAULT_PRETRAIN_CONFIG, steps: 24, batchSize: 32, evalEvery: 12, lr: 0.05, workers: 2 };
const sameWeights = (a: readonly NamedArray[], b: readonly NamedArray[]): boolean =>
  a.length === b.length && a.every((w, i) => w.name === b[i]!.name && w.values.every((v, j) => Object.is(v, b[i]!.values[j])));

/** Losses of two runs agree to 1e-3 (relative above 1). */
function expectClose(a: readonly number[], b: readonly number[]): void {
  expect(a).toHaveLength(b.length);
  a.forEach((l, i) => {
    expect(Math.abs(l - b[i]!)).toBeLessThan(1e-3 * Math.max(1, b[i]!));
  });
}

async function run(c: PretrainConfig, io: Parameters<typeof pretrain>[4] = {}): Promise<{ weights: NamedArray[]; losses: number[] }> {
  const model = mlp();
  const losses: number[] = [];
  await pretrain(model, data.labeled, data.validation, c, { ...io, onProgress: (e) => e.kind === "step" && losses.push(e.loss) });
  const weights = model.getWeights();
  model.dispose();
  return { weights, losses };
}

beforeAll(async () => {
  await initBackend({ name: "wasm" });
  data = await smallMnist();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("data-parallel pre-training", () => {
  test("two runs with 2 workers end with bit-identical weights, and their losses track the 1-worker run", async () => {
    const a = await run(config);
    uninterrupted = a.weights;
    const before = tf.memory().numTensors;
    const b = await run(config);
    expect(tf.memory().numTensors).toBe(before); // nothing left on the main thread by a 2-worker run
    expect(sameWeights(a.weights, b.weights)).toBe(true);
    const single = await run({ ...config, workers: 1 });
    expect(a.losses).toHaveLength(single.losses.length);
    // no batch norm in the MLP: only the float32 summation order of the gradients differs
    expectClose(a.losses, single.losses);
    expect(sameWeights(a.weights, single.weights)).toBe(false);
  });

  test("a 2-worker run killed mid-way resumes bit-identically", async () => {
    const dir = mkdtempSync(join(tmpdir(), "selmix-parallel-"));
    dirs.push(dir);
    await run(config, { checkpointDir: dir, stopAfterStep: 12 });
    const resumed = await run(config, { checkpointDir: dir });
    expect(sameWeights(resumed.weights, uninterrupted ?? (await run(config)).weights)).toBe(true);
  });
});

describe("data-parallel FixMatch and full-network fine-tuning", () => {
  // "estimated" and the alignment send a running mean with every step and sum the workers' shares of the weak-view posterior
  test.each([
    ["uniform", false],
    ["estimated", false],
    ["labelled", true],
  ] as const)("FixMatch-LA (unlabelled prior %s, distribution alignment %s) with 2 workers: identical reruns, an exact resume, losses close to 1 worker", async (unlabeledPrior, align) => {
    // the labelled split stands in for the unlabelled pool: only its images are read
    const c: FixMatchConfig = {
      ...DEFAULT_FIXMATCH_CONFIG,
      method: "fixmatch-la",
      unlabeledPrior,
      ...(align ? { distributionAlignment: true } : {}),
      steps: 6,
      batchSize: 8,
      mu: 2,
      evalEvery: 6,
      threshold: 0.5,
      ema: 0.9,
      workers: 2,
    };
    const fixmatch = async (workers: number, io: { checkpointDir?: string; stopAfterStep?: number } = {}): Promise<{ weights: NamedArray[]; losses: number[] }> => {
      const model = mlp();
      const losses: number[] = [];
      const onProgress = (e: { kind: string; loss?: number }): void => void (e.kind === "step" && losses.push(e.loss!));
      await pretrainFixMatch(model, data.labeled, data.labeled, data.validation, { ...c, workers }, { ...io, onProgress });
      const weights = model.getWeights();
      model.dispose();
      return { weights, losses };
    };
    const a = await fixmatch(2);
    const b = await fixmatch(2);
    expect(sameWeights(a.weights, b.weights)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "selmix-parallel-fixmatch-"));
    dirs.push(dir);
    await fixmatch(2, { checkpointDir: dir, stopAfterStep: 3 });
    expect(sameWeights((await fixmatch(2, { checkpointDir: dir })).weights, a.weights)).toBe(true);
    const single = await fixmatch(1);
    expectClose(a.losses, single.losses);
  });

  // the input modes mix the images on the main thread: the workers see mixed x1 (and x2 only for feature mixing)
  test.each([
    ["feature", "first"],
    ["cutmix", "weighted"],
    ["feature+cutmix", "first"],
    ["input-mixup", "first"],
  ] as const)("full-network SelMix fine-tuning (%s mixing, %s label) with 2 workers: identical reruns, losses close to 1 worker", async (mixing, mixLabel) => {
    const mix = { ...(mixing === "feature" ? {} : { mixing }), ...(mixLabel === "first" ? {} : { mixLabel }) };
    const c: FinetuneConfig = { ...defaultFinetuneConfig("min-recall", "full"), steps: 8, refreshEvery: 4, batchSize: 16, lr: 0.01, temperatureScale: "spread", temperature: 0.5, workers: 2, ...mix };
    const tune = async (workers: number): Promise<{ weights: NamedArray[]; losses: number[] }> => {
      const model = mlp();
      const losses: number[] = [];
      await finetune(model, { labeled: data.labeled, validation: data.validation }, { ...c, workers }, { onProgress: (e) => e.kind === "step" && losses.push(e.loss) });
      const weights = model.getWeights();
      model.dispose();
      return { weights, losses };
    };
    const a = await tune(2);
    const b = await tune(2);
    expect(sameWeights(a.weights, b.weights)).toBe(true);
    const single = await tune(1);
    expect(a.losses).toHaveLength(8);
    expectClose(a.losses, single.losses);
  });
});

describe("startGradientWorkers", () => {
  test("tensors stay flat on the main thread and in every worker", async () => {
    const model = mlp();
    const workers = await startGradientWorkers({ model, workers: 2, loss: { kind: "ce" }, variables: model.trainableVariables() });
    const idx = Int32Array.from(data.labeled.indices.subarray(0, 16));
    const y = Int32Array.from(idx, (i) => data.labeled.dataset.labels[i]!);
    const counts: number[] = [];
    const perWorker: (readonly number[])[] = [];
    try {
      for (let s = 0; s < 4; s++) {
        const { grads, values } = await workers.step({ x: imagePart(data.labeled.dataset, idx, { kind: "none" }), labels: intPart(y) });
        expect(Object.keys(grads)).toHaveLength(model.trainableVariables().length);
        expect(values[0]).toBeGreaterThan(0);
        tf.dispose(grads);
        counts.push(tf.memory().numTensors);
        perWorker.push(workers.workerTensors());
      }
    } finally {
      await workers.close();
      model.dispose();
    }
    expect(new Set(counts).size).toBe(1);
    expect(perWorker.every((w) => w.length === 2 && w[0] === perWorker[0]![0] && w[1] === perWorker[0]![1])).toBe(true);
  });

  test("fewer rows than workers is refused", async () => {
    const model = mlp();
    const workers = await startGradientWorkers({ model, workers: 2, loss: { kind: "ce" }, variables: model.trainableVariables() });
    try {
      const idx = Int32Array.of(data.labeled.indices[0]!);
      await expect(workers.step({ x: imagePart(data.labeled.dataset, idx, { kind: "none" }), labels: intPart(Int32Array.of(0)) })).rejects.toThrow(/fewer than the 2 workers/);
    } finally {
      await workers.close();
      model.dispose();
    }
  });
});

describe("batch norm under gradient workers", () => {
  test("the running statistics after a 2-worker step are the average of each shard's own update", async () => {
    const model = createModel({ arch: "resnet32", inputShape: [8, 8, 1], numClasses: 10, seed: 0 });
    const rows = 8;
    const images = Float32Array.from({ length: rows * 64 }, (_, i) => ((i * 7919) % 256) / 255);
    const labels = Int32Array.from({ length: rows }, (_, i) => i % 10);
    const start = model.getWeights();
    const stats = (): NamedArray[] => model.getWeights().filter((_, i) => model.weightSpecs()[i]!.group === "state");
    const stepOn = async (workers: number, from: number, to: number): Promise<NamedArray[]> => {
      model.setWeights(start);
      const pool = await startGradientWorkers({ model, workers, loss: { kind: "ce" }, variables: model.trainableVariables() });
      try {
        const x = { data: images.slice(from * 64, to * 64), rows: to - from };
        const { grads } = await pool.step({ x, labels: { data: labels.slice(from, to), rows: to - from } });
        tf.dispose(grads);
      } finally {
        await pool.close();
      }
      return stats();
    };
    try {
      const both = await stepOn(2, 0, rows);
      const first = await stepOn(1, 0, rows / 2);
      const second = await stepOn(1, rows / 2, rows);
      expect(both.length).toBeGreaterThan(0);
      both.forEach((s, i) => {
        const expected = first[i]!.values.map((v, k) => Math.fround(Math.fround(v + second[i]!.values[k]!) / 2));
        expect(Array.from(s.values)).toEqual(Array.from(expected));
      });
      expect(Array.from(both[0]!.values)).not.toEqual(Array.from(start.find((w) => w.name === both[0]!.name)!.values));
    } finally {
      model.dispose();
    }
  });
});
