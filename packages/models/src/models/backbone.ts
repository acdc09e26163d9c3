import type * as tf from "@tensorflow/tfjs-core";
import type { ForwardContext } from "../layers/batch-norm.ts";
import type { ParamStore } from "../layers/params.ts";

/** @internal A feature extractor: NHWC images to [batch, featureDim]. */
export interface Backbone {
  readonly featureDim: number;
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D;
  /** Constant tensors the backbone owns (freed by the model's dispose). */
  readonly constants: readonly tf.Tensor[];
}

/** @internal */
export type BackboneBuilder = (store: ParamStore, inputShape: readonly [number, number, number]) => Backbone;
