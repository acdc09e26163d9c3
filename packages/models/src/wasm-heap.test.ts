import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, test } from "vitest";
import { initBackend } from "./backend.ts";
import { KERNELS_WASM_BASE64 } from "./kernels-wasm-bytes.ts";
import { heapKernels, heapOffset, type WasmBackendInternals } from "./wasm-heap.ts";
import { expectFreshWasmBuild } from "../../../test-support/wasm-build.ts";

beforeAll(async () => {
  expect((await initBackend({ name: "wasm" })).name).toBe("wasm");
});

describe("heap kernels", () => {
  test("bind to the tfjs wasm heap and work on tensors in place (fails loudly if a tfjs update moves the heap)", () => {
    const backend = tf.backend() as unknown as WasmBackendInternals;
    const k = heapKernels(backend);
    expect(heapKernels(backend)).toBe(k);
    // rotate_filter of a [1, 2, 1, 3] filter: out[0, 1 − j, o, 0] = w[0, j, 0, o]
    const w = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 1, 3]);
    const out = backend.makeOutput([1, 2, 3, 1], "float32");
    k.rotate_filter(heapOffset(backend, w), heapOffset(backend, out), 1, 2, 1, 3);
    const rotated = tf.engine().makeTensorFromTensorInfo(out);
    expect(Array.from(rotated.dataSync())).toEqual([4, 5, 6, 1, 2, 3]);
    tf.dispose([w, rotated]);
  });
});

describe("kernels-wasm-bytes.ts", () => {
  test("is a fresh compile of wasm/kernels.wat (run `pnpm build:wasm` after editing the .wat)", async () => {
    await expectFreshWasmBuild(new URL("..", import.meta.url), KERNELS_WASM_BASE64);
  });
});
