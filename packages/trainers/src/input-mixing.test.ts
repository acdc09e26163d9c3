import { fc, test as property } from "@fast-check/vitest";
import { createRng } from "@selmix/core";
import { describe, expect, test } from "vitest";
import { cutmixBox, mixImages, stepLambdas } from "./input-mixing.ts";

const side = fc.integer({ min: 1, max: 40 });
const lambda = fc.double({ min: 0, max: 1, noNaN: true });
const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 });

describe("cutmixBox", () => {
  property.prop([side, side, lambda, seed])("lies inside the image and its λ is x₁'s share of the pixels", (h, w, lam, s) => {
    const { box, lambda: corrected } = cutmixBox(h, w, lam, createRng(s));
    expect(0 <= box.top && box.top <= box.bottom && box.bottom <= h).toBe(true);
    expect(0 <= box.left && box.left <= box.right && box.right <= w).toBe(true);
    expect(corrected).toBeCloseTo(1 - ((box.bottom - box.top) * (box.right - box.left)) / (h * w), 12);
    // clipping only removes pixels of the box: x₁ never keeps less than λ asks for
    expect(corrected).toBeGreaterThanOrEqual(lam - 1e-12);
  });

  property.prop([side, side, lambda, seed])("an unclipped box has area (1 − λ)·H·W up to the flooring of its sides", (h, w, lam, s) => {
    const { box, lambda: corrected } = cutmixBox(h, w, lam, createRng(s));
    const r = Math.sqrt(1 - lam);
    const unclipped = box.bottom - box.top === Math.floor(h * r) && box.right - box.left === Math.floor(w * r);
    if (unclipped) expect(Math.abs(corrected - lam)).toBeLessThanOrEqual((h + w) / (h * w) + 1e-12);
  });

  property.prop([side, side, lambda, seed])("is the same for the same seed", (h, w, lam, s) => {
    expect(cutmixBox(h, w, lam, createRng(s))).toEqual(cutmixBox(h, w, lam, createRng(s)));
  });

  test("λ = 1 pastes nothing; λ = 0 pastes an image-sized box, clipped to at least half of each side", () => {
    expect(cutmixBox(28, 28, 1, createRng(3)).lambda).toBe(1);
    const r = createRng(5);
    const values = Array.from({ length: 200 }, () => cutmixBox(28, 28, 0, r).lambda);
    expect(values.every((v) => v >= 0 && v <= 0.75)).toBe(true);
    expect(values).toContain(0); // centred exactly: the whole image is x₂
  });

  test("refuses λ outside [0, 1] and empty images", () => {
    expect(() => cutmixBox(28, 28, 1.5, createRng(0))).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
    expect(() => cutmixBox(0, 28, 0.5, createRng(0))).toThrow(expect.objectContaining({ code: "INVALID_VALUE" }));
  });
});

describe("mixImages", () => {
  property.prop([fc.integer({ min: 1, max: 4 }), fc.array(lambda, { minLength: 1, maxLength: 5 }), seed])(
    "CutMix copies x₂ exactly inside one box per row and x₁ elsewhere, in every channel",
    (c, lams, s) => {
      const [h, w] = [9, 7];
      const size = h * w * c;
      const x1 = Float32Array.from({ length: lams.length * size }, (_, i) => 1 + (i % 13));
      const x2 = Float32Array.from({ length: lams.length * size }, (_, i) => -1 - (i % 11));
      const mixed = mixImages("cutmix", x1, x2, [h, w, c], lams, createRng(s));
      const boxes = createRng(s);
      lams.forEach((lam, r) => {
        const { box, lambda: share } = cutmixBox(h, w, lam, boxes);
        expect(mixed.firstShare[r]).toBe(share);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const inside = y >= box.top && y < box.bottom && x >= box.left && x < box.right;
            for (let k = 0; k < c; k++) {
              const i = r * size + (y * w + x) * c + k;
              expect(mixed.images[i]).toBe(inside ? x2[i] : x1[i]);
            }
          }
        }
      });
    },
  );

  test("input mixup blends the pixels by λ and leaves the inputs alone", () => {
    const x1 = Float32Array.of(1, 1, 1, 1);
    const x2 = Float32Array.of(0, 0, 2, 2);
    const { images, firstShare } = mixImages("input-mixup", x1, x2, [1, 2, 1], [0.75, 0.5], createRng(0));
    expect(Array.from(images)).toEqual([0.75, 0.75, 1.5, 1.5]);
    expect(Array.from(firstShare)).toEqual([0.75, 0.5]);
    expect(Array.from(x1)).toEqual([1, 1, 1, 1]);
  });

  test("feature mixing has nothing to mix in input space", () => {
    expect(() => mixImages("feature", new Float32Array(1), new Float32Array(1), [1, 1, 1], [1], createRng(0))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("stepLambdas", () => {
  test("feature uses the loop's one draw, the input modes move it to the input, feature+cutmix draws a second", () => {
    const lam = Float64Array.of(0.7, 0.9);
    const second = Float64Array.of(0.8, 0.6);
    let draws = 0;
    const draw = (): Float64Array => {
      draws++;
      return second;
    };
    expect(stepLambdas("feature", lam, draw)).toEqual({ feature: lam });
    expect(stepLambdas("cutmix", lam, draw)).toEqual({ feature: Float64Array.of(1, 1), input: lam });
    expect(stepLambdas("input-mixup", lam, draw)).toEqual({ feature: Float64Array.of(1, 1), input: lam });
    expect(draws).toBe(0);
    expect(stepLambdas("feature+cutmix", lam, draw)).toEqual({ feature: lam, input: second });
    expect(draws).toBe(1);
  });
});
