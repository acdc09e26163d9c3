import * as tf from "@tensorflow/tfjs-core";
import { heapKernels, heapOffset, type WasmBackendInternals } from "./wasm-heap.ts";

/** Kernel of {@link conv2dBiasRelu} on wasm: the shipped FusedConv2D (XNNPACK), with a gradient of our own. */
export const CONV_BIAS_RELU = "SelmixConv2DBiasRelu";
/** Kernel of the ReLU + bias gradient: [dz, dbias] from the ReLU output y and dy, one pass over the heap. */
export const RELU_BIAS_GRAD = "SelmixReluBiasGrad";

type Pad = "same" | "valid";
const WASM = "wasm";

/**
 * @internal relu(conv2d(x, filter, stride 1, pad) + bias), NHWC. On wasm (with the fast kernels registered) one
 * fused XNNPACK convolution, and a backward pass of one heap kernel for the ReLU and bias gradients plus the two
 * convolution gradients, each computed only when the tape needs it (the first layer's input gradient never is).
 * Elsewhere the plain tfjs ops, with the same result up to rounding.
 */
export function conv2dBiasRelu(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, pad: Pad): tf.Tensor4D {
  if (tf.getBackend() === WASM && tf.getKernel(CONV_BIAS_RELU, WASM) !== undefined) {
    return tf.engine().runKernel(CONV_BIAS_RELU, { x, filter, bias }, { pad }) as tf.Tensor4D;
  }
  return tf.relu(tf.add(tf.conv2d(x, filter, 1, pad), bias));
}

function forward(fused: tf.KernelConfig): tf.KernelFunc {
  return ({ inputs, attrs, backend }) =>
    fused.kernelFunc({
      inputs: { x: inputs.x!, filter: inputs.filter!, bias: inputs.bias! },
      attrs: { strides: 1, pad: attrs?.pad, dataFormat: "NHWC", dilations: 1, activation: "relu" } as never,
      backend,
    });
}

function reluBiasGrad(): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const b = backend as unknown as WasmBackendInternals;
    const y = inputs.y!;
    const dy = inputs.dy!;
    if (y.dtype !== "float32" || dy.dtype !== "float32") throw new Error(`${RELU_BIAS_GRAD} (wasm, @selmix/models): float32 only`);
    const c = y.shape[y.shape.length - 1]!;
    const dz = b.makeOutput([...y.shape], "float32");
    const dbias = b.makeOutput([c], "float32");
    heapKernels(b).relu_bias_grad(heapOffset(b, y), heapOffset(b, dy), heapOffset(b, dz), heapOffset(b, dbias), y.shape.reduce((p, d) => p * d, 1) / c, c);
    return [dz, dbias];
  };
}

let registered = false;

/** @internal Registers both kernels on wasm and the gradient of {@link CONV_BIAS_RELU}; idempotent. */
export function registerConvBiasRelu(): void {
  if (registered) return;
  const fused = tf.getKernel("FusedConv2D", WASM);
  if (fused === undefined) throw new Error("tfjs-backend-wasm registers no FusedConv2D");
  tf.registerKernel({ kernelName: CONV_BIAS_RELU, backendName: WASM, kernelFunc: forward(fused) });
  tf.registerKernel({ kernelName: RELU_BIAS_GRAD, backendName: WASM, kernelFunc: reluBiasGrad() });
  tf.registerGradient({
    kernelName: CONV_BIAS_RELU,
    inputsToSave: ["x", "filter"],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const pad = (attrs as { pad: Pad }).pad;
      const [dz, dbias] = tf.engine().runKernel(RELU_BIAS_GRAD, { y, dy: dy as tf.Tensor }, {}) as [tf.Tensor4D, tf.Tensor1D];
      const conv = { strides: 1, pad, dataFormat: "NHWC" };
      return {
        x: () => tf.engine().runKernel("Conv2DBackpropInput", { dy: dz, filter }, { ...conv, inputShape: x.shape } as never) as tf.Tensor,
        filter: () => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy: dz }, { ...conv, filterShape: filter.shape } as never) as tf.Tensor,
        bias: () => dbias,
      };
    },
  });
  registered = true;
}
