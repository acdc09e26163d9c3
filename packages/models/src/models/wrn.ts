import * as tf from "@tensorflow/tfjs-core";
import { createBatchNorm, type ForwardContext } from "../layers/batch-norm.ts";
import { createConv } from "../layers/conv.ts";
import type { BackboneBuilder } from "./backbone.ts";

const SLOPE = 0.1;

/**
 * @internal WRN-28-2 as in the FixMatch/TorchSSL code the SelMix checkpoints come from: conv3×3 16, then 3 groups
 * of 4 pre-activation basic blocks (32, 64, 128 channels; stride 1, 2, 2), final BN → LeakyReLU(0.1) → global
 * average pooling: 128-d features. BN momentum 0.001, ε 1e-5, LeakyReLU slope 0.1 everywhere, dropout 0, convs
 * without bias, He-normal (fan-out) init.
 *
 * Faithful to the reference block: the first block of group 1 ("activate before residual") feeds BN+LReLU of its
 * input to both conv1 and the 1×1 shortcut; the first blocks of groups 2 and 3 feed the *raw* input to conv1 and
 * the shortcut (their pre-activation BN is computed and discarded by the reference, so it is omitted here).
 */
export const buildWrn28x2: BackboneBuilder = (store, [, , c]) => {
  const momentum = 0.001;
  const widths = [16, 32, 64, 128] as const;
  const lrelu = (t: tf.Tensor): tf.Tensor4D => tf.leakyRelu(t, SLOPE) as tf.Tensor4D;
  const stem = createConv(store, "conv1", 3, c, widths[0], 1, "out");
  type Block = (x: tf.Tensor4D, ctx: ForwardContext) => tf.Tensor4D;
  const blocks: Block[] = [];
  let cin: number = widths[0];
  for (let g = 0; g < 3; g++) {
    const width = widths[g + 1]!;
    for (let b = 0; b < 4; b++) {
      const name = `block${g + 1}.layer.${b}`;
      const stride = g > 0 && b === 0 ? 2 : 1;
      const equalInOut = cin === width;
      const activateBeforeResidual = g === 0 && b === 0;
      const bn1 = equalInOut || activateBeforeResidual ? createBatchNorm(store, `${name}.bn1`, cin, momentum) : undefined;
      const conv1 = createConv(store, `${name}.conv1`, 3, cin, width, stride, "out");
      const bn2 = createBatchNorm(store, `${name}.bn2`, width, momentum);
      const conv2 = createConv(store, `${name}.conv2`, 3, width, width, 1, "out");
      const shortcut = equalInOut ? undefined : createConv(store, `${name}.convShortcut`, 1, cin, width, stride, "out");
      blocks.push((x, ctx) => {
        const pre = bn1 === undefined ? x : lrelu(bn1.apply(x, ctx));
        const out = conv2.apply(lrelu(bn2.apply(conv1.apply(pre), ctx)));
        const residual = shortcut === undefined ? x : shortcut.apply(pre);
        return tf.add(residual, out) as tf.Tensor4D;
      });
      cin = width;
    }
  }
  const bnFinal = createBatchNorm(store, "bn1", cin, momentum);
  return {
    featureDim: cin,
    constants: [],
    forward: (x, ctx) => {
      let y = stem.apply(x);
      for (const block of blocks) y = block(y, ctx);
      return tf.mean(lrelu(bnFinal.apply(y, ctx)), [1, 2]) as tf.Tensor2D;
    },
  };
};
