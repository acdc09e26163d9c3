import { type Rng, SelmixError } from "@selmix/core";

/**
 * Where the two samples of a SelMix pair are mixed.
 * - `feature`: z = λ·g(x₁) + (1−λ)·g(x₂) at the penultimate layer (the reference).
 * - `input-mixup`: the pixels, x = λ·x₁ + (1−λ)·x₂ (Zhang et al.'s mixup on the SelMix pair).
 * - `cutmix`: a box of area 1 − λ from x₂ pasted into x₁ (Yun et al.), λ recomputed from the clipped box.
 * - `feature+cutmix`: CutMix of the pair (its own λ′ ~ U(lambdaMin, 1)), then feature mixup of the result with x₂.
 */
export type MixingMode = "feature" | "input-mixup" | "cutmix" | "feature+cutmix";

/**
 * Every mixing mode.
 *
 * @example
 * {@includeCode ./examples.test.ts#MIXING_MODES}
 */
export const MIXING_MODES: readonly MixingMode[] = ["feature", "input-mixup", "cutmix", "feature+cutmix"];

/**
 * The label of a mixed sample: `first` = x₁'s hard label (SelMix); `weighted` = x₁'s share of the mix on x₁'s label
 * and the rest on x₂'s (the soft label of mixup and CutMix; for CutMix the share is the box-corrected λ).
 */
export type MixLabel = "first" | "weighted";

/**
 * Every label rule.
 *
 * @example
 * {@includeCode ./examples.test.ts#MIX_LABELS}
 */
export const MIX_LABELS: readonly MixLabel[] = ["first", "weighted"];

/** Rows [top, bottom) and columns [left, right) of x₂ pasted into x₁. */
export interface CutmixBox {
  /** First row of the box. */
  readonly top: number;
  /** One past its last row. */
  readonly bottom: number;
  /** First column of the box. */
  readonly left: number;
  /** One past its last column. */
  readonly right: number;
}

/** A CutMix box and x₁'s share of the pixels it leaves. */
export interface CutmixDraw {
  /** The pasted region. */
  readonly box: CutmixBox;
  /** λ recomputed from the clipped box: 1 − box area / (H·W). */
  readonly lambda: number;
}

/**
 * A CutMix box for mix weight λ on an `height`×`width` image: sides ⌊H·√(1−λ)⌋ × ⌊W·√(1−λ)⌋ around a centre drawn
 * uniformly over the pixels, clipped to the image. `lambda` is recomputed from the clipped box: x₁'s share of the
 * pixels, 1 − box area / (H·W).
 *
 * @param lambda - Mix weight in [0, 1] (1: empty box).
 * @param rng - Draws the centre (two draws).
 * @throws `SelmixError` `INVALID_VALUE` when λ is outside [0, 1] or a side is not a positive integer.
 *
 * @example
 * {@includeCode ./examples.test.ts#cutmixBox}
 */
export function cutmixBox(height: number, width: number, lambda: number, rng: Rng): CutmixDraw {
  if (!(lambda >= 0 && lambda <= 1)) throw new SelmixError("INVALID_VALUE", `CutMix lambda must be in [0, 1], got ${lambda}`);
  if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0)) {
    throw new SelmixError("INVALID_VALUE", `CutMix image sides must be positive integers, got ${height}x${width}`);
  }
  const ratio = Math.sqrt(1 - lambda);
  const cutH = Math.floor(height * ratio);
  const cutW = Math.floor(width * ratio);
  const cy = rng.int(height);
  const cx = rng.int(width);
  const clip = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  const top = clip(cy - Math.floor(cutH / 2), height);
  const left = clip(cx - Math.floor(cutW / 2), width);
  const box = { top, left, bottom: clip(cy - Math.floor(cutH / 2) + cutH, height), right: clip(cx - Math.floor(cutW / 2) + cutW, width) };
  return { box, lambda: 1 - ((box.bottom - box.top) * (box.right - box.left)) / (height * width) };
}

/** Mixed images and each row's share of x₁. */
export interface MixedImages {
  /** Row-major float32 NHWC, the shape of the inputs. */
  readonly images: Float32Array;
  /** x₁'s share of each row (λ for mixup, the box-corrected λ for CutMix). */
  readonly firstShare: Float64Array;
}

/**
 * Mixes two image batches in input space, row by row: pixel blend (`input-mixup`) or a CutMix box (`cutmix` and
 * `feature+cutmix`, one box per row drawn from `rng`).
 *
 * @param x1 - First images, float32 NHWC `[B, H, W, C]`.
 * @param x2 - Partner images, same shape.
 * @param shape - `[H, W, C]` of one image.
 * @param lambdas - Per-row mix weight of x₁.
 * @throws `SelmixError` `INVALID_ARGUMENT` for `feature` (nothing to mix in input space).
 *
 * @example
 * {@includeCode ./examples.test.ts#mixImages}
 */
export function mixImages(
  mode: MixingMode,
  x1: Float32Array,
  x2: Float32Array,
  shape: readonly [number, number, number],
  lambdas: ArrayLike<number>,
  rng: Rng,
): MixedImages {
  if (mode === "feature") throw new SelmixError("INVALID_ARGUMENT", "feature mixing does not mix images");
  const [h, w, c] = shape;
  const size = h * w * c;
  const images = Float32Array.from(x1);
  const firstShare = new Float64Array(lambdas.length);
  for (let r = 0; r < lambdas.length; r++) {
    const lam = lambdas[r]!;
    const offset = r * size;
    if (mode === "input-mixup") {
      for (let i = offset; i < offset + size; i++) images[i] = lam * x1[i]! + (1 - lam) * x2[i]!;
      firstShare[r] = lam;
      continue;
    }
    const { box, lambda } = cutmixBox(h, w, lam, rng);
    for (let y = box.top; y < box.bottom; y++) {
      const from = offset + (y * w + box.left) * c;
      images.set(x2.subarray(from, offset + (y * w + box.right) * c), from);
    }
    firstShare[r] = lambda;
  }
  return { images, firstShare };
}

/** Whether a mode mixes the penultimate features (and so needs g(x₂)). */
export const mixesFeatures = (mode: MixingMode): boolean => mode === "feature" || mode === "feature+cutmix";

/**
 * The per-row mix weights of one step from the loop's draws: the feature mixup's λ and the input mix's λ.
 * `feature` and `input-mixup`/`cutmix` use the one draw (the feature λ is then 1); `feature+cutmix` draws a second,
 * so `feature` consumes the random stream exactly as before input mixing existed.
 */
export function stepLambdas(mode: MixingMode, lambdas: Float64Array, draw: () => Float64Array): { feature: Float64Array; input?: Float64Array } {
  if (mode === "feature") return { feature: lambdas };
  if (mode === "feature+cutmix") return { feature: lambdas, input: draw() };
  return { feature: new Float64Array(lambdas.length).fill(1), input: lambdas };
}
