import { type Rng, SelmixError } from "@selmix/core";
import { type ImageShape, RANDAUGMENT_OPS } from "./augment-ops.ts";

/** Options of {@link weakAugment} and {@link strongAugment}. */
export interface AugmentOptions {
  /** Random horizontal flip with p = 0.5. Off for digits (a flipped 2 is not a 2): take it from `Source.flip`. */
  readonly flip: boolean;
  /** Reflect-padding before the random crop back to size. @defaultValue 4 */
  readonly padding?: number;
  /**
   * Value of the pixels uncovered by rotate/shear/translate and of the Cutout square: a byte, `"border"` (the mean of
   * the image's outermost pixels, 0 on a black background) or `"mean"` (the mean of the whole image); both average over the channels.
   * @defaultValue 128 (grey)
   */
  readonly fill?: AugmentFill;
  /** RandAugment: number of operations drawn per image. @defaultValue 2 */
  readonly numOps?: number;
  /**
   * RandAugment magnitude on the 0..10 scale: every operation runs at strength m / 10 (RandAugment(n, m)), or
   * `"random"`: a uniform strength in [0.05, 1] per operation (FixMatch's RA variant).
   * @defaultValue "random"
   */
  readonly magnitude?: number | "random";
}

/** Fill of the pixels a geometric op uncovers and of the Cutout square (see {@link AugmentOptions.fill}). */
export type AugmentFill = number | "border" | "mean";

/** Which augmentation a batch gets. */
export type AugmentKind = "none" | "weak" | "strong";

function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  for (;;) {
    if (i < 0) i = -i;
    else if (i >= n) i = 2 * n - 2 - i;
    else return i;
  }
}

function checkOptions(shape: ImageShape, image: Uint8Array, options: AugmentOptions): void {
  const { padding = 4, fill = 128, numOps = 2, magnitude = "random" } = options;
  if (image.length !== shape.height * shape.width * shape.channels) {
    throw new SelmixError(
      "INVALID_SHAPE",
      `image has ${image.length} bytes, expected ${shape.height} x ${shape.width} x ${shape.channels}`,
    );
  }
  if (!(Number.isInteger(padding) && padding >= 0)) throw new SelmixError("INVALID_VALUE", `padding must be an integer >= 0, got ${padding}`);
  if (!(fill === "border" || fill === "mean" || (Number.isInteger(fill) && fill >= 0 && fill <= 255))) {
    throw new SelmixError("INVALID_VALUE", `fill must be an integer in 0..255, "border" or "mean", got ${fill}`);
  }
  if (!(magnitude === "random" || (typeof magnitude === "number" && magnitude >= 0 && magnitude <= 10))) {
    throw new SelmixError("INVALID_VALUE", `magnitude must be in [0, 10] or "random", got ${magnitude}`);
  }
  if (!(Number.isInteger(numOps) && numOps >= 0)) throw new SelmixError("INVALID_VALUE", `numOps must be an integer >= 0, got ${numOps}`);
}

/**
 * FixMatch's weak augmentation of one HWC uint8 image: reflect-pad by `padding` (PyTorch `reflect`, edge not
 * repeated), crop a random window of the original size, then flip horizontally with p = 0.5 when `flip` is on.
 * Returns a new image; randomness only from `rng`.
 *
 * @param image - One HWC uint8 image.
 * @param shape - Geometry of `image`.
 * @param rng - The only source of randomness.
 * @param options - Padding and flips.
 * @throws `SelmixError` `INVALID_SHAPE` if `image` does not hold `shape`, `INVALID_VALUE` for bad options.
 * @example
 * {@includeCode ./examples.test.ts#weakAugment}
 */
export function weakAugment(image: Uint8Array, shape: ImageShape, rng: Rng, options: AugmentOptions): Uint8Array {
  checkOptions(shape, image, options);
  const { height: h, width: w, channels: c } = shape;
  const p = options.padding ?? 4;
  const ox = rng.int(2 * p + 1) - p;
  const oy = rng.int(2 * p + 1) - p;
  const flipped = options.flip && rng.next() < 0.5;
  const out = new Uint8Array(image.length);
  for (let y = 0; y < h; y++) {
    const sy = reflect(y + oy, h);
    for (let x = 0; x < w; x++) {
      const sx = reflect((flipped ? w - 1 - x : x) + ox, w);
      for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] = image[(sy * w + sx) * c + ch]!;
    }
  }
  return out;
}

/**
 * Cutout: fills a square of random side in [1, min(h, w) / 2] at a random centre (clipped at the borders) with
 * `fill`. Returns a new image.
 *
 * @param image - One HWC uint8 image.
 * @param shape - Geometry of `image`.
 * @param rng - Source of the square's side and centre.
 * @param fill - Value written into the square.
 * @throws `SelmixError` `INVALID_VALUE` if `shape.width` or `shape.height` is not a positive integer.
 * @example
 * {@includeCode ./examples.test.ts#cutout}
 */
export function cutout(image: Uint8Array, shape: ImageShape, rng: Rng, fill = 128): Uint8Array {
  const { height: h, width: w, channels: c } = shape;
  const out = image.slice();
  const side = 1 + rng.int(Math.max(1, Math.floor(Math.min(h, w) / 2)));
  const cx = rng.int(w);
  const cy = rng.int(h);
  const x0 = Math.max(0, cx - Math.floor(side / 2));
  const y0 = Math.max(0, cy - Math.floor(side / 2));
  for (let y = y0; y < Math.min(h, y0 + side); y++) {
    for (let x = x0; x < Math.min(w, x0 + side); x++) out.fill(fill, (y * w + x) * c, (y * w + x + 1) * c);
  }
  return out;
}

/**
 * FixMatch's strong augmentation: {@link weakAugment}, then `numOps` operations drawn uniformly (with replacement)
 * from {@link randAugmentOps} at a uniform random magnitude in [0.05, 1] each, then {@link cutout}.
 *
 * @param image - One HWC uint8 image.
 * @param shape - Geometry of `image`.
 * @param rng - The only source of randomness.
 * @param options - Padding, flips and RandAugment settings.
 * @returns A new image of the same shape.
 * @throws `SelmixError` `INVALID_SHAPE` if `image` does not hold `shape`, `INVALID_VALUE` for bad options.
 * @example
 * {@includeCode ./examples.test.ts#strongAugment}
 */
export function strongAugment(image: Uint8Array, shape: ImageShape, rng: Rng, options: AugmentOptions): Uint8Array {
  let out = weakAugment(image, shape, rng, options);
  const fill = fillValue(image, shape, options.fill ?? 128);
  const magnitude = options.magnitude ?? "random";
  const names = randAugmentOps();
  for (let i = 0; i < (options.numOps ?? 2); i++) {
    const op = RANDAUGMENT_OPS[names[rng.int(names.length)]!]!;
    out = op(out, shape, magnitude === "random" ? rng.uniform(0.05, 1) : magnitude / 10, rng, fill);
  }
  return cutout(out, shape, rng, fill);
}

/** The byte a fill setting stands for on `image` (`border` and `mean` average over the channels too). */
function fillValue(image: Uint8Array, shape: ImageShape, fill: AugmentFill): number {
  if (typeof fill === "number") return fill;
  const { height: h, width: w, channels: c } = shape;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (fill === "border" && !(y === 0 || y === h - 1 || x === 0 || x === w - 1)) continue;
      for (let ch = 0; ch < c; ch++) sum += image[(y * w + x) * c + ch]!;
      n += c;
    }
  }
  return n === 0 ? 0 : Math.round(sum / n);
}

/**
 * Names of the RandAugment subset: identity, autocontrast, equalize, brightness, contrast, sharpness, posterize,
 * solarize, rotate (±30°), shearX/Y (±0.3), translateX/Y (±30 %). Geometric ops use nearest-neighbour sampling.
 * @example
 * {@includeCode ./examples.test.ts#randAugmentOps}
 */
export function randAugmentOps(): string[] {
  return Object.keys(RANDAUGMENT_OPS);
}
