import type { Rng } from "@selmix/core";

/** Geometry of one HWC uint8 image. */
export interface ImageShape {
  /** Height in pixels. */
  readonly height: number;
  /** Width in pixels. */
  readonly width: number;
  /** Channels per pixel. */
  readonly channels: number;
}

/** A per-image RandAugment operation: `magnitude` in [0, 1] scales its strength; signs come from `rng`. @internal */
export type ImageOp = (src: Uint8Array, shape: ImageShape, magnitude: number, rng: Rng, fill: number) => Uint8Array;

const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
const sign = (rng: Rng): number => (rng.next() < 0.5 ? -1 : 1);

function blend(src: Uint8Array, other: Uint8Array | number, factor: number): Uint8Array {
  // PIL ImageEnhance: out = other + factor * (src - other)
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const o = typeof other === "number" ? other : other[i]!;
    out[i] = clamp255(o + factor * (src[i]! - o));
  }
  return out;
}

/** Inverse-mapped affine warp with nearest-neighbour sampling; `map(x, y)` gives the source point of (x, y). */
function warp(src: Uint8Array, shape: ImageShape, fill: number, map: (x: number, y: number) => [number, number]): Uint8Array {
  const { height: h, width: w, channels: c } = shape;
  const out = new Uint8Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [sx, sy] = map(x, y);
      const ix = Math.round(sx);
      const iy = Math.round(sy);
      const inside = ix >= 0 && ix < w && iy >= 0 && iy < h;
      for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] = inside ? src[(iy * w + ix) * c + ch]! : fill;
    }
  }
  return out;
}

function perChannel(src: Uint8Array, shape: ImageShape, lut: (channel: Uint32Array) => Uint8Array): Uint8Array {
  const c = shape.channels;
  const out = new Uint8Array(src.length);
  for (let ch = 0; ch < c; ch++) {
    const hist = new Uint32Array(256);
    for (let i = ch; i < src.length; i += c) hist[src[i]!]! += 1;
    const table = lut(hist);
    for (let i = ch; i < src.length; i += c) out[i] = table[src[i]!]!;
  }
  return out;
}

/** The RandAugment subset used by {@link strongAugment}, by name. */
export const RANDAUGMENT_OPS: Readonly<Record<string, ImageOp>> = {
  identity: (src) => src.slice(),
  autocontrast: (src, shape) =>
    perChannel(src, shape, (hist) => {
      let lo = 0;
      let hi = 255;
      while (lo < 255 && hist[lo] === 0) lo++;
      while (hi > 0 && hist[hi] === 0) hi--;
      const table = new Uint8Array(256);
      for (let v = 0; v < 256; v++) table[v] = hi <= lo ? v : clamp255(((v - lo) * 255) / (hi - lo));
      return table;
    }),
  equalize: (src, shape) =>
    perChannel(src, shape, (hist) => {
      // PIL ImageOps.equalize: step = (n - count of the last non-empty bin) / 255
      let last = 255;
      while (last > 0 && hist[last] === 0) last--;
      const n = hist.reduce((a, b) => a + b, 0);
      const step = Math.floor((n - hist[last]!) / 255);
      const table = new Uint8Array(256);
      if (step === 0) {
        for (let v = 0; v < 256; v++) table[v] = v;
        return table;
      }
      let acc = Math.floor(step / 2);
      for (let v = 0; v < 256; v++) {
        table[v] = Math.min(255, Math.floor(acc / step));
        acc += hist[v]!;
      }
      return table;
    }),
  brightness: (src, _shape, m, rng) => blend(src, 0, 1 + sign(rng) * 0.9 * m),
  contrast: (src, _shape, m, rng) => {
    let mean = 0;
    for (const v of src) mean += v;
    return blend(src, Math.round(mean / Math.max(1, src.length)), 1 + sign(rng) * 0.9 * m);
  },
  sharpness: (src, shape, m, rng) => {
    // blend with a 3x3 smoothed copy (PIL's SMOOTH kernel: centre 5, others 1, /13); borders kept
    const { height: h, width: w, channels: c } = shape;
    const smooth = src.slice();
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          for (let dy = -1; dy <= 1; dy++) {
            for (let dx = -1; dx <= 1; dx++) sum += src[((y + dy) * w + x + dx) * c + ch]! * (dx === 0 && dy === 0 ? 5 : 1);
          }
          smooth[(y * w + x) * c + ch] = clamp255(sum / 13);
        }
      }
    }
    return blend(src, smooth, 1 + sign(rng) * 0.9 * m);
  },
  posterize: (src, _shape, m) => {
    const bits = 8 - Math.round(4 * m); // 8..4 bits kept
    const mask = (0xff << (8 - bits)) & 0xff;
    return src.map((v) => v & mask);
  },
  solarize: (src, _shape, m) => {
    const threshold = Math.round(256 - 256 * m);
    return src.map((v) => (v >= threshold ? 255 - v : v));
  },
  rotate: (src, shape, m, rng, fill) => {
    const angle = (sign(rng) * 30 * m * Math.PI) / 180;
    const cx = (shape.width - 1) / 2;
    const cy = (shape.height - 1) / 2;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    return warp(src, shape, fill, (x, y) => [cos * (x - cx) + sin * (y - cy) + cx, -sin * (x - cx) + cos * (y - cy) + cy]);
  },
  shearX: (src, shape, m, rng, fill) => {
    const s = sign(rng) * 0.3 * m;
    const cy = (shape.height - 1) / 2;
    return warp(src, shape, fill, (x, y) => [x + s * (y - cy), y]);
  },
  shearY: (src, shape, m, rng, fill) => {
    const s = sign(rng) * 0.3 * m;
    const cx = (shape.width - 1) / 2;
    return warp(src, shape, fill, (x, y) => [x, y + s * (x - cx)]);
  },
  translateX: (src, shape, m, rng, fill) => {
    const t = Math.round(sign(rng) * 0.3 * m * shape.width);
    return warp(src, shape, fill, (x, y) => [x - t, y]);
  },
  translateY: (src, shape, m, rng, fill) => {
    const t = Math.round(sign(rng) * 0.3 * m * shape.height);
    return warp(src, shape, fill, (x, y) => [x, y - t]);
  },
};
