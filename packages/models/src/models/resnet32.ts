import * as tf from "@tensorflow/tfjs-core";
import { createBatchNorm, type ForwardContext } from "../layers/batch-norm.ts";
import { createConv } from "../layers/conv.ts";
import type { BackboneBuilder } from "./backbone.ts";

/**
 * @internal CIFAR ResNet-32 (He et al. 2016, as in LDAM-DRW): conv3×3 16 → BN → ReLU, then 3 stages of 5 basic
 * blocks (16, 32, 64 channels; stride 2 at the start of stages 2 and 3), option-A shortcuts (stride-2 subsampling
 * plus zero channels), global average pooling: 64-d features. BN momentum 0.1, ε 1e-5.
 */
export const buildResNet32: BackboneBuilder = (store, [, , c]) => {
  const momentum = 0.1;
  const constants: tf.Tensor[] = [];
  const stem = createConv(store, "conv1", 3, c, 16, 1, "out");
  const stemBn = createBatchNorm(store, "bn1", 16, momentum);
  // Option-A shortcut as a fixed 1×1 stride-2 convolution: picks x[:, ::2, ::2, :] and places its channels in the
  // middle of the wider output (planes/4 zero channels on each side).
  const shortcutFilter = (cin: number, cout: number): tf.Tensor4D => {
    const values = new Float32Array(cin * cout);
    const offset = (cout - cin) / 2;
    for (let i = 0; i < cin; i++) values[i * cout + offset + i] = 1;
    const t = tf.tensor4d(values, [1, 1, cin, cout]);
    constants.push(t);
    return t;
  };
  type Block = (x: tf.Tensor4D, ctx: ForwardContext) => tf.Tensor4D;
  const blocks: Block[] = [];
  let cin = 16;
  [16, 32, 64].forEach((width, stage) => {
    for (let b = 0; b < 5; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const name = `layer${stage + 1}.${b}`;
      const conv1 = createConv(store, `${name}.conv1`, 3, cin, width, stride, "out");
      const bn1 = createBatchNorm(store, `${name}.bn1`, width, momentum);
      const conv2 = createConv(store, `${name}.conv2`, 3, width, width, 1, "out");
      const bn2 = createBatchNorm(store, `${name}.bn2`, width, momentum);
      const sc = stride !== 1 || cin !== width ? shortcutFilter(cin, width) : undefined;
      blocks.push((x, ctx) => {
        const out = bn2.apply(conv2.apply(tf.relu(bn1.apply(conv1.apply(x), ctx)) as tf.Tensor4D), ctx);
        const shortcut = sc === undefined ? x : tf.conv2d(x, sc, 2, "valid");
        return tf.relu(tf.add(out, shortcut)) as tf.Tensor4D;
      });
      cin = width;
    }
  });
  return {
    featureDim: 64,
    constants,
    forward: (x, ctx) => {
      let y = tf.relu(stemBn.apply(stem.apply(x), ctx)) as tf.Tensor4D;
      for (const block of blocks) y = block(y, ctx);
      return tf.mean(y, [1, 2]) as tf.Tensor2D;
    },
  };
};
