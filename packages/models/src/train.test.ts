import { createRng } from "@selmix/core";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, expect, test } from "vitest";
import { initBackend } from "./backend.ts";
import { createModel } from "./create-model.ts";

beforeAll(async () => {
  expect((await initBackend({ name: "wasm" })).name).toBe("wasm");
});

/** Learnable synthetic data: class c is a bright 7×7 square at one of 4 positions plus noise. */
function batch(seed: number, n: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const rng = createRng(seed);
  const x = new Float32Array(n * 28 * 28);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = rng.int(4);
    labels.push(c);
    const oy = c < 2 ? 3 : 17;
    const ox = c % 2 === 0 ? 3 : 17;
    for (let p = 0; p < 28 * 28; p++) x[i * 784 + p] = 0.3 * rng.normal();
    for (let dy = 0; dy < 7; dy++) for (let dx = 0; dx < 7; dx++) x[i * 784 + (oy + dy) * 28 + ox + dx]! += 1;
  }
  return { x: tf.tensor4d(x, [n, 28, 28, 1]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 4)) as tf.Tensor2D };
}

/** Trains `steps` SGD-momentum steps on `makeBatch`; asserts the tensor count stays flat and the loss halves. */
function expectTrains(model: ReturnType<typeof createModel>, makeBatch: (seed: number, n: number) => { x: tf.Tensor4D; y: tf.Tensor2D }, steps: number, lr: number): void {
  const optimizer = tf.train.momentum(lr, 0.9);
  const losses: number[] = [];
  let tensorsAtStep5 = -1;
  for (let step = 1; step <= steps; step++) {
    const { x, y } = makeBatch(step, 32);
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.logits(x, true)) as tf.Scalar, true, model.trainableVariables());
    losses.push(loss!.dataSync()[0]!);
    tf.dispose([x, y, loss!]);
    if (step === 5) tensorsAtStep5 = tf.memory().numTensors;
  }
  expect(tf.memory().numTensors).toBe(tensorsAtStep5);
  const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
  expect(mean(losses.slice(-5))).toBeLessThan(0.5 * mean(losses.slice(0, 5)));
  optimizer.dispose();
}

test("the small CNN trains on wasm: the loss falls and no tensor leaks", () => {
  const model = createModel({ arch: "cnn", inputShape: [28, 28, 1], numClasses: 4, seed: 0 });
  expectTrains(model, batch, 30, 0.02);
  model.dispose();
});

test("the same seed trains to bit-identical weights on wasm (the fused kernels are deterministic)", () => {
  const run = (): Float32Array[] => {
    const model = createModel({ arch: "cnn", inputShape: [28, 28, 1], numClasses: 4, seed: 3 });
    const optimizer = tf.train.momentum(0.02, 0.9);
    for (let step = 1; step <= 3; step++) {
      const { x, y } = batch(100 + step, 16);
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.logits(x, true)) as tf.Scalar, true, model.trainableVariables());
      tf.dispose([x, y, loss!]);
    }
    const weights = model.getWeights().map((w) => w.values);
    optimizer.dispose();
    model.dispose();
    return weights;
  };
  const a = run();
  const b = run();
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Buffer.from(a[i]!.buffer).equals(Buffer.from(b[i]!.buffer))).toBe(true);
});

test("text-bag trains on wasm (every kernel has a gradient there): the loss falls, the embedding moves, no tensor leaks", () => {
  const buckets = 64;
  const model = createModel({ arch: "text-bag", inputShape: [1, buckets, 1], numClasses: 3, seed: 0 });
  const embedding = model.getWeights().find((w) => w.name === "embed.weight")!.values;
  // Class c's texts use buckets 20c..20c+19 (five tokens each), so the mean embedding tells the classes apart.
  const textBatch = (seed: number, n: number): { x: tf.Tensor4D; y: tf.Tensor2D } => {
    const rng = createRng(seed);
    const bags = new Float32Array(n * buckets);
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = rng.int(3);
      labels.push(c);
      for (let t = 0; t < 5; t++) bags[i * buckets + 20 * c + rng.int(20)]! += 1 / 5;
    }
    return { x: tf.tensor4d(bags, [n, 1, buckets, 1]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 3)) as tf.Tensor2D };
  };
  expectTrains(model, textBatch, 40, 0.1);
  const moved = model.getWeights().find((w) => w.name === "embed.weight")!.values;
  expect(moved.some((v, i) => v !== embedding[i])).toBe(true);
  model.dispose();
});
