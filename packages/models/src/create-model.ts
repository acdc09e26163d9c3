import { createRng, SelmixError } from "@selmix/core";
import * as tf from "@tensorflow/tfjs-core";
import "./register-gradients.ts";
import type { BnMode } from "./layers/batch-norm.ts";
import { createHead } from "./layers/conv.ts";
import { createParamStore, type NamedArray } from "./layers/params.ts";
import type { HeadWeights, Model, ModelArch } from "./model.ts";
import type { BackboneBuilder } from "./models/backbone.ts";
import { buildCnn } from "./models/cnn.ts";
import { buildMlp } from "./models/mlp.ts";
import { buildResNet32 } from "./models/resnet32.ts";
import { buildTextBag } from "./models/text-bag.ts";
import { buildWrn28x2 } from "./models/wrn.ts";

/** Options of {@link createModel}. */
export interface CreateModelOptions {
  /** Architecture to build. */
  readonly arch: ModelArch;
  /** `[height, width, channels]`, e.g. `[28, 28, 1]` or `[32, 32, 3]`. */
  readonly inputShape: readonly [number, number, number];
  /** Number of classes K ≥ 2. */
  readonly numClasses: number;
  /** Seed of the initial weights: the same seed gives bit-identical weights on every backend. */
  readonly seed: number;
}

const BUILDERS: Record<ModelArch, { build: BackboneBuilder; minSide: number }> = {
  mlp: { build: buildMlp, minSide: 1 },
  cnn: { build: buildCnn, minSide: 8 },
  resnet32: { build: buildResNet32, minSide: 4 },
  "wrn-28-2": { build: buildWrn28x2, minSide: 4 },
  "text-bag": { build: buildTextBag, minSide: 1 },
};

/**
 * The architectures {@link createModel} accepts.
 *
 * @example
 * {@includeCode ./examples.test.ts#MODEL_ARCHS}
 */
export const MODEL_ARCHS: readonly ModelArch[] = ["mlp", "cnn", "resnet32", "wrn-28-2", "text-bag"];

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Builds a model with deterministic He/Kaiming-normal weights (drawn in JavaScript from `createRng(seed)`, then
 * uploaded, so every backend starts from the same bits). Batch norm starts in mode `"train"`.
 *
 * | arch | features | notes |
 * |---|---|---|
 * | `mlp` | 128 | flatten → 256 → 128, ReLU |
 * | `cnn` | 128 | 3 × (conv3×3 → ReLU → maxpool), 32/64/128 channels, dense 128; for 28×28 and 32×32 |
 * | `resnet32` | 64 | CIFAR ResNet-32, option-A shortcuts, BN |
 * | `wrn-28-2` | 128 | WRN-28-2 of FixMatch/SelMix: LeakyReLU 0.1, BN momentum 0.001 |
 * | `text-bag` | 128 | text: mean of 64-d bucket embeddings (input `[1, buckets, 1]`, the bag batch of a text dataset) → 128, ReLU |
 *
 * @throws `SelmixError` `INVALID_ARGUMENT` for an unknown `arch`; `INVALID_SHAPE` if `inputShape` is not
 *   three positive integers (spatial sides ≥ 8 for `cnn`, ≥ 4 for the ResNets, `[1, buckets, 1]` for `text-bag`); `INVALID_VALUE` if `numClasses` is
 *   not an integer ≥ 2 or `seed` not an integer.
 * @example
 * {@includeCode ./examples.test.ts#createModel}
 */
export function createModel(options: CreateModelOptions): Model {
  const { arch, numClasses, seed } = options;
  const spec = BUILDERS[arch];
  if (spec === undefined) {
    throw new SelmixError("INVALID_ARGUMENT", `arch must be one of ${MODEL_ARCHS.join(", ")}, got '${String(arch)}'`);
  }
  const shape = options.inputShape;
  if (
    !Array.isArray(shape) ||
    shape.length !== 3 ||
    !shape.every((d) => Number.isInteger(d) && d > 0) ||
    shape[0] < spec.minSide ||
    shape[1] < spec.minSide ||
    (arch === "text-bag" && (shape[0] !== 1 || shape[2] !== 1))
  ) {
    throw new SelmixError(
      "INVALID_SHAPE",
      arch === "text-bag"
        ? `inputShape must be [1, buckets, 1] for text-bag (a text dataset's bag batch), got ${JSON.stringify(shape)}`
        : `inputShape must be [height, width, channels] of positive integers with sides >= ${spec.minSide} for ${arch}, got ${JSON.stringify(shape)}`,
    );
  }
  if (!(Number.isInteger(numClasses) && numClasses >= 2)) {
    throw new SelmixError("INVALID_VALUE", `numClasses must be an integer >= 2, got ${numClasses}`);
  }
  const inputShape = [shape[0], shape[1], shape[2]] as const;
  const store = createParamStore(arch, createRng(seed));
  const backbone = spec.build(store, inputShape);
  const headLayer = createHead(store, backbone.featureDim, numClasses);
  const params = store.params;
  const byGroup = (g: string): tf.Variable[] => params.filter((p) => p.group === g).map((p) => p.variable);
  const paramGroups = { head: byGroup("head"), backbone: byGroup("backbone"), norm: byGroup("norm") };
  let bnMode: BnMode = "train";
  let disposed = false;

  const alive = (): void => {
    if (disposed) throw new Error(`${arch} model used after dispose()`);
  };
  const checkInput = (x: tf.Tensor4D): void => {
    alive();
    const s = x.shape;
    if (s.length !== 4 || s[1] !== inputShape[0] || s[2] !== inputShape[1] || s[3] !== inputShape[2]) {
      throw new SelmixError("INVALID_SHAPE", `x must be [batch, ${inputShape.join(", ")}], got ${shapeText(s)}`);
    }
  };
  const features = (x: tf.Tensor4D, training: boolean): tf.Tensor2D => {
    checkInput(x);
    return tf.tidy(() => backbone.forward(x, { training, bnMode }));
  };
  const head = (z: tf.Tensor2D): tf.Tensor2D => {
    alive();
    if (z.shape.length !== 2 || z.shape[1] !== backbone.featureDim) {
      throw new SelmixError("INVALID_SHAPE", `z must be [batch, ${backbone.featureDim}], got ${shapeText(z.shape)}`);
    }
    return tf.tidy(() => headLayer.apply(z));
  };

  const model: Model = {
    arch,
    inputShape,
    numClasses,
    featureDim: backbone.featureDim,
    get bnMode() {
      return bnMode;
    },
    setBnMode(mode) {
      if (mode !== "train" && mode !== "frozen-stats" && mode !== "eval") {
        throw new SelmixError("INVALID_ARGUMENT", `bnMode must be train, frozen-stats or eval, got '${String(mode)}'`);
      }
      bnMode = mode;
      for (const v of paramGroups.norm) v.trainable = mode === "train";
    },
    freezeBatchNorm(frozen) {
      model.setBnMode(frozen ? "frozen-stats" : "train");
    },
    features,
    head,
    logits(x, training) {
      checkInput(x);
      return tf.tidy(() => headLayer.apply(backbone.forward(x, { training, bnMode })));
    },
    paramGroups,
    trainableVariables() {
      return [...paramGroups.head, ...paramGroups.backbone, ...(bnMode === "train" ? paramGroups.norm : [])];
    },
    headWeights(): HeadWeights {
      alive();
      return {
        weight: Float32Array.from(headLayer.weight.dataSync()),
        bias: Float32Array.from(headLayer.bias.dataSync()),
        numClasses,
        featureDim: backbone.featureDim,
      };
    },
    weightSpecs() {
      return params.map((p) => ({ name: p.name, shape: [...p.shape], group: p.group }));
    },
    getWeights() {
      alive();
      return params.map((p) => ({ name: p.name, shape: [...p.shape], values: Float32Array.from(p.variable.dataSync()) }));
    },
    setWeights(weights: readonly NamedArray[]) {
      alive();
      const given = new Map<string, NamedArray>();
      for (const w of weights) {
        if (given.has(w.name)) throw new SelmixError("MISMATCH", `weight '${w.name}' given twice`);
        given.set(w.name, w);
      }
      for (const p of params) {
        const w = given.get(p.name);
        if (w === undefined) throw new SelmixError("MISMATCH", `weight '${p.name}' missing for ${arch}`);
        if (w.shape.length !== p.shape.length || w.shape.some((d, i) => d !== p.shape[i])) {
          throw new SelmixError("MISMATCH", `weight '${p.name}' has shape ${shapeText(w.shape)}, ${arch} expects ${shapeText(p.shape)}`);
        }
        const size = p.shape.reduce((a, b) => a * b, 1);
        if (w.values.length !== size) {
          throw new SelmixError("INVALID_SHAPE", `weight '${p.name}' has ${w.values.length} values for shape ${shapeText(w.shape)}`);
        }
      }
      if (given.size !== params.length) {
        const known = new Set(params.map((p) => p.name));
        const extra = [...given.keys()].filter((n) => !known.has(n));
        throw new SelmixError("MISMATCH", `unknown weights for ${arch}: ${extra.slice(0, 5).join(", ")}`);
      }
      for (const p of params) {
        const w = given.get(p.name)!;
        tf.tidy(() => p.variable.assign(tf.tensor(Float32Array.from(w.values), [...p.shape], "float32")));
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const p of params) p.variable.dispose();
      for (const t of backbone.constants) t.dispose();
    },
  };
  return model;
}
