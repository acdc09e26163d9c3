import fc from "fast-check";
import { expect } from "vitest";
import { type ConfusionMatrix, fromValues } from "../src/confusion.ts";

export interface ArbConfusionOptions {
  readonly minClasses?: number;
  readonly maxClasses?: number;
  /** Smallest off-diagonal count; diagonal counts are at least 1 so every recall is > 0. */
  readonly minCount?: number;
  readonly maxCount?: number;
}

/** Count matrices in which every class has at least one correct sample (every recall > 0). */
export function arbConfusion(options: ArbConfusionOptions = {}): fc.Arbitrary<ConfusionMatrix> {
  const { minClasses = 2, maxClasses = 8, minCount = 0, maxCount = 1000 } = options;
  return fc.integer({ min: minClasses, max: maxClasses }).chain((k) =>
    fc
      .array(fc.integer({ min: minCount, max: maxCount }), { minLength: k * k, maxLength: k * k })
      .map((v) => fromValues(k, v.map((x, idx) => (Math.floor(idx / k) === idx % k ? x + 1 : x)))),
  );
}

/** A matrix and a permutation of its classes. */
export function arbPermuted(options?: ArbConfusionOptions): fc.Arbitrary<[ConfusionMatrix, number[]]> {
  return arbConfusion(options).chain((cm) =>
    fc
      .shuffledSubarray(
        Array.from({ length: cm.numClasses }, (_, i) => i),
        { minLength: cm.numClasses, maxLength: cm.numClasses },
      )
      .map((perm) => [cm, perm] as [ConfusionMatrix, number[]]),
  );
}

/** Relabels class i as perm[i] (rows and columns together). */
export function relabel(cm: ConfusionMatrix, perm: readonly number[]): ConfusionMatrix {
  const k = cm.numClasses;
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[perm[i]! * k + perm[j]!] = cm.values[i * k + j]!;
  return fromValues(k, out);
}

export function scale(cm: ConfusionMatrix, c: number): ConfusionMatrix {
  return fromValues(cm.numClasses, cm.values.map((v) => v * c));
}

/** Plain central differences of f at every entry (the independent check of analytic gradients). */
export function centralDifference(f: (cm: ConfusionMatrix) => number, cm: ConfusionMatrix, h: number): Float64Array {
  const k = cm.numClasses;
  return Float64Array.from({ length: k * k }, (_, idx) => {
    const up = Float64Array.from(cm.values);
    const down = Float64Array.from(cm.values);
    up[idx]! += h;
    down[idx]! -= h;
    return (f({ numClasses: k, values: up }) - f({ numClasses: k, values: down })) / (2 * h);
  });
}

/** numpy.allclose semantics: |a − e| <= atol + rtol·|e| elementwise. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-12, rtol = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      expect.fail(`entry ${i}: ${a} is not close to ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}
