import fc from "fast-check";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, test } from "vitest";
import { initBackend } from "./backend.ts";
import { CONV_BIAS_RELU, conv2dBiasRelu, RELU_BIAS_GRAD } from "./conv-bias-relu.ts";
import { expectAllClose, randomArray, runOn } from "./test-utils/helpers.ts";

const RUNS = Math.min(Number(process.env.FC_NUM_RUNS ?? 30), 30);

beforeAll(async () => {
  expect((await initBackend({ name: "wasm" })).name).toBe("wasm");
  // the fused path must really be taken on wasm, or the comparisons below compare tfjs with itself
  expect(tf.getKernel(CONV_BIAS_RELU, "wasm")).toBeDefined();
  expect(tf.getKernel(RELU_BIAS_GRAD, "wasm")).toBeDefined();
});

const arb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 9 }),
  cin: fc.integer({ min: 1, max: 6 }),
  cout: fc.integer({ min: 1, max: 9 }),
  k: fc.constantFrom(1, 3, 5),
  pad: fc.constantFrom("same" as const, "valid" as const),
  seed: fc.nat(),
}).filter((c) => c.pad === "same" || (c.h >= c.k && c.w >= c.k));

describe("conv2dBiasRelu on wasm (fused kernel, own gradient) agrees with the cpu backend's tfjs ops", () => {
  test("value and gradients w.r.t. input, filter and bias (random shapes, channels not multiples of 4 included)", async () => {
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const xs: [number, number, number, number] = [c.n, c.h, c.w, c.cin];
        const fs: [number, number, number, number] = [c.k, c.k, c.cin, c.cout];
        const x = randomArray(xs.reduce((a, b) => a * b), c.seed);
        const f = randomArray(fs.reduce((a, b) => a * b), c.seed + 1);
        const b = randomArray(c.cout, c.seed + 2);
        const run = (): tf.Tensor[] => {
          const y = conv2dBiasRelu(tf.tensor4d(x, xs), tf.tensor4d(f, fs), tf.tensor1d(b), c.pad);
          const probe = tf.tensor(randomArray(y.size, c.seed + 3), y.shape);
          const grads = tf.grads((xt: tf.Tensor, ft: tf.Tensor, bt: tf.Tensor) =>
            tf.sum(tf.mul(conv2dBiasRelu(xt as tf.Tensor4D, ft as tf.Tensor4D, bt as tf.Tensor1D, c.pad), probe)),
          )([tf.tensor4d(x, xs), tf.tensor4d(f, fs), tf.tensor1d(b)]);
          return [y, ...grads];
        };
        const expected = await runOn("cpu", run);
        const before = tf.memory().numTensors;
        const actual = await runOn("wasm", run);
        expect(tf.memory().numTensors).toBe(before);
        for (let i = 0; i < 4; i++) expectAllClose(actual[i]!, expected[i]!);
      }),
      { numRuns: RUNS },
    );
  });

  test("the input gradient is not computed when only the weights need one", async () => {
    await tf.setBackend("wasm");
    const filter = tf.variable(tf.randomNormal([3, 3, 2, 4], 0, 1, "float32", 1));
    const bias = tf.variable(tf.zeros([4]));
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, "float32", 2) as tf.Tensor4D;
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(conv2dBiasRelu(x, filter as tf.Tensor4D, bias as tf.Tensor1D, "same")) as tf.Scalar);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain("Conv2DBackpropFilter");
    expect(names).not.toContain("Conv2DBackpropInput");
    tf.dispose([filter, bias, x]);
  });
});

describe(`${RELU_BIAS_GRAD} agrees with the tfjs ReLU gradient and a sum`, () => {
  test("random pixels and channels, zeros included", async () => {
    const arbG = fc.record({ pixels: fc.integer({ min: 1, max: 40 }), c: fc.integer({ min: 1, max: 11 }), seed: fc.nat() });
    await fc.assert(
      fc.asyncProperty(arbG, async ({ pixels, c, seed }) => {
        await tf.setBackend("wasm");
        const y = randomArray(pixels * c, seed).map((v) => Math.max(0, v));
        const dy = randomArray(pixels * c, seed + 1);
        const [dz, dbias] = tf.engine().runKernel(RELU_BIAS_GRAD, { y: tf.tensor2d(y, [pixels, c]), dy: tf.tensor2d(dy, [pixels, c]) }, {}) as tf.Tensor[];
        const expectedDz = dy.map((v, i) => (y[i]! > 0 ? v : 0));
        const expectedBias = new Float32Array(c);
        for (let i = 0; i < expectedDz.length; i++) expectedBias[i % c]! += expectedDz[i]!;
        expect(Array.from(dz!.dataSync())).toEqual(Array.from(expectedDz));
        expectAllClose(Float32Array.from(dbias!.dataSync()), expectedBias, 1e-5, 1e-6);
        tf.dispose([dz!, dbias!]);
      }),
      { numRuns: RUNS },
    );
  });
});
