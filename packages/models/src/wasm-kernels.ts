import * as tf from "@tensorflow/tfjs-core";
import { registerConvBiasRelu } from "./conv-bias-relu.ts";
import { heapKernels, heapOffset, type WasmBackendInternals } from "./wasm-heap.ts";

/**
 * Which wasm training kernels to register.
 *
 * - `"fast"`: `Conv2DBackpropFilter` (missing in tfjs-backend-wasm 4.22.0), `Conv2DBackpropInput`, `BatchMatMul`
 *   with transposed operands and `MaxPoolGrad` (naive loops as shipped), `Identity` (a copy as shipped), by
 *   WebAssembly SIMD heap kernels of our own (`wasm/kernels.wat`) and XNNPACK's convolution and matrix product;
 *   plus the fused conv + bias + ReLU kernel of the CNN with its own gradient.
 * - `"min"`: only the missing `Conv2DBackpropFilter` (im2col + matMul).
 * - `"none"`: leave the backend as shipped (a CNN then cannot train on wasm).
 */
export type WasmKernelLevel = "fast" | "min" | "none";

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Pair = [number, number];
type Pad = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
type Rounding = "floor" | "round" | "ceil";

const WASM = "wasm";
const ours = new WeakSet<tf.KernelFunc>();
let registeredLevel: WasmKernelLevel = "none";

/**
 * Wraps a kernel input as a Tensor that the surrounding `tf.tidy` may dispose. `makeTensorFromTensorInfo` adds no
 * backend reference, so one is added first; without it the caller's data would be freed under it.
 */
function asTensor(info: tf.TensorInfo): tf.Tensor {
  const engine = tf.engine();
  engine.backend.incRef(info.dataId);
  return engine.makeTensorFromTensorInfo(info);
}

function replaceKernel(name: string, make: (prev: tf.KernelConfig | undefined) => tf.KernelFunc): void {
  const prev = tf.getKernel(name, WASM);
  if (prev !== undefined) {
    if (ours.has(prev.kernelFunc)) return;
    tf.unregisterKernel(name, WASM);
  }
  const kernelFunc = make(prev);
  ours.add(kernelFunc);
  // Keep the setupFunc: wasm kernels bind their C function there.
  tf.registerKernel({
    kernelName: name,
    backendName: WASM,
    kernelFunc,
    ...(prev?.setupFunc === undefined ? {} : { setupFunc: prev.setupFunc }),
  });
}

function convInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  strides: number | Pair,
  pad: Pad,
  rounding: Rounding | undefined,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    rounding,
    false,
    "channelsLast",
  );
}

function checkNhwc(kernel: string, attrs: KernelArgs["attrs"]): void {
  const format = attrs?.dataFormat;
  if (format !== undefined && format !== "NHWC") throw new Error(`${kernel} (wasm, @selmix/models): NHWC only`);
}

/** dW[kh, kw, ci, co] = Σ_{n, y, x} xPadded[n, y·s + i, x·s + j, ci] · dy[n, y, x, co], by im2col in tfjs ops. */
function backpropFilterIm2col(): tf.KernelFunc {
  return (args) => {
    const attrs = args.attrs ?? {};
    checkNhwc("Conv2DBackpropFilter", attrs);
    const filterShape = attrs.filterShape as [number, number, number, number];
    return tf.tidy(() => {
      const x = asTensor(args.inputs.x!) as tf.Tensor4D;
      const dy = asTensor(args.inputs.dy!) as tf.Tensor4D;
      const [kh, kw, ci, co] = filterShape;
      const info = convInfo(
        x.shape,
        filterShape,
        attrs.strides as Pair,
        attrs.pad as Pad,
        attrs.dimRoundingMode as Rounding | undefined,
      );
      const { top, left, bottom, right } = info.padInfo;
      const n = x.shape[0];
      const oh = info.outHeight;
      const ow = info.outWidth;
      const sh = info.strideHeight;
      const sw = info.strideWidth;
      const needPad = top > 0 || left > 0 || bottom > 0 || right > 0;
      if (kh === 1 && kw === 1 && !needPad && sh === 1 && sw === 1) {
        // 1x1 stride-1 valid: a plain matrix product over all pixels.
        const dw = tf.matMul(tf.reshape(x, [-1, ci]), tf.reshape(dy, [-1, co]), true, false);
        return tf.reshape(dw, filterShape);
      }
      const xp = needPad ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]) : x;
      const cols: tf.Tensor4D[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          cols.push(
            sh === 1 && sw === 1
              ? tf.slice(xp, [0, i, j, 0], [n, oh, ow, ci])
              : (tf.stridedSlice(xp, [0, i, j, 0], [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, ci], [1, sh, sw, 1]) as tf.Tensor4D),
          );
        }
      }
      const patches = tf.reshape(cols.length === 1 ? cols[0]! : tf.concat(cols, 3), [n * oh * ow, kh * kw * ci]);
      return tf.reshape(tf.matMul(patches, tf.reshape(dy, [n * oh * ow, co]), true, false), filterShape);
    });
  };
}

/**
 * dW = im2colᵀ(x) · dy: the transposed patch matrix [kh·kw·ci, n·oh·ow] is written by the heap kernel `im2col_t`
 * and multiplied with dy [n·oh·ow, co] by the heap kernel `gemm_n8` (co a multiple of 8) or else by the shipped
 * XNNPACK product, which first packs all of dy and so is slower here. The result is already laid out
 * [kh, kw, ci, co]. No transposes, no tfjs ops.
 */
function backpropFilterGemm(matMul: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const attrs = args.attrs ?? {};
    checkNhwc("Conv2DBackpropFilter", attrs);
    const filterShape = attrs.filterShape as [number, number, number, number];
    const x = args.inputs.x!;
    const dy = args.inputs.dy!;
    const info = convInfo(x.shape, filterShape, attrs.strides as Pair, attrs.pad as Pad, attrs.dimRoundingMode as Rounding | undefined);
    const [n, h, w, ci] = x.shape as [number, number, number, number];
    const [kh, kw, , co] = filterShape;
    const rows = kh * kw * ci;
    const pixels = n * info.outHeight * info.outWidth;
    const kernels = heapKernels(backend);
    const gemm = co % 8 === 0;
    // Row stride of the patch matrix: an odd number of 64-byte lines for the heap GEMM (see im2col_t).
    const ld = gemm ? (Math.ceil(pixels / 16) | 1) * 16 : pixels;
    const cols = backend.makeOutput([1, rows, ld], "float32");
    try {
      kernels.im2col_t(
        heapOffset(backend, x),
        heapOffset(backend, cols),
        n,
        h,
        w,
        ci,
        kh,
        kw,
        info.strideHeight,
        info.strideWidth,
        info.padInfo.top,
        info.padInfo.left,
        info.outHeight,
        info.outWidth,
        ld,
      );
      if (gemm) {
        const out = backend.makeOutput([...filterShape], "float32");
        kernels.gemm_n8(heapOffset(backend, cols), heapOffset(backend, dy), heapOffset(backend, out), rows, co, pixels, ld);
        return out;
      }
      const dyRows: tf.TensorInfo = { dataId: dy.dataId, shape: [1, pixels, co], dtype: "float32" };
      const out = matMul.kernelFunc({ inputs: { a: cols, b: dyRows }, attrs: { transposeA: false, transposeB: false }, backend: args.backend }) as tf.TensorInfo;
      return { dataId: out.dataId, shape: filterShape, dtype: "float32" };
    } finally {
      backend.disposeData(cols.dataId);
    }
  };
}

/** dx = full correlation of the stride-dilated dy with the 180°-rotated filter (in/out channels swapped). */
function backpropInput(conv2d: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const attrs = args.attrs ?? {};
    checkNhwc("Conv2DBackpropInput", attrs);
    const inputShape = attrs.inputShape as [number, number, number, number];
    const filter = args.inputs.filter!;
    const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
    const info = convInfo(inputShape, filter.shape, attrs.strides as Pair, attrs.pad as Pad, attrs.dimRoundingMode as Rounding | undefined);
    const { top, left, bottom, right } = info.padInfo;
    const sh = info.strideHeight;
    const sw = info.strideWidth;
    const [n, h, wd] = inputShape;
    const oh = info.outHeight;
    const ow = info.outWidth;
    // Rotated filter wr[kh−1−i, kw−1−j, co, ci] = w[i, j, ci, co], by a heap kernel (tfjs Reverse + Transpose is slow).
    const rotated = backend.makeOutput([kh, kw, co, ci], "float32");
    heapKernels(backend).rotate_filter(heapOffset(backend, filter), heapOffset(backend, rotated), kh, kw, ci, co);
    // dx[h] = corr(d padded by (kh-1-top) on the left, flipped w)[h]; output length h needs this right padding:
    const padTop = kh - 1 - top;
    const padLeft = kw - 1 - left;
    const padBottom = h + top - ((oh - 1) * sh + 1);
    const padRight = wd + left - ((ow - 1) * sw + 1);
    if (sh === 1 && sw === 1 && padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0) {
      // The common case (stride 1): one shipped (XNNPACK) convolution, no tfjs ops.
      try {
        const pad = [
          [0, 0],
          [padTop, padBottom],
          [padLeft, padRight],
          [0, 0],
        ];
        return conv2d.kernelFunc({
          inputs: { x: args.inputs.dy!, filter: rotated },
          attrs: { strides: 1, pad, dataFormat: "NHWC", dilations: 1 } as never,
          backend: args.backend,
        });
      } finally {
        backend.disposeData(rotated.dataId);
      }
    }
    return tf.tidy(() => {
      const dy = asTensor(args.inputs.dy!) as tf.Tensor4D;
      const wr = tf.engine().makeTensorFromTensorInfo(rotated) as tf.Tensor4D; // owned: the tidy frees it
      if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top + bottom + left + right === 0) {
        const dx = tf.matMul(tf.reshape(dy, [-1, co]), tf.reshape(wr, [co, ci]));
        return tf.reshape(dx, inputShape);
      }
      let d: tf.Tensor4D = dy;
      if (sh > 1 || sw > 1) {
        // Insert (s - 1) zeros between rows and columns of dy.
        const z = tf.pad(tf.reshape(dy, [n, oh, 1, ow, 1, co]), [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ]);
        d = tf.slice(tf.reshape(z, [n, oh * sh, ow * sw, co]) as tf.Tensor4D, [0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, co]);
      }
      if (padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0) {
        return tf.conv2d(d, wr, 1, [
          [0, 0],
          [padTop, padBottom],
          [padLeft, padRight],
          [0, 0],
        ]);
      }
      // General case: gradient w.r.t. the padded input, then crop.
      let g = tf.conv2d(
        tf.pad(d, [
          [0, 0],
          [kh - 1, kh - 1],
          [kw - 1, kw - 1],
          [0, 0],
        ]),
        wr,
        1,
        "valid",
      );
      const hp = h + top + bottom;
      const wp = wd + left + right;
      const eh = hp - g.shape[1];
      const ew = wp - g.shape[2];
      if (eh > 0 || ew > 0) {
        g = tf.pad(g, [
          [0, 0],
          [0, Math.max(eh, 0)],
          [0, Math.max(ew, 0)],
          [0, 0],
        ]);
      }
      return tf.slice(g, [0, top, left, 0], [n, h, wd, ci]);
    });
  };
}

/** The permutation that swaps the last two axes of a rank-r tensor. */
function swapLastTwoPerm(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * Transposed operands are transposed by the shipped Transpose, then multiplied by the shipped XNNPACK product
 * (the shipped kernel's transposed path is a naive loop). Kernel calls only, no tfjs ops.
 */
function batchMatMul(prev: tf.KernelConfig, transpose: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const transposeA = args.attrs?.transposeA === true;
    const transposeB = args.attrs?.transposeB === true;
    if (!transposeA && !transposeB) return prev.kernelFunc(args);
    const backend = args.backend as unknown as WasmBackendInternals;
    const a0 = args.inputs.a!;
    const b0 = args.inputs.b!;
    if (!transposeA && a0.shape.length === 2 && b0.shape.length === 2 && a0.shape[1]! % 4 === 0 && a0.dtype === "float32") {
      // a · bᵀ of two matrices (a dense layer's input gradient): dot products of rows in place, no transpose.
      const [m, k] = a0.shape as [number, number];
      const n = b0.shape[0]!;
      const out = backend.makeOutput([m, n], "float32");
      heapKernels(backend).gemm_nt(heapOffset(backend, a0), heapOffset(backend, b0), heapOffset(backend, out), m, n, k);
      return out;
    }
    const temps: tf.TensorInfo[] = [];
    const swapped = (t: tf.TensorInfo): tf.TensorInfo => {
      const out = transpose.kernelFunc({ inputs: { x: t }, attrs: { perm: swapLastTwoPerm(t.shape.length) }, backend: args.backend }) as tf.TensorInfo;
      temps.push(out);
      return out;
    };
    try {
      const a = transposeA ? swapped(args.inputs.a!) : args.inputs.a!;
      const b = transposeB ? swapped(args.inputs.b!) : args.inputs.b!;
      return prev.kernelFunc({ inputs: { a, b }, attrs: { ...args.attrs, transposeA: false, transposeB: false }, backend: args.backend });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}

/**
 * Identity shares the input's data (one more reference) instead of copying it, as the cpu backend does. The engine
 * clones every tensor it saves for the backward pass, so the shipped copy cost a full pass over each saved
 * activation. Safe because no kernel writes into its inputs and `Variable.assign` swaps data rather than writing.
 */
function identity(prev: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x!;
    if (x.dtype === "string") return prev.kernelFunc(args);
    (args.backend as unknown as { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/**
 * MaxPoolGrad by the heap kernel `max_pool_grad` (the shipped one is a slow generic loop): each output's gradient
 * goes to the first maximum of its window in row-major window order, as on the cpu backend.
 */
function maxPoolGrad(): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const attrs = args.attrs ?? {};
    const x = args.inputs.input!;
    const dy = args.inputs.dy!;
    if (x.dtype !== "float32") throw new Error("MaxPoolGrad (wasm, @selmix/models): float32 only");
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterSize as number | Pair,
      attrs.strides as number | Pair,
      1,
      attrs.pad as Pad,
      attrs.dimRoundingMode as Rounding | undefined,
    );
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const out = backend.makeOutput([n, h, w, c], "float32");
    heapKernels(backend).max_pool_grad(
      heapOffset(backend, x),
      heapOffset(backend, dy),
      heapOffset(backend, out),
      n,
      h,
      w,
      c,
      info.outHeight,
      info.outWidth,
      info.filterHeight,
      info.filterWidth,
      info.strideHeight,
      info.strideWidth,
      info.padInfo.top,
      info.padInfo.left,
    );
    return out;
  };
}

/**
 * Registers fast training kernels for tfjs-backend-wasm 4.22.0. Call before `tf.setBackend("wasm")`
 * ({@link initBackend} does). Idempotent; a lower level after a higher one changes nothing.
 *
 * The kernels are plain kernels (heap kernels and shipped kernels called directly; tfjs ops only in rare fallback
 * paths, which the engine does not record on the gradient tape), so they serve `tf.grads`, `tf.variableGrads`,
 * optimizers, `tf.matMul` and `tf.conv2dTranspose` alike. They rely on engine and backend internals
 * (`makeTensorFromTensorInfo`, `backend.incRef`, `getMemoryOffset`, `wasm.asm.memory`), hence the exact tfjs pin;
 * the property tests fail if an update moves them.
 *
 * @returns the level now in effect.
 *
 * @example
 * {@includeCode ./examples.test.ts#registerWasmTrainingKernels}
 */
export function registerWasmTrainingKernels(level: WasmKernelLevel = "fast"): WasmKernelLevel {
  if (level === "none" || registeredLevel === "fast" || registeredLevel === level) return registeredLevel;
  if (level === "min") {
    replaceKernel("Conv2DBackpropFilter", () => backpropFilterIm2col());
    registeredLevel = "min";
    return registeredLevel;
  }
  const prevFilter = tf.getKernel("Conv2DBackpropFilter", WASM);
  if (prevFilter !== undefined && ours.has(prevFilter.kernelFunc)) {
    tf.unregisterKernel("Conv2DBackpropFilter", WASM);
    ours.delete(prevFilter.kernelFunc);
  }
  const shipped = (name: string): tf.KernelConfig => {
    const k = tf.getKernel(name, WASM);
    if (k === undefined) throw new Error(`tfjs-backend-wasm registers no ${name}`);
    return k;
  };
  const plainMatMul = shipped("BatchMatMul"); // not ours yet: "fast" registers once
  const conv2d = shipped("Conv2D");
  const transpose = shipped("Transpose");
  replaceKernel("Conv2DBackpropFilter", () => backpropFilterGemm(plainMatMul));
  replaceKernel("Conv2DBackpropInput", () => backpropInput(conv2d));
  replaceKernel("BatchMatMul", () => batchMatMul(plainMatMul, transpose));
  replaceKernel("Identity", (prev) => identity(prev!));
  replaceKernel("MaxPoolGrad", () => maxPoolGrad());
  registerConvBiasRelu();
  registeredLevel = "fast";
  return registeredLevel;
}

/**
 * The level registered so far in this process.
 *
 * @example
 * {@includeCode ./examples.test.ts#wasmTrainingKernelLevel}
 */
export function wasmTrainingKernelLevel(): WasmKernelLevel {
  return registeredLevel;
}
