import type { Model, NamedArray } from "@selmix/models";
import * as tf from "@tensorflow/tfjs-core";
import { fixMatchLoss, weakPosterior } from "../fixmatch.ts";
import { crossEntropy, mixedCrossEntropy } from "../losses.ts";
import type { BatchPart, ShardLoss, StepRequest } from "./protocol.ts";

/**
 * The model's variables under their `weightSpecs` names. `paramGroups` lists each group's variables in the order of
 * `weightSpecs`, so zipping them per group gives the name of every variable without reaching into the model.
 */
export function variablesByName(model: Model): Map<string, tf.Variable> {
  const specs = model.weightSpecs();
  const out = new Map<string, tf.Variable>();
  for (const group of ["head", "backbone", "norm"] as const) {
    const names = specs.filter((s) => s.group === group).map((s) => s.name);
    model.paramGroups[group].forEach((v, i) => {
      out.set(names[i]!, v);
    });
  }
  return out;
}

/** @internal The shard's loss parts (the first is differentiated) from its tensors. */
function lossParts(model: Model, loss: ShardLoss, t: Record<string, tf.Tensor>, request: StepRequest, adjustment: tf.Tensor1D | undefined): tf.Scalar[] {
  const { totals, extras } = request;
  const labels = t.labels as tf.Tensor1D;
  switch (loss.kind) {
    case "ce":
      return [crossEntropy(model.logits(t.x as tf.Tensor4D, true), labels, adjustment, totals.labels)];
    case "fixmatch": {
      const b = t.labeled!.shape[0]!;
      const u = t.weak!.shape[0]!;
      const x = tf.concat([t.labeled!, t.weak!, t.strong!], 0) as tf.Tensor4D;
      const logits = model.logits(x, true);
      const adjustU = extras.unlabeledAdjustment === undefined ? undefined : tf.tensor1d(extras.unlabeledAdjustment);
      const alignment = extras.alignment === undefined ? undefined : tf.tensor1d(extras.alignment);
      const lossValues = fixMatchLoss(logits, labels, b, u, loss.threshold, loss.lambdaU, adjustment, adjustU, { b: totals.labels!, u: totals.weak! }, alignment);
      if (!extras.weakPosterior) return lossValues;
      return [...lossValues, ...(tf.unstack(weakPosterior(logits, b, u, adjustU, totals.weak!)) as tf.Scalar[])];
    }
    case "mixup":
      return [mixupLoss(model, t, totals.labels)];
  }
}

/**
 * The loss of a SelMix step from its tensors: cross-entropy of head(z), z = λ·g(x1) + (1 − λ)·g(x2), or g(x1) alone
 * when there is no `x2` (input mixing already mixed x1); on x1's `labels`, or on the soft label of `labelWeights`
 * and `partnerLabels` when given. With `denominator`: the shard's share of a batch of that many rows.
 */
export function mixupLoss(model: Model, t: Readonly<Record<string, tf.Tensor>>, denominator?: number): tf.Scalar {
  const g1 = model.features(t.x1 as tf.Tensor4D, true);
  const lam = t.lambdas;
  const z = t.x2 === undefined ? g1 : tf.add(tf.mul(lam!, g1), tf.mul(tf.sub(1, lam!), model.features(t.x2 as tf.Tensor4D, true)));
  const logits = model.head(z as tf.Tensor2D);
  const labels = t.labels as tf.Tensor1D;
  if (t.labelWeights === undefined) return crossEntropy(logits, labels, undefined, denominator);
  return mixedCrossEntropy(logits, labels, t.partnerLabels as tf.Tensor1D, t.labelWeights as tf.Tensor2D, denominator);
}

/** The tensors of a step's parts: images as `[rows, H, W, C]`, int32 parts as `[rows]`, other floats as `[rows, width]`. */
export function batchTensors(parts: Readonly<Record<string, BatchPart>>, inputShape: readonly [number, number, number]): Record<string, tf.Tensor> {
  const [h, w, c] = inputShape;
  const t: Record<string, tf.Tensor> = {};
  for (const [name, part] of Object.entries(parts)) {
    if (part.data instanceof Int32Array) t[name] = tf.tensor1d(part.data, "int32");
    else if (part.data.length === part.rows * h * w * c) t[name] = tf.tensor4d(part.data, [part.rows, h, w, c]);
    else t[name] = tf.tensor2d(part.data, [part.rows, part.data.length / part.rows]);
  }
  return t;
}

/** What {@link shardGradients} computes for one shard. */
export interface ShardResult {
  readonly grads: Float32Array[];
  readonly values: number[];
  readonly state: NamedArray[];
}

/**
 * One shard of a data-parallel step, on `model` (a worker's replica): loads the weights, runs the loss on the
 * shard's rows and returns the gradients of `variables` (in order), the loss parts and, in batch-norm `"train"` mode,
 * the updated running statistics. Leaves no tensor behind.
 */
export function shardGradients(
  model: Model,
  loss: ShardLoss,
  variables: readonly tf.Variable[],
  adjustment: tf.Tensor1D | undefined,
  request: StepRequest,
): ShardResult {
  model.setWeights(request.weights);
  model.setBnMode(request.bnMode);
  // tidy returns tensors only: it walks whatever it returns, and a walk of big Float32Arrays is slow
  const { grads, values } = tf.tidy(() => {
    const t = batchTensors(request.parts, model.inputShape);
    let rest: tf.Tensor | undefined;
    const out = tf.variableGrads(() => {
      const [total, ...others] = lossParts(model, loss, t, request, adjustment);
      rest = tf.keep(tf.stack([total!, ...others]));
      return total!;
    }, variables as tf.Variable[]);
    return { grads: variables.map((v) => out.grads[v.name]!), values: rest! };
  });
  const arrays = grads.map((g) => g.dataSync().slice() as Float32Array);
  const parts = Array.from(values.dataSync());
  tf.dispose([...grads, values]);
  const specs = model.weightSpecs();
  const state = request.bnMode === "train" && specs.some((s) => s.group === "state") ? model.getWeights().filter((_, i) => specs[i]!.group === "state") : [];
  return { grads: arrays, values: parts, state };
}
