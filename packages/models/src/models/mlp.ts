import * as tf from "@tensorflow/tfjs-core";
import { createDense } from "../layers/conv.ts";
import type { BackboneBuilder } from "./backbone.ts";

/** @internal MLP: flatten → 256 → ReLU → 128 → ReLU (128-d features). */
export const buildMlp: BackboneBuilder = (store, [h, w, c]) => {
  const fc1 = createDense(store, "fc1", h * w * c, 256);
  const fc2 = createDense(store, "fc2", 256, 128);
  return {
    featureDim: 128,
    constants: [],
    forward: (x) => tf.relu(fc2.apply(tf.relu(fc1.apply(tf.reshape(x, [x.shape[0], -1]))))),
  };
};
