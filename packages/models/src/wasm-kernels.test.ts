import fc from "fast-check";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, test } from "vitest";
import { initBackend } from "./backend.ts";
import { expectAllClose, randomArray, runOn } from "./test-utils/helpers.ts";
import { wasmTrainingKernelLevel } from "./wasm-kernels.ts";

const RUNS = Math.min(Number(process.env.FC_NUM_RUNS ?? 40), 40);

type Padding = "same" | "valid" | [[0, 0], [number, number], [number, number], [0, 0]];

interface ConvCase {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  stride: [number, number];
  pad: Padding;
  seed: number;
}

const arbConv: fc.Arbitrary<ConvCase> = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    h: fc.integer({ min: 1, max: 11 }),
    w: fc.integer({ min: 1, max: 11 }),
    cin: fc.integer({ min: 1, max: 5 }),
    cout: fc.integer({ min: 1, max: 6 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    padKind: fc.constantFrom("same", "valid", "explicit"),
    explicit: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
    seed: fc.nat(),
  })
  .map(({ padKind, explicit, ...c }) => {
    const pad: Padding =
      padKind === "explicit"
        ? [[0, 0], [explicit[0], explicit[1]], [explicit[2], explicit[3]], [0, 0]]
        : (padKind as "same" | "valid");
    return { ...c, pad };
  })
  .filter((c) => {
    // the output must be non-empty
    const ph = c.pad === "valid" ? 0 : c.pad === "same" ? c.kh - 1 : c.pad[1][0] + c.pad[1][1];
    const pw = c.pad === "valid" ? 0 : c.pad === "same" ? c.kw - 1 : c.pad[2][0] + c.pad[2][1];
    return c.h + ph >= c.kh && c.w + pw >= c.kw;
  });

function outShape(c: ConvCase): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo([c.n, c.h, c.w, c.cin], [c.kh, c.kw, c.cin, c.cout], c.stride, 1, c.pad);
  return info.outShape as [number, number, number, number];
}

beforeAll(async () => {
  const info = await initBackend({ name: "wasm" });
  expect(info.name).toBe("wasm");
  expect(wasmTrainingKernelLevel()).toBe("fast");
});

describe("wasm training kernels agree with the cpu backend", () => {
  test("Conv2DBackpropFilter (random N, H, W, Cin, Cout, kernel, stride, padding)", async () => {
    await fc.assert(
      fc.asyncProperty(arbConv, async (c) => {
        const xs = [c.n, c.h, c.w, c.cin] as const;
        const ys = outShape(c);
        const x = randomArray(xs.reduce((a, b) => a * b), c.seed);
        const dy = randomArray(ys.reduce((a, b) => a * b), c.seed + 1);
        const run = (): tf.Tensor =>
          tf.engine().runKernel(
            "Conv2DBackpropFilter",
            { x: tf.tensor4d(x, [...xs]), dy: tf.tensor4d(dy, ys) },
            { strides: c.stride, pad: c.pad, dataFormat: "NHWC", filterShape: [c.kh, c.kw, c.cin, c.cout] } as never,
          ) as tf.Tensor;
        const [expected] = await runOn("cpu", run);
        const before = tf.memory().numTensors;
        const [actual] = await runOn("wasm", run);
        expect(tf.memory().numTensors).toBe(before);
        expectAllClose(actual!, expected!);
      }),
      { numRuns: RUNS },
    );
  });

  test("Conv2DBackpropInput (random N, H, W, Cin, Cout, kernel, stride, padding)", async () => {
    await fc.assert(
      fc.asyncProperty(arbConv, async (c) => {
        const xs: [number, number, number, number] = [c.n, c.h, c.w, c.cin];
        const fs: [number, number, number, number] = [c.kh, c.kw, c.cin, c.cout];
        const ys = outShape(c);
        const f = randomArray(fs.reduce((a, b) => a * b), c.seed);
        const dy = randomArray(ys.reduce((a, b) => a * b), c.seed + 1);
        const run = (): tf.Tensor =>
          tf.engine().runKernel(
            "Conv2DBackpropInput",
            { dy: tf.tensor4d(dy, ys), filter: tf.tensor4d(f, fs) },
            { strides: c.stride, pad: c.pad, dataFormat: "NHWC", inputShape: xs } as never,
          ) as tf.Tensor;
        const [expected] = await runOn("cpu", run);
        const before = tf.memory().numTensors;
        const [actual] = await runOn("wasm", run);
        expect(tf.memory().numTensors).toBe(before);
        expectAllClose(actual!, expected!);
      }),
      { numRuns: RUNS },
    );
  });

  test("BatchMatMul with transposeA / transposeB and batch dimensions", async () => {
    const arb = fc.record({
      batch: fc.integer({ min: 0, max: 3 }), // 0: rank 2
      m: fc.integer({ min: 1, max: 17 }),
      k: fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(257, 300)), // past one 256-long K block
      n: fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(8, 16, 24, 40)),
      ta: fc.boolean(),
      tb: fc.boolean(),
      seed: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ batch, m, k, n, ta, tb, seed }) => {
        const lead = batch === 0 ? [] : [batch];
        const aShape = [...lead, ...(ta ? [k, m] : [m, k])];
        const bShape = [...lead, ...(tb ? [n, k] : [k, n])];
        const a = randomArray(aShape.reduce((p, d) => p * d, 1), seed);
        const b = randomArray(bShape.reduce((p, d) => p * d, 1), seed + 1);
        const run = (): tf.Tensor => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb);
        const [expected] = await runOn("cpu", run);
        const before = tf.memory().numTensors;
        const [actual] = await runOn("wasm", run);
        expect(tf.memory().numTensors).toBe(before);
        expectAllClose(actual!, expected!);
      }),
      { numRuns: RUNS },
    );
  });

  test("matMul(a, b, false, true) of matrices with K a multiple of 4 (the heap dot-product kernel)", async () => {
    const arb = fc.record({
      m: fc.integer({ min: 1, max: 9 }),
      k4: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(32, 100)),
      n: fc.integer({ min: 1, max: 11 }),
      seed: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ m, k4, n, seed }) => {
        const k = 4 * k4;
        const a = randomArray(m * k, seed);
        const b = randomArray(n * k, seed + 1);
        const run = (): tf.Tensor => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [n, k]), false, true);
        const [expected] = await runOn("cpu", run);
        const before = tf.memory().numTensors;
        const [actual] = await runOn("wasm", run);
        expect(tf.memory().numTensors).toBe(before);
        expectAllClose(actual!, expected!);
      }),
      { numRuns: RUNS },
    );
  });

  test("gradient path: tf.grads of conv2d w.r.t. input and filter", async () => {
    await fc.assert(
      fc.asyncProperty(arbConv, async (c) => {
        const xs: [number, number, number, number] = [c.n, c.h, c.w, c.cin];
        const fs: [number, number, number, number] = [c.kh, c.kw, c.cin, c.cout];
        const ys = outShape(c);
        const x = randomArray(xs.reduce((a, b) => a * b), c.seed);
        const f = randomArray(fs.reduce((a, b) => a * b), c.seed + 1);
        const probe = randomArray(ys.reduce((a, b) => a * b), c.seed + 2);
        const run = (): tf.Tensor[] => {
          const p = tf.tensor4d(probe, ys);
          const g = tf.grads((xt: tf.Tensor, ft: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.stride, c.pad), p)),
          );
          return g([tf.tensor4d(x, xs), tf.tensor4d(f, fs)]);
        };
        const expected = await runOn("cpu", run);
        const actual = await runOn("wasm", run);
        expectAllClose(actual[0]!, expected[0]!);
        expectAllClose(actual[1]!, expected[1]!);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  test("Conv2DBackpropFilter with Cout a multiple of 8 (the heap GEMM), edge row blocks and many pixels", async () => {
    const arb8 = fc.record({
      n: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: 17 }),
      w: fc.integer({ min: 1, max: 17 }),
      cin: fc.integer({ min: 1, max: 7 }),
      cout: fc.constantFrom(8, 16, 24, 32),
      k: fc.constantFrom(1, 2, 3),
      stride: fc.integer({ min: 1, max: 2 }),
      pad: fc.constantFrom("same" as const, "valid" as const),
      seed: fc.nat(),
    }).filter((c) => c.pad === "same" || (c.h >= c.k && c.w >= c.k));
    await fc.assert(
      fc.asyncProperty(arb8, async (c) => {
        const xs = [c.n, c.h, c.w, c.cin] as const;
        const ys = outShape({ ...c, kh: c.k, kw: c.k, stride: [c.stride, c.stride] });
        const x = randomArray(xs.reduce((a, b) => a * b), c.seed);
        const dy = randomArray(ys.reduce((a, b) => a * b), c.seed + 1);
        const run = (): tf.Tensor =>
          tf.engine().runKernel(
            "Conv2DBackpropFilter",
            { x: tf.tensor4d(x, [...xs]), dy: tf.tensor4d(dy, ys) },
            { strides: c.stride, pad: c.pad, dataFormat: "NHWC", filterShape: [c.k, c.k, c.cin, c.cout] } as never,
          ) as tf.Tensor;
        const [expected] = await runOn("cpu", run);
        const before = tf.memory().numTensors;
        const [actual] = await runOn("wasm", run);
        expect(tf.memory().numTensors).toBe(before);
        expectAllClose(actual!, expected!);
      }),
      { numRuns: RUNS },
    );
  });

  // Large enough to cross the kernels' blocking, small enough for the cpu backend to check it in seconds.
  test("a typical CNN layer shape (batch 4, 12×12, 16 → 32, stride 2)", async () => {
    const c: ConvCase = { n: 4, h: 12, w: 12, cin: 16, cout: 32, kh: 3, kw: 3, stride: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]], seed: 7 };
    const xs: [number, number, number, number] = [c.n, c.h, c.w, c.cin];
    const fs: [number, number, number, number] = [3, 3, c.cin, c.cout];
    const ys = outShape(c);
    const x = randomArray(c.n * c.h * c.w * c.cin, 1);
    const f = randomArray(3 * 3 * c.cin * c.cout, 2);
    const probe = randomArray(ys.reduce((a, b) => a * b), 3);
    const run = (): tf.Tensor[] =>
      tf.grads((xt: tf.Tensor, ft: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, 2, c.pad), tf.tensor4d(probe, ys))),
      )([tf.tensor4d(x, xs), tf.tensor4d(f, fs)]);
    const expected = await runOn("cpu", run);
    const actual = await runOn("wasm", run);
    expectAllClose(actual[0]!, expected[0]!);
    expectAllClose(actual[1]!, expected[1]!);
  });
});

describe("MaxPoolGrad on wasm agrees with the cpu backend", () => {
  test("random N, H, W, C, window, stride, padding (ties included)", async () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: 9 }),
      w: fc.integer({ min: 1, max: 9 }),
      c: fc.integer({ min: 1, max: 4 }),
      f: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      pad: fc.constantFrom("same" as const, "valid" as const),
      ties: fc.boolean(),
      seed: fc.nat(),
    }).filter((c) => c.pad === "same" || (c.h >= c.f[0] && c.w >= c.f[1]));
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const size = c.n * c.h * c.w * c.c;
        const xv = randomArray(size, c.seed).map((v) => (c.ties ? Math.max(0, Math.round(v)) : v));
        const run = (): tf.Tensor[] =>
          tf.grads((x: tf.Tensor) => {
            const y = tf.maxPool(x as tf.Tensor4D, c.f, c.s, c.pad);
            return tf.sum(tf.mul(y, tf.tensor(randomArray(y.size, c.seed + 1), y.shape)));
          })([tf.tensor4d(xv, [c.n, c.h, c.w, c.c])]);
        const [expected] = await runOn("cpu", run);
        const [actual] = await runOn("wasm", run);
        expectAllClose(actual!, expected!, 1e-5, 1e-6);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("Identity on wasm shares data like the cpu backend", () => {
  test("a clone keeps its values after the original is freed, and frees its data when disposed", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numDataBuffers;
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tf.clone(a);
    expect(tf.memory().numDataBuffers - before).toBe(1);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    const v = tf.variable(b);
    b.dispose();
    const doubled = tf.mul(v, 2) as tf.Tensor2D;
    v.assign(doubled);
    doubled.dispose();
    expect(Array.from(v.dataSync())).toEqual([2, 4, 6, 8, 10, 12]);
    v.dispose();
    expect(tf.memory().numDataBuffers).toBe(before);
  });
});
