import * as tf from "@tensorflow/tfjs-core";
import { conv2dBiasRelu } from "../conv-bias-relu.ts";
import { createDense, createConvWeight } from "../layers/conv.ts";
import type { BackboneBuilder } from "./backbone.ts";

/**
 * @internal Small CNN for 28×28 and 32×32: [conv3×3 → ReLU → maxpool 2] with 32, 64, 128 channels, flatten,
 * dense 128 → ReLU (128-d features). Conv layers have a bias and no batch norm (speed on wasm).
 */
export const buildCnn: BackboneBuilder = (store, [h, w, c]) => {
  const widths = [32, 64, 128] as const;
  let cin = c;
  let oh = h;
  let ow = w;
  const stages = widths.map((cout, i) => {
    const weight = createConvWeight(store, `conv${i + 1}`, 3, cin, cout);
    const bias = store.add(`conv${i + 1}.bias`, "backbone", [cout], new Float32Array(cout));
    cin = cout;
    oh = Math.floor(oh / 2);
    ow = Math.floor(ow / 2);
    return (x: tf.Tensor4D): tf.Tensor4D => tf.maxPool(conv2dBiasRelu(x, weight as tf.Tensor4D, bias as tf.Tensor1D, "same"), 2, 2, "valid");
  });
  const fc = createDense(store, "fc", oh * ow * cin, 128);
  return {
    featureDim: 128,
    constants: [],
    forward: (x) => {
      let y = x;
      for (const stage of stages) y = stage(y);
      return tf.relu(fc.apply(tf.reshape(y, [y.shape[0], -1])));
    },
  };
};
