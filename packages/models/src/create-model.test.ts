import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, test } from "vitest";
import { initBackend } from "./backend.ts";
import { createModel } from "./create-model.ts";
import type { ModelArch } from "./model.ts";
import { expectAllClose, randomArray, runOn } from "./test-utils/helpers.ts";

beforeAll(async () => {
  await initBackend({ name: "wasm" });
});

const CASES: [ModelArch, [number, number, number], number][] = [
  ["mlp", [28, 28, 1], 128],
  ["cnn", [28, 28, 1], 128],
  ["cnn", [32, 32, 3], 128],
  ["resnet32", [32, 32, 3], 64],
  ["wrn-28-2", [32, 32, 3], 128],
  ["text-bag", [1, 64, 1], 128],
];

describe("createModel", () => {
  test.each(CASES)("%s %j: features, head and logits shapes, no leaks", (arch, inputShape, featureDim) => {
    const start = tf.memory().numTensors;
    const model = createModel({ arch, inputShape, numClasses: 10, seed: 1 });
    expect(model.featureDim).toBe(featureDim);
    const x = tf.tensor4d(randomArray(2 * inputShape[0] * inputShape[1] * inputShape[2], 3), [2, ...inputShape]);
    const before = tf.memory().numTensors;
    const z = model.features(x, false);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(z.shape).toEqual([2, featureDim]);
    const logits = model.head(z);
    expect(logits.shape).toEqual([2, 10]);
    const direct = model.logits(x, false);
    expectAllClose(direct.dataSync() as Float32Array, logits.dataSync() as Float32Array, 1e-5, 1e-5);
    expect([...logits.dataSync()].every(Number.isFinite)).toBe(true);
    tf.dispose([x, z, logits, direct]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  test("the head is z·Wᵀ + b with W exposed as [numClasses, featureDim]", () => {
    const model = createModel({ arch: "mlp", inputShape: [4, 4, 1], numClasses: 3, seed: 2 });
    const { weight, bias, numClasses, featureDim } = model.headWeights();
    expect([numClasses, featureDim]).toEqual([3, 128]);
    const zv = randomArray(2 * 128, 5);
    const logits = tf.tidy(() => model.head(tf.tensor2d(zv, [2, 128])));
    const expected = new Float32Array(6);
    for (let n = 0; n < 2; n++) {
      for (let k = 0; k < 3; k++) {
        let s = bias[k]!;
        for (let d = 0; d < 128; d++) s += zv[n * 128 + d]! * weight[k * 128 + d]!;
        expected[n * 3 + k] = s;
      }
    }
    expectAllClose(logits.dataSync() as Float32Array, expected, 1e-5, 1e-5);
    logits.dispose();
    model.dispose();
  });

  test("the same seed gives bit-identical weights; another seed does not", () => {
    const a = createModel({ arch: "resnet32", inputShape: [8, 8, 3], numClasses: 4, seed: 9 });
    const b = createModel({ arch: "resnet32", inputShape: [8, 8, 3], numClasses: 4, seed: 9 });
    const c = createModel({ arch: "resnet32", inputShape: [8, 8, 3], numClasses: 4, seed: 10 });
    const wa = a.getWeights();
    const wb = b.getWeights();
    expect(wa.map((w) => w.name)).toEqual(wb.map((w) => w.name));
    wa.forEach((w, i) => {
      expect(Buffer.from(w.values.buffer).equals(Buffer.from(wb[i]!.values.buffer))).toBe(true);
    });
    expect(c.getWeights()[0]!.values).not.toEqual(wa[0]!.values);
    [a, b, c].forEach((m) => {
      m.dispose();
    });
  });

  test("parameter groups: head, backbone and batch-norm affine parameters", () => {
    const wrn = createModel({ arch: "wrn-28-2", inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
    const g = wrn.paramGroups;
    expect(g.head).toHaveLength(2);
    expect(g.head[0]!.shape).toEqual([10, 128]);
    const count = (vs: readonly tf.Variable[]): number => vs.reduce((s, v) => s + v.size, 0);
    // PyTorch's WRN-28-2 (bias-free convs) has 1,467,610 parameters with a 10-class head; 192 of them are the
    // gamma/beta of the two pre-activation BNs whose output the reference discards, omitted here.
    expect(count(g.head) + count(g.backbone) + count(g.norm)).toBe(1_467_610 - 192);
    expect(g.norm.length).toBeGreaterThan(0);
    expect(wrn.trainableVariables()).toHaveLength(g.head.length + g.backbone.length + g.norm.length);
    wrn.freezeBatchNorm(true);
    expect(wrn.bnMode).toBe("frozen-stats");
    expect(wrn.trainableVariables()).toHaveLength(g.head.length + g.backbone.length);
    expect(g.norm.every((v) => !v.trainable)).toBe(true);
    wrn.freezeBatchNorm(false);
    expect(g.norm.every((v) => v.trainable)).toBe(true);
    const mlp = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
    expect(mlp.paramGroups.norm).toHaveLength(0);
    wrn.dispose();
    mlp.dispose();
  });

  test("batch-norm modes: train updates running stats, frozen-stats uses batch stats without updating, eval uses running stats", () => {
    const model = createModel({ arch: "resnet32", inputShape: [8, 8, 3], numClasses: 3, seed: 4 });
    const state = (): Float32Array[] =>
      model.getWeights().filter((w) => w.name.endsWith("running_mean") || w.name.endsWith("running_var")).map((w) => w.values);
    const x = tf.tensor4d(randomArray(4 * 8 * 8 * 3, 1), [4, 8, 8, 3]);
    const x2 = tf.tensor4d(randomArray(4 * 8 * 8 * 3, 2), [4, 8, 8, 3]);
    const s0 = state();
    const firstRow = (batch: tf.Tensor4D, training: boolean): Float32Array =>
      tf.tidy(() => tf.slice(model.features(batch, training), [0, 0], [1, -1]).dataSync() as Float32Array);
    const both = tf.concat([x, x2]) as tf.Tensor4D;

    model.setBnMode("frozen-stats");
    firstRow(x, true);
    expect(state()).toEqual(s0);
    // batch statistics: a sample's features depend on the rest of the batch
    expect(firstRow(x, true)).not.toEqual(firstRow(both, true));

    model.setBnMode("eval");
    expectAllClose(firstRow(x, true), firstRow(both, true), 1e-5, 1e-6);
    expect(state()).toEqual(s0);

    model.setBnMode("train");
    const evalRow = firstRow(x, false);
    expectAllClose(evalRow, firstRow(both, false), 1e-5, 1e-6);
    expect(state()).toEqual(s0);
    firstRow(x, true);
    expect(state()).not.toEqual(s0);
    tf.dispose([x, x2, both]);
    model.dispose();
  });

  test("one tf.variableGrads call on mixed features yields gradients for head and backbone", () => {
    const model = createModel({ arch: "resnet32", inputShape: [8, 8, 3], numClasses: 3, seed: 5 });
    model.freezeBatchNorm(true);
    const x1 = tf.tensor4d(randomArray(2 * 8 * 8 * 3, 1), [2, 8, 8, 3]);
    const x2 = tf.tensor4d(randomArray(2 * 8 * 8 * 3, 2), [2, 8, 8, 3]);
    const labels = tf.oneHot(tf.tensor1d([0, 2], "int32"), 3);
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => {
      const z = tf.add(tf.mul(model.features(x1, true), 0.7), tf.mul(model.features(x2, true), 0.3)) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(labels, model.head(z)) as tf.Scalar;
    }, vars);
    expect(Object.keys(grads)).toHaveLength(vars.length);
    for (const v of [...model.paramGroups.head, ...model.paramGroups.backbone]) {
      const g = grads[v.name]!;
      expect(g.shape).toEqual(v.shape);
    }
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    tf.dispose([value, x1, x2, labels, ...Object.values(grads)]);
    model.dispose();
  });

  test("cnn gradients on wasm match the cpu backend", async () => {
    const model = createModel({ arch: "cnn", inputShape: [16, 16, 1], numClasses: 10, seed: 3 });
    const xv = randomArray(4 * 16 * 16, 8);
    const run = (): tf.Tensor[] => {
      const labels = tf.oneHot(tf.tensor1d([1, 2, 3, 4], "int32"), 10);
      const { grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(labels, model.logits(tf.tensor4d(xv, [4, 16, 16, 1]), true)) as tf.Scalar,
        model.trainableVariables(),
      );
      return model.trainableVariables().map((v) => grads[v.name]!);
    };
    const expected = await runOn("cpu", run);
    const actual = await runOn("wasm", run);
    expected.forEach((e, i) => {
      expectAllClose(actual[i]!, e, 1e-3, 1e-4);
    });
    model.dispose();
  });

  test("resnet32: tiny forward/backward on wasm", () => {
    const model = createModel({ arch: "resnet32", inputShape: [32, 32, 3], numClasses: 10, seed: 3 });
    const x = tf.tensor4d(randomArray(2 * 32 * 32 * 3, 8), [2, 32, 32, 3]);
    const labels = tf.oneHot(tf.tensor1d([1, 2], "int32"), 10);
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(labels, model.logits(x, true)) as tf.Scalar,
      model.trainableVariables(),
    );
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.values(grads).every((g) => [...g.dataSync()].every(Number.isFinite))).toBe(true);
    tf.dispose([x, labels, value, ...Object.values(grads)]);
    model.dispose();
  });

  test("invalid arguments give coded errors", () => {
    expect(() => createModel({ arch: "vgg" as never, inputShape: [28, 28, 1], numClasses: 10, seed: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => createModel({ arch: "cnn", inputShape: [4, 4, 1], numClasses: 10, seed: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_SHAPE" }),
    );
    expect(() => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 1, seed: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_VALUE" }),
    );
    const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
    const x = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
    expect(() => model.features(x, false)).toThrow(expect.objectContaining({ code: "INVALID_SHAPE" }));
    const z = tf.zeros([2, 64]) as tf.Tensor2D;
    expect(() => model.head(z)).toThrow(expect.objectContaining({ code: "INVALID_SHAPE" }));
    const weights = model.getWeights();
    expect(() => model.setWeights(weights.slice(1))).toThrow(expect.objectContaining({ code: "MISMATCH" }));
    expect(() => model.setWeights([...weights, weights[0]!])).toThrow(expect.objectContaining({ code: "MISMATCH" }));
    const bad = weights.map((w, i) => (i === 0 ? { ...w, shape: [1, ...w.shape] } : w));
    expect(() => model.setWeights(bad)).toThrow(expect.objectContaining({ code: "MISMATCH" }));
    tf.dispose([x, z]);
    model.dispose();
  });
});
