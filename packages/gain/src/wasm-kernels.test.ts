import { availableParallelism } from "node:os";
import { fc, test } from "@fast-check/vitest";
import { createObjective, fromValues } from "@selmix/metrics";
import { describe, expect, it } from "vitest";
import { gainMatrix } from "./gain-matrix.ts";
import { KERNELS_WASM_BASE64 } from "./kernels-wasm-bytes.ts";
import { fusedProducts, matmulTransposed } from "./linalg.ts";
import { fusedProductsWasm, matmulTransposedWasm, selectKernels, wasmAvailable } from "./wasm-kernels.ts";
import { postJob } from "./wasm-threads.ts";
import { expectFreshWasmBuild } from "../../../test-support/wasm-build.ts";

const value = fc.double({ min: -4, max: 4, noNaN: true });
const matrix = (length: number): fc.Arbitrary<Float64Array> =>
  fc.array(value, { minLength: length, maxLength: length }).map((a) => Float64Array.from(a));

/** |x − y| ≤ rtol·Σ_l |a_l·b_l| per entry: the rounding bound of a dot product whatever the summation order. */
function closeDot(actual: Float64Array, expected: Float64Array, bound: Float64Array, rtol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let idx = 0; idx < actual.length; idx++) {
    if (!(Math.abs(actual[idx]! - expected[idx]!) <= rtol * bound[idx]! + 1e-300)) {
      expect.fail(`entry ${idx}: ${actual[idx]} vs ${expected[idx]} (bound ${bound[idx]})`);
    }
  }
}

const abs = (a: Float64Array): Float64Array => a.map(Math.abs);

describe("wasm kernels", () => {
  it("WebAssembly SIMD is available on this Node", () => {
    expect(wasmAvailable()).toBe(true);
  });

  test.prop(
    [
      fc
        .record({ m: fc.integer({ min: 1, max: 13 }), n: fc.integer({ min: 1, max: 13 }), k: fc.integer({ min: 1, max: 19 }) })
        .chain(({ m, n, k }) => fc.tuple(fc.constant({ m, n, k }), matrix(m * k), matrix(n * k))),
    ],
    { numRuns: 200 },
  )("matmulTransposedWasm equals the JS kernel (odd shapes, k = 1)", ([{ m, n, k }, a, b]) => {
    closeDot(matmulTransposedWasm(a, b, m, n, k), matmulTransposed(a, b, m, n, k), matmulTransposed(abs(a), abs(b), m, n, k));
  });

  test.prop([fc.integer({ min: 1, max: 15 }).chain((k) => fc.tuple(fc.constant(k), matrix(k * k), matrix(k * k), matrix(k * k), matrix(k * k)))], {
    numRuns: 200,
  })("fusedProductsWasm equals the JS kernel (odd K, K = 1)", ([k, e1, p1, e2, q2]) => {
    const w = fusedProductsWasm(e1, p1, e2, q2, k);
    const j = fusedProducts(e1, p1, e2, q2, k);
    const bound = fusedProducts(abs(e1), abs(p1), abs(e2), abs(q2), k);
    closeDot(w.s, j.s, bound.s);
    closeDot(w.n, j.n, bound.n);
  });

  it("larger shapes spanning several cache tiles", () => {
    const rand = (len: number, seed: number): Float64Array => Float64Array.from({ length: len }, (_, i) => Math.sin(i * 12.9898 + seed) * 2);
    for (const [m, n, k] of [
      [67, 501, 1000],
      [130, 129, 257],
    ] as const) {
      const a = rand(m * k, 1);
      const b = rand(n * k, 2);
      closeDot(matmulTransposedWasm(a, b, m, n, k), matmulTransposed(a, b, m, n, k), matmulTransposed(abs(a), abs(b), m, n, k));
    }
    for (const k of [129, 300]) {
      const [e1, p1, e2, q2] = [1, 2, 3, 4].map((s) => rand(k * k, s)) as [Float64Array, Float64Array, Float64Array, Float64Array];
      const w = fusedProductsWasm(e1, p1, e2, q2, k);
      const j = fusedProducts(e1, p1, e2, q2, k);
      const bound = fusedProducts(abs(e1), abs(p1), abs(e2), abs(q2), k);
      closeDot(w.s, j.s, bound.s);
      closeDot(w.n, j.n, bound.n);
    }
  });

  it("empty operands", () => {
    expect(matmulTransposedWasm(new Float64Array(0), new Float64Array(6), 0, 2, 3)).toEqual(new Float64Array(0));
    expect(matmulTransposedWasm(new Float64Array(3), new Float64Array(6), 1, 2, 0)).toEqual(new Float64Array(2));
  });

  it("kernel choice", () => {
    expect(selectKernels("js").matmulTransposed).toBe(matmulTransposed);
    expect(selectKernels("auto").matmulTransposed).toBe(matmulTransposedWasm);
    expect(() => selectKernels("gpu" as "js")).toThrow(/kernels must be/);
  });
});

describe("gainMatrix with wasm kernels", () => {
  const problem = fc
    .record({ k: fc.integer({ min: 2, max: 12 }), dim: fc.integer({ min: 1, max: 14 }) })
    .chain(({ k, dim }) =>
      fc.record({
        k: fc.constant(k),
        dim: fc.constant(dim),
        counts: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: k * k, maxLength: k * k }),
        z: matrix(k * dim),
        w: matrix(k * dim),
        b: matrix(k),
      }),
    );

  test.prop([problem, fc.constantFrom("reference", "exact" as const)], { numRuns: 60 })(
    "wasm and js kernels give the same gain to 1e-10 relative",
    ({ k, dim, counts, z, w, b }, targetTerm) => {
      const inputs = {
        confusion: fromValues(k, counts.map((x, idx) => (Math.floor(idx / k) === idx % k ? x + 1 : x))),
        prototypes: z,
        weights: w,
        bias: b,
        dim,
        objective: createObjective("min-recall"),
      };
      const js = gainMatrix(inputs, { kernels: "js", targetTerm });
      const wasm = gainMatrix(inputs, { kernels: "wasm", targetTerm });
      const scale = Math.max(...js.gain.map(Math.abs), 1e-300);
      js.gain.forEach((v, idx) => {
        if (!(Math.abs(wasm.gain[idx]! - v) <= 1e-10 * scale)) expect.fail(`entry ${idx}: ${wasm.gain[idx]} vs ${v}`);
      });
      expect(wasm.fallbackEntries).toBe(js.fallbackEntries);
    },
  );
});

describe("gainMatrix with the helper thread", () => {
  it.skipIf(availableParallelism() < 2)("the helper thread runs a kernel", () => {
    const a = Float64Array.from([1, 2, 3, 4]);
    const job = postJob(Buffer.from(KERNELS_WASM_BASE64, "base64"), { fn: "matmul_t", inputs: [a, a], outputLengths: [4], scalars: [2, 2, 2] });
    expect(job).not.toBeNull();
    expect(job?.wait()).toBe(true);
    expect([...(job?.outputs[0] ?? [])]).toEqual([5, 11, 11, 25]);
  });

  it("K = 250 (products split with the helper thread) equals the JS kernels", () => {
    const k = 250;
    const dim = 24;
    const wave = (len: number, seed: number): Float64Array => Float64Array.from({ length: len }, (_, i) => Math.sin(i * 0.7 + seed));
    const inputs = {
      confusion: fromValues(
        k,
        Array.from({ length: k * k }, (_, idx) => (Math.floor(idx / k) === idx % k ? 30 : idx % 7 === 0 ? 2 : 0)),
      ),
      prototypes: wave(k * dim, 1),
      weights: wave(k * dim, 2),
      bias: wave(k, 3),
      dim,
      objective: createObjective("min-recall"),
    };
    const js = gainMatrix(inputs, { kernels: "js" }).gain;
    const wasm = gainMatrix(inputs, { kernels: "wasm" }).gain;
    const scale = Math.max(...js.map(Math.abs));
    js.forEach((v, idx) => {
      if (!(Math.abs(wasm[idx]! - v) <= 1e-10 * scale)) expect.fail(`entry ${idx}: ${wasm[idx]} vs ${v}`);
    });
  });
});

describe("kernels-wasm-bytes.ts", () => {
  it("is a fresh compile of wasm/kernels.wat (run `pnpm build:wasm` after editing the .wat)", async () => {
    await expectFreshWasmBuild(new URL("..", import.meta.url), KERNELS_WASM_BASE64);
  });
});
