import { createRng } from "@selmix/core";
import * as tf from "@tensorflow/tfjs-core";
import { expect } from "vitest";

/** Deterministic N(0, 1) data. */
export function randomArray(size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal();
  return out;
}

/** Runs `fn` on the given backend and returns its outputs as plain arrays (no tensors survive). */
export async function runOn(backend: "cpu" | "wasm", fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`cannot switch to ${backend}`);
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  const arrays = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  return arrays;
}

/** numpy-style allclose with a scale-aware absolute tolerance. */
export function expectAllClose(actual: Float32Array, expected: Float32Array, rtol = 1e-4, atolScale = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  const atol = atolScale * scale;
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!) - rtol * Math.abs(expected[i]!);
    if (err > worst) {
      worst = err;
      worstAt = i;
    }
  }
  if (worst > atol) {
    throw new Error(`arrays differ at ${worstAt}: ${actual[worstAt]} vs ${expected[worstAt]} (atol ${atol})`);
  }
}
