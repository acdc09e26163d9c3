import type * as tf from "@tensorflow/tfjs-core";
import type { BnMode } from "./layers/batch-norm.ts";
import type { NamedArray, WeightSpec } from "./layers/params.ts";

/** The backbones {@link createModel} builds. */
export type ModelArch = "mlp" | "cnn" | "resnet32" | "wrn-28-2" | "text-bag";

/** Trainable variables split for layer-wise learning rates (reference section 5.5). */
export interface ParamGroups {
  /** Classifier weight `[numClasses, featureDim]` and bias `[numClasses]`. */
  readonly head: readonly tf.Variable[];
  /** Every other trained weight (convolutions, dense layers and their biases). */
  readonly backbone: readonly tf.Variable[];
  /** Batch-norm gamma and beta; empty for MLP and CNN. Not trainable while BN is frozen. */
  readonly norm: readonly tf.Variable[];
}

/** The classifier as plain arrays, e.g. for the gain computation. */
export interface HeadWeights {
  /** Row-major `[numClasses, featureDim]`: logits = z·Wᵀ + b. */
  readonly weight: Float32Array;
  /** `[numClasses]`. */
  readonly bias: Float32Array;
  /** Number of classes K. */
  readonly numClasses: number;
  /** Feature dimension d. */
  readonly featureDim: number;
}

/**
 * A classifier split into a feature extractor and a linear head, so a trainer can mix features
 * (`head(λ·features(x1) + (1 − λ)·features(x2))`) and get gradients for head and backbone in one `tf.variableGrads`.
 *
 * Tensor methods follow the tfjs ownership rules: they never dispose their arguments, they free their
 * intermediates, and the caller owns (and disposes) what they return. Call them inside `tf.tidy` or
 * `tf.variableGrads` when training.
 */
export interface Model {
  /** Architecture. */
  readonly arch: ModelArch;
  /** `[height, width, channels]` of one input image (NHWC). */
  readonly inputShape: readonly [number, number, number];
  /** Number of classes K. */
  readonly numClasses: number;
  /** Width of {@link Model.features}: MLP 128, CNN 128, ResNet-32 64, WRN-28-2 128, text-bag 128. */
  readonly featureDim: number;
  /** Current batch-norm behaviour; see {@link BnMode}. Starts as `"train"`. */
  readonly bnMode: BnMode;
  /**
   * Sets the batch-norm behaviour. `"frozen-stats"` and `"eval"` also mark gamma/beta `trainable = false`, so a
   * `tf.variableGrads` without a variable list skips them.
   */
  setBnMode(mode: BnMode): void;
  /** Shorthand: `true` → `"frozen-stats"` (SelMix fine-tuning), `false` → `"train"`. */
  freezeBatchNorm(frozen: boolean): void;
  /**
   * Penultimate features.
   *
   * @param x - images `[batch, height, width, channels]`, float32.
   * @param training - batch-norm uses batch statistics when true (unless the mode is `"eval"`); in `"train"` mode
   *   the running statistics are also updated.
   * @returns `[batch, featureDim]`.
   * @throws `SelmixError` `INVALID_SHAPE` if `x` is not `[batch, ...inputShape]`.
   */
  features(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
  /**
   * Logits `z·Wᵀ + b`.
   *
   * @param z - features `[batch, featureDim]`.
   * @returns `[batch, numClasses]`.
   * @throws `SelmixError` `INVALID_SHAPE` if `z` is not `[batch, featureDim]`.
   */
  head(z: tf.Tensor2D): tf.Tensor2D;
  /** `head(features(x, training))`. @throws `SelmixError` `INVALID_SHAPE` as {@link Model.features}. */
  logits(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
  /** Trainable variables by group (the groups never change; `norm` variables may be marked non-trainable). */
  readonly paramGroups: ParamGroups;
  /** `head`, `backbone`, and `norm` unless batch norm is frozen: the list to pass to `tf.variableGrads`. */
  trainableVariables(): tf.Variable[];
  /** The classifier as plain Float32Arrays (copies). */
  headWeights(): HeadWeights;
  /** Name, shape and group of every weight, including batch-norm running statistics, in a fixed order. */
  weightSpecs(): WeightSpec[];
  /** Copies of every weight (see {@link Model.weightSpecs}), in the same order. */
  getWeights(): NamedArray[];
  /**
   * Overwrites every weight. Each name of {@link Model.weightSpecs} must appear exactly once with its shape.
   *
   * @throws `SelmixError` `MISMATCH` if a name is missing, unknown or repeated, or a shape differs;
   *   `INVALID_SHAPE` if `values.length` does not match `shape`.
   */
  setWeights(weights: readonly NamedArray[]): void;
  /** Frees every variable and constant. The model must not be used afterwards. */
  dispose(): void;
}
