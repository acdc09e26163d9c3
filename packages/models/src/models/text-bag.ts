import * as tf from "@tensorflow/tfjs-core";
import { createDense } from "../layers/conv.ts";
import type { BackboneBuilder } from "./backbone.ts";

/** Width of the bucket embeddings of `text-bag`. */
const EMBEDDING_DIM = 64;

/**
 * @internal Embedding bag for hashed n-grams: the input `[b, 1, B, 1]` is each text's bag of buckets (fractions
 * summing to 1), so `bag · E` is the mean of the bucket embeddings (E `[B, 64]`, N(0, 1) as embeddings usually
 * start); then dense 128 → ReLU (128-d features). A dense product, not `tf.gather`: the gather gradient needs
 * UnsortedSegmentSum, which tfjs-backend-wasm lacks.
 */
export const buildTextBag: BackboneBuilder = (store, [, buckets]) => {
  const init = new Float32Array(buckets * EMBEDDING_DIM);
  for (let i = 0; i < init.length; i++) init[i] = store.rng.normal();
  const embedding = store.add("embed.weight", "backbone", [buckets, EMBEDDING_DIM], init);
  const hidden = createDense(store, "fc", EMBEDDING_DIM, 128);
  return {
    featureDim: 128,
    constants: [],
    forward: (x) => tf.relu(hidden.apply(tf.matMul(tf.reshape(x, [x.shape[0], buckets]), embedding as tf.Tensor2D))),
  };
};
