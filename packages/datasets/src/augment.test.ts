import { createRng } from "@selmix/core";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, test } from "vitest";
import { cutout, randAugmentOps, strongAugment, weakAugment } from "./augment.ts";
import { RANDAUGMENT_OPS } from "./augment-ops.ts";
import { createBatchIterator, toFloatBatch } from "./batches.ts";
import type { Dataset } from "./dataset.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const rgb = { height: 8, width: 8, channels: 3 };
const image = Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 37) & 0xff);
const dataset: Dataset = {
  images: Uint8Array.from({ length: 50 * 192 }, (_, i) => (i * 11) & 0xff),
  labels: Uint8Array.from({ length: 50 }, (_, i) => i % 10),
  ...rgb,
  numClasses: 10,
};

describe("augmentation", () => {
  test("weak with no padding and no flip is the identity; flip mirrors rows", () => {
    expect(Array.from(weakAugment(image, rgb, createRng(0), { flip: false, padding: 0 }))).toEqual(Array.from(image));
    // find a seed whose flip draw is taken
    let flipped: Uint8Array | undefined;
    for (let seed = 0; seed < 20 && flipped === undefined; seed++) {
      const out = weakAugment(image, rgb, createRng(seed), { flip: true, padding: 0 });
      if (out.some((v, i) => v !== image[i])) flipped = out;
    }
    expect(flipped![0]).toBe(image[7 * 3]);
  });

  test("is deterministic per seed and keeps the shape", () => {
    for (const fn of [weakAugment, strongAugment]) {
      const a = fn(image, rgb, createRng(5), { flip: true });
      const b = fn(image, rgb, createRng(5), { flip: true });
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(a.length).toBe(image.length);
    }
  });

  test("every RandAugment op keeps the shape and is valid at extreme magnitudes", () => {
    for (const name of randAugmentOps()) {
      for (const m of [0, 1]) {
        const out = RANDAUGMENT_OPS[name]!(image, rgb, m, createRng(1), 128);
        expect(out.length, name).toBe(image.length);
      }
    }
    expect(randAugmentOps()).toContain("equalize");
  });

  test("strong fill: a byte, the border's mean (0 on a black background) or the image's mean", () => {
    const gray = { height: 12, width: 12, channels: 1 };
    // a white 6x6 square on black: border mean 0, image mean 255 / 4
    const square = Uint8Array.from({ length: 144 }, (_, i) => (Math.floor(i / 12) >= 3 && Math.floor(i / 12) < 9 && i % 12 >= 3 && i % 12 < 9 ? 255 : 0));
    const values = (fill: "border" | "mean" | number): Set<number> => {
      const seen = new Set<number>();
      for (let seed = 0; seed < 30; seed++) {
        for (const v of strongAugment(square, gray, createRng(seed), { flip: false, padding: 0, numOps: 0, fill })) seen.add(v);
      }
      return seen; // numOps 0: only Cutout changes pixels, with the fill
    };
    expect([...values("border")].sort((a, b) => a - b)).toEqual([0, 255]);
    expect(values("mean").has(64)).toBe(true);
    expect(values(200).has(200)).toBe(true);
    expect(() => strongAugment(square, gray, createRng(0), { flip: false, fill: "edge" as "border" })).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
  });

  test("RandAugment magnitude: fixed m / 10 or random; n operations", () => {
    const calls: number[] = [];
    const original = RANDAUGMENT_OPS.identity!;
    const spy = RANDAUGMENT_OPS as Record<string, typeof original>;
    const keep = { ...spy };
    try {
      for (const name of Object.keys(spy)) {
        spy[name] = (src, shape, m, rng, fill) => {
          calls.push(m);
          return keep[name]!(src, shape, m, rng, fill);
        };
      }
      strongAugment(image, rgb, createRng(3), { flip: false, numOps: 3, magnitude: 5 });
      expect(calls).toEqual([0.5, 0.5, 0.5]);
      calls.length = 0;
      strongAugment(image, rgb, createRng(3), { flip: false, numOps: 4, magnitude: "random" });
      expect(calls).toHaveLength(4);
      for (const m of calls) expect(m >= 0.05 && m <= 1).toBe(true);
    } finally {
      Object.assign(spy, keep);
    }
    expect(() => strongAugment(image, rgb, createRng(0), { flip: false, magnitude: 11 })).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
  });

  test("cutout fills a square of at most half the side", () => {
    const out = cutout(new Uint8Array(8 * 8 * 3).fill(7), rgb, createRng(2), 0);
    const filled = out.filter((v) => v === 0).length / 3;
    expect(filled).toBeGreaterThanOrEqual(1);
    expect(filled).toBeLessThanOrEqual(16);
  });

  test("rejects bad shapes and options", () => {
    expect(() => weakAugment(image.subarray(1), rgb, createRng(0), { flip: false })).toThrow(expect.objectContaining({ code: "INVALID_SHAPE" }));
    expect(() => weakAugment(image, rgb, createRng(0), { flip: false, fill: 256 })).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
  });
});

describe("batches", () => {
  test("toFloatBatch gives [b, H, W, C] = x / 255 and creates one tensor", async () => {
    const before = tf.memory().numTensors;
    const t = toFloatBatch(dataset, [2, 0]);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(t.shape).toEqual([2, 8, 8, 3]);
    const data = await t.data();
    expect(data[0]).toBeCloseTo(dataset.images[2 * 192]! / 255, 6);
    t.dispose();
    expect(() => toFloatBatch(dataset, [50])).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
  });

  test("iterates every index once per epoch, deterministically, without leaking tensors", async () => {
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const run = async (seed: number): Promise<number[]> => {
      const order: number[] = [];
      const it = createBatchIterator(dataset, Array.from({ length: 50 }, (_, i) => i), {
        batchSize: 8,
        seed,
        epochs: 3,
        augment: "strong",
        augmentOptions: { flip: true },
      });
      expect(it.batchesPerEpoch).toBe(7);
      for await (const batch of it) {
        expect(batch.images.shape[1]).toBe(8);
        const labels = await batch.labels.data();
        expect(Array.from(labels)).toEqual(Array.from(batch.indices, (i) => i % 10));
        order.push(...batch.indices);
        tf.dispose([batch.images, batch.labels]);
      }
      return order;
    };
    seen.push(...(await run(1)));
    expect(seen.length).toBe(150);
    expect(new Set(seen.slice(0, 50)).size).toBe(50);
    expect(await run(1)).toEqual(seen);
    expect(await run(2)).not.toEqual(seen);
    expect(tf.memory().numTensors).toBe(before);
  });

  test("breaking out early frees the prefetched batch", async () => {
    const before = tf.memory().numTensors;
    for (let round = 0; round < 20; round++) {
      let n = 0;
      for await (const batch of createBatchIterator(dataset, [0, 1, 2, 3, 4, 5, 6], { batchSize: 2, augment: "weak", augmentOptions: { flip: false }, epochs: Number.POSITIVE_INFINITY })) {
        tf.dispose([batch.images, batch.labels]);
        if (++n === 3) break;
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test("dropLast and option validation", async () => {
    const it = createBatchIterator(dataset, Array.from({ length: 10 }, (_, i) => i), { batchSize: 4, dropLast: true, shuffle: false });
    const sizes: number[] = [];
    for await (const b of it) {
      sizes.push(b.indices.length);
      tf.dispose([b.images, b.labels]);
    }
    expect(sizes).toEqual([4, 4]);
    expect(() => createBatchIterator(dataset, [0], { batchSize: 0 })).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
    expect(() => createBatchIterator(dataset, [0], { batchSize: 1, augment: "weak" })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
