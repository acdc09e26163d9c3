import * as tf from "@tensorflow/tfjs-core";
import { filled, type ParamStore } from "./params.ts";

/**
 * How batch-norm layers behave.
 *
 * | mode | `training = true` | `training = false` | gamma/beta trainable |
 * |---|---|---|---|
 * | `"train"` | batch statistics; running statistics updated | running statistics | yes |
 * | `"frozen-stats"` | batch statistics; running statistics never updated | running statistics | no |
 * | `"eval"` | running statistics | running statistics | no |
 *
 * `"frozen-stats"` is SelMix fine-tuning (reference section 5.5: BN momentum 0, affine parameters frozen).
 */
export type BnMode = "train" | "frozen-stats" | "eval";

/** @internal What a forward pass needs to know. */
export interface ForwardContext {
  readonly training: boolean;
  readonly bnMode: BnMode;
}

/** @internal */
export interface BatchNorm {
  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor;
}

/** @internal PyTorch conventions: running = (1 - momentum)·running + momentum·batch, unbiased running variance. */
export function createBatchNorm(
  store: ParamStore,
  name: string,
  channels: number,
  momentum: number,
  epsilon = 1e-5,
): BatchNorm {
  const gamma = store.add(`${name}.gamma`, "norm", [channels], filled(channels, 1));
  const beta = store.add(`${name}.beta`, "norm", [channels], filled(channels, 0));
  const runningMean = store.add(`${name}.running_mean`, "state", [channels], filled(channels, 0));
  const runningVar = store.add(`${name}.running_var`, "state", [channels], filled(channels, 1));
  return {
    apply(x, ctx) {
      if (!ctx.training || ctx.bnMode === "eval") {
        const scale = tf.mul(gamma, tf.rsqrt(tf.add(runningVar, epsilon)));
        return tf.add(tf.mul(x, scale), tf.sub(beta, tf.mul(runningMean, scale)));
      }
      const axes = x.shape.slice(0, -1).map((_, i) => i);
      const { mean, variance } = tf.moments(x, axes);
      if (ctx.bnMode === "train") {
        const count = x.size / channels;
        tf.tidy(() => {
          const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
          runningMean.assign(tf.add(tf.mul(runningMean, 1 - momentum), tf.mul(mean, momentum)));
          runningVar.assign(tf.add(tf.mul(runningVar, 1 - momentum), tf.mul(unbiased, momentum)));
        });
      }
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
      return tf.add(tf.mul(tf.sub(x, mean), scale), beta);
    },
  };
}
