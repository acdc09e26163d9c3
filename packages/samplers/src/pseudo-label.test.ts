import { fc, it } from "@fast-check/vitest";
import { createRng } from "@selmix/core";
import { describe, expect, test } from "vitest";
import { createPairSampler } from "./pair-sampler.ts";
import { pseudoLabelPool } from "./pseudo-label.ts";

const code = (c: string) => expect.objectContaining({ code: c });

describe("pseudoLabelPool", () => {
  test("labels each sample with its argmax; the threshold drops unconfident ones", () => {
    //#region pseudo-label-example
    const unlabelled = Int32Array.of(40, 41, 42);
    const probabilities = Float32Array.of(0.9, 0.1, /**/ 0.4, 0.6, /**/ 0.2, 0.8); // model outputs, N x K
    const pool = pseudoLabelPool(unlabelled, { probabilities, numClasses: 2 }, { threshold: 0.7 });
    // pool = { indices: [40, 42], labels: [0, 1] }
    //#endregion pseudo-label-example
    expect(Array.from(pool.indices)).toEqual([40, 42]);
    expect(Array.from(pool.labels)).toEqual([0, 1]);
    const all = pseudoLabelPool(unlabelled, { probabilities, numClasses: 2 });
    expect(Array.from(all.labels)).toEqual([0, 1, 1]);
  });

  test("ties go to the first class; logits work without a threshold", () => {
    const pool = pseudoLabelPool(Int32Array.of(0, 1), { probabilities: [0.5, 0.5, -3, -1], numClasses: 2 });
    expect(Array.from(pool.labels)).toEqual([0, 1]);
  });

  test("accepts predicted classes, copied", () => {
    const indices = Int32Array.of(5, 6);
    const pool = pseudoLabelPool(indices, { classes: [2, 0] });
    indices[0] = 99;
    expect(Array.from(pool.indices)).toEqual([5, 6]);
    expect(Array.from(pool.labels)).toEqual([2, 0]);
  });

  test.each([
    ["a threshold with classes", [Int32Array.of(0), { classes: [0] }, { threshold: 0.5 }], "INVALID_ARGUMENT"],
    ["too few classes", [Int32Array.of(0, 1), { classes: [0] }], "INVALID_SHAPE"],
    ["a negative class", [Int32Array.of(0), { classes: [-1] }], "INVALID_VALUE"],
    ["a fractional class", [Int32Array.of(0), { classes: [0.5] }], "INVALID_VALUE"],
    ["scores of the wrong length", [Int32Array.of(0), { probabilities: [1, 0, 0], numClasses: 2 }], "INVALID_SHAPE"],
    ["a NaN score", [Int32Array.of(0), { probabilities: [Number.NaN, 0], numClasses: 2 }], "INVALID_VALUE"],
    ["a bad numClasses", [Int32Array.of(0), { probabilities: [1], numClasses: 0 }], "INVALID_VALUE"],
    ["a threshold above 1", [Int32Array.of(0), { probabilities: [1, 0], numClasses: 2 }, { threshold: 1.5 }], "INVALID_VALUE"],
    ["a negative index", [Int32Array.of(-2), { classes: [0] }], "INVALID_VALUE"],
  ] as const)("rejects %s", (_name, args, expected) => {
    expect(() => (pseudoLabelPool as (...a: readonly unknown[]) => unknown)(...args)).toThrow(code(expected));
  });

  it.prop([
    fc.integer({ min: 2, max: 5 }).chain((k) =>
      fc.tuple(
        fc.constant(k),
        fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: k, maxLength: k }), {
          minLength: 1,
          maxLength: 30,
        }),
      ),
    ),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.integer(),
  ])("a pair sampler on a pseudo-labelled pool draws partners whose pseudo-label is the drawn class", ([k, rows], threshold, seed) => {
    const indices = Int32Array.from(rows, (_, n) => 1000 + n);
    const pool = pseudoLabelPool(indices, { probabilities: rows.flat(), numClasses: k }, { threshold });
    rows.forEach((row, n) => {
      const pos = pool.indices.indexOf(1000 + n);
      const top = Math.max(...row);
      expect(pos >= 0).toBe(top >= threshold);
      if (pos >= 0) expect(row[pool.labels[pos]!]).toBe(top);
    });
    fc.pre(pool.indices.length > 0);
    const labelled = { indices: Int32Array.from({ length: k }, (_, c) => c), labels: Int32Array.from({ length: k }, (_, c) => c) };
    const sampler = createPairSampler({
      distribution: new Float64Array(k * k).fill(1),
      numClasses: k,
      first: labelled,
      partner: pool,
      rng: createRng(seed),
    });
    const batch = sampler.sample(50);
    batch.partner.forEach((x, b) => {
      expect(pool.labels[pool.indices.indexOf(x)]).toBe(batch.partnerClass[b]);
    });
  });
});
