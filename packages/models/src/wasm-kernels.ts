import * as tf from "@tensorflow/tfjs-core";

/**
 * Which wasm training kernels to register.
 *
 * - `"fast"`: `Conv2DBackpropFilter` (missing in tfjs-backend-wasm 4.22.0), `Conv2DBackpropInput` and
 *   `BatchMatMul` with transposed operands (both naive loops as shipped), each routed through XNNPACK's forward
 *   convolution or plain matrix product; plus `MaxPoolGrad` as a tight JavaScript loop over the wasm heap.
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

/** dW[kh, kw, ci, co] = Σ_{n, y, x} xPadded[n, y·s + i, x·s + j, ci] · dy[n, y, x, co]. */
function backpropFilter(level: WasmKernelLevel): tf.KernelFunc {
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
      if (level === "fast") {
        // Correlate x (as a batch of ci one-image planes with N channels) with dy (as an oh x ow filter mapping N
        // channels to co), dilated by the stride; keep the first kh x kw outputs.
        const xt = tf.transpose(xp, [3, 1, 2, 0]);
        const dyt = tf.transpose(dy, [1, 2, 0, 3]);
        const g = tf.conv2d(xt, dyt, 1, "valid", "NHWC", [sh, sw]);
        const gk = g.shape[1] === kh && g.shape[2] === kw ? g : tf.slice(g, [0, 0, 0, 0], [ci, kh, kw, co]);
        return tf.transpose(gk, [1, 2, 0, 3]);
      }
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

/** dx = full correlation of the stride-dilated dy with the 180°-rotated filter (in/out channels swapped). */
function backpropInput(): tf.KernelFunc {
  return (args) => {
    const attrs = args.attrs ?? {};
    checkNhwc("Conv2DBackpropInput", attrs);
    const inputShape = attrs.inputShape as [number, number, number, number];
    return tf.tidy(() => {
      const dy = asTensor(args.inputs.dy!) as tf.Tensor4D;
      const w = asTensor(args.inputs.filter!) as tf.Tensor4D;
      const [kh, kw, ci, co] = w.shape;
      const info = convInfo(
        inputShape,
        w.shape,
        attrs.strides as Pair,
        attrs.pad as Pad,
        attrs.dimRoundingMode as Rounding | undefined,
      );
      const { top, left, bottom, right } = info.padInfo;
      const sh = info.strideHeight;
      const sw = info.strideWidth;
      const [n, h, wd] = inputShape;
      const oh = dy.shape[1];
      const ow = dy.shape[2];
      if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top + bottom + left + right === 0) {
        const dx = tf.matMul(tf.reshape(dy, [-1, co]), tf.reshape(w, [ci, co]), false, true);
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
      const wr = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
      const lh = d.shape[1];
      const lw = d.shape[2];
      // dx[h] = corr(d padded by (kh-1-top) on the left, flipped w)[h]; output length h needs this right padding:
      const padTop = kh - 1 - top;
      const padLeft = kw - 1 - left;
      const padBottom = h + top - lh;
      const padRight = wd + left - lw;
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

function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  const r = perm.length;
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(t, perm);
}

/** Transposed operands are transposed explicitly, then multiplied by XNNPACK's plain (fast) path. */
function batchMatMul(prev: tf.KernelConfig | undefined): tf.KernelFunc {
  if (prev === undefined) throw new Error("BatchMatMul is not registered for wasm");
  return (args) => {
    const transposeA = args.attrs?.transposeA === true;
    const transposeB = args.attrs?.transposeB === true;
    if (!transposeA && !transposeB) return prev.kernelFunc(args);
    return tf.tidy(() => {
      let a = asTensor(args.inputs.a!);
      let b = asTensor(args.inputs.b!);
      if (transposeA) a = swapLastTwo(a);
      if (transposeB) b = swapLastTwo(b);
      return tf.matMul(a, b);
    });
  };
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/**
 * MaxPoolGrad as a JavaScript loop over the wasm heap (the shipped one is a slow generic loop): each output's
 * gradient goes to the first maximum of its window in row-major window order, as on the cpu backend.
 */
function maxPoolGrad(): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as HeapBackend;
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
    const { outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const out = backend.makeOutput([n, h, w, c], "float32");
    // Views only after makeOutput: a heap growth detaches older views.
    const dx = backend.typedArrayFromHeap(out);
    const xv = backend.typedArrayFromHeap(x);
    const dyv = backend.typedArrayFromHeap(dy);
    dx.fill(0);
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        const y0 = oy * sh - top;
        const yStart = Math.max(0, y0);
        const yEnd = Math.min(h, y0 + fh);
        for (let ox = 0; ox < ow; ox++) {
          const x0 = ox * sw - left;
          const xStart = Math.max(0, x0);
          const xEnd = Math.min(w, x0 + fw);
          const dyBase = ((b * oh + oy) * ow + ox) * c;
          for (let ch = 0; ch < c; ch++) {
            let best = Number.NEGATIVE_INFINITY;
            let at = -1;
            for (let yy = yStart; yy < yEnd; yy++) {
              let idx = ((b * h + yy) * w + xStart) * c + ch;
              for (let xx = xStart; xx < xEnd; xx++, idx += c) {
                const v = xv[idx]!;
                if (v > best || at < 0) {
                  best = v;
                  at = idx;
                }
              }
            }
            if (at >= 0) dx[at] = dx[at]! + dyv[dyBase + ch]!;
          }
        }
      }
    }
    return out;
  };
}

/**
 * Registers fast training kernels for tfjs-backend-wasm 4.22.0. Call before `tf.setBackend("wasm")`
 * ({@link initBackend} does). Idempotent; a lower level after a higher one changes nothing.
 *
 * The kernels run tfjs ops inside a kernel (the engine does not record them on the gradient tape), so they serve
 * `tf.grads`, `tf.variableGrads`, optimizers, `tf.matMul` and `tf.conv2dTranspose` alike. They rely on engine
 * internals (`makeTensorFromTensorInfo`, `backend.incRef`), hence the exact tfjs pin.
 *
 * @returns the level now in effect.
 *
 * @example
 * {@includeCode ./examples.test.ts#registerWasmTrainingKernels}
 */
export function registerWasmTrainingKernels(level: WasmKernelLevel = "fast"): WasmKernelLevel {
  if (level === "none" || registeredLevel === "fast" || registeredLevel === level) return registeredLevel;
  if (level === "min") {
    replaceKernel("Conv2DBackpropFilter", () => backpropFilter("min"));
    registeredLevel = "min";
    return registeredLevel;
  }
  const prevFilter = tf.getKernel("Conv2DBackpropFilter", WASM);
  if (prevFilter !== undefined && ours.has(prevFilter.kernelFunc)) {
    tf.unregisterKernel("Conv2DBackpropFilter", WASM);
    ours.delete(prevFilter.kernelFunc);
  }
  replaceKernel("Conv2DBackpropFilter", () => backpropFilter("fast"));
  replaceKernel("Conv2DBackpropInput", () => backpropInput());
  replaceKernel("BatchMatMul", (prev) => batchMatMul(prev));
  replaceKernel("MaxPoolGrad", () => maxPoolGrad());
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
