import { existsSync } from "node:fs";
import { join } from "node:path";
import { createRng, rngFromState, SelmixError } from "@selmix/core";
import { type AugmentFill, type AugmentOptions, classHistogram, type Dataset, imageSize, type Subset, toFloatBatch } from "@selmix/datasets";
import type { MetricReport } from "@selmix/metrics";
import { type JsonValue, loadCheckpoint, type Model, type NamedArray, saveCheckpoint } from "@selmix/models";
import { createInstanceBalancedSampler, type InstanceSamplerState } from "@selmix/samplers";
import * as tf from "@tensorflow/tfjs-core";
import { createEma } from "./ema.ts";
import { yieldToEventLoop } from "./event-loop.ts";
import { evaluate } from "./evaluate.ts";
import { crossEntropy, logPriorAdjustment } from "./losses.ts";
import { imagePart, intPart } from "./parallel/batch-parts.ts";
import { type GradientWorkers, startGradientWorkers } from "./parallel/gradient-workers.ts";
import type { PretrainIo, PretrainResult } from "./pretrain.ts";
import type { SelectionMetric } from "./progress.ts";
import { type ScheduleName, scheduleFactor } from "./schedule.ts";
import { resumeFromLast } from "./resume.ts";
import { runIdentity } from "./run-identity.ts";
import { validateAndKeepBest, withEvalWeights } from "./selection.ts";
import { createSgd } from "./sgd.ts";

/** The class prior FixMatch-LA assumes for the unlabelled pool (see {@link FixMatchConfig.unlabeledPrior}). */
export type UnlabeledPrior = "uniform" | "labelled" | "estimated";

/**
 * Every {@link UnlabeledPrior}.
 *
 * @example
 * {@includeCode ./examples.test.ts#UNLABELED_PRIORS}
 */
export const UNLABELED_PRIORS: readonly UnlabeledPrior[] = ["uniform", "labelled", "estimated"];

/** FixMatch (Sohn et al., 2020) and FixMatch with a logit-adjusted supervised loss (the SelMix pre-training). */
export interface FixMatchConfig {
  /** `fixmatch`: plain CE on the labelled batch; `fixmatch-la`: τ·log(labelled prior) added to the labelled logits. */
  readonly method: "fixmatch" | "fixmatch-la";
  /** Optimizer steps. */
  readonly steps: number;
  /** Labelled batch B. */
  readonly batchSize: number;
  /** Unlabelled ratio: each step draws mu·B unlabelled images, each with a weak and a strong view. */
  readonly mu: number;
  /** Confidence threshold of the pseudo-labels (max softmax of the weak view). */
  readonly threshold: number;
  /** Weight of the unlabelled loss. */
  readonly lambdaU: number;
  /** Peak learning rate. */
  readonly lr: number;
  /** SGD momentum. */
  readonly momentum: number;
  /** Nesterov momentum. */
  readonly nesterov: boolean;
  /** L2 weight decay of head and backbone weights (none on biases and batch-norm parameters). */
  readonly weightDecay: number;
  /** `fixmatch-cosine` = lr·cos(7πk / 16K), no warm-up. */
  readonly schedule: ScheduleName;
  /** EMA decay of the weights; the EMA is evaluated, selected and returned. 0 turns EMA off. */
  readonly ema: number;
  /**
   * Warm-up of the EMA decay, min(ema, (1 + t) / (10 + t)) at step t, so a short run does not evaluate a blend
   * with the random initial weights (the reference has none; over its 2^20 steps it makes no difference).
   */
  readonly emaWarmup: boolean;
  /** Validation every this many steps (and at the end); `last.ckpt` is written at the same time. */
  readonly evalEvery: number;
  /** Metric of the validation set that picks the best (EMA) weights. */
  readonly selectBy: SelectionMetric;
  /** τ of the logit adjustment (`fixmatch-la`; the reference uses 1). */
  readonly laTau: number;
  /**
   * The class prior assumed for the unlabelled pool (`fixmatch-la`). `uniform` (the reference): the unlabelled loss
   * is plain CE on the balanced logits. `labelled`: the labelled prior, as when ρ_u = ρ_l: pseudo-labels are the
   * argmax of the weak logits + τ·log prior and the unlabelled CE gets the same adjustment, so the pseudo-labelled
   * data is trained with the logit-adjusted loss too and a head-heavy pool does not pull the model to the head.
   * `estimated`: the same with a prior estimated from the unlabelled images themselves (EM of Saerens et al., 2002,
   * one step per batch: π ← 0.99·π + 0.01·mean softmax(weak + τ·log π), from uniform), for any ρ_u.
   */
  readonly unlabeledPrior: UnlabeledPrior;
  /**
   * Distribution alignment (ReMixMatch, Berthelot et al., 2020): the weak-view posteriors that make the pseudo-labels
   * are multiplied by target / m and renormalised, m the running mean (0.99 per step) of those posteriors and the
   * target the assumed unlabelled prior (`uniform` or `labelled`), so the pseudo-labels do not drift to the classes
   * the model already over-predicts. Only the pseudo-labels and their mask are aligned, not the strong view's loss.
   * Off when absent (not applicable with the `estimated` prior: its estimate is that running mean already).
   */
  readonly distributionAlignment?: boolean;
  /** Horizontal flips in the weak and strong augmentations (false for digits). */
  readonly flip: boolean;
  /** Reflect-padding of the weak view's random crop (4 in the reference; 0 keeps images in place for an MLP). */
  readonly padding: number;
  /** Fill of the strong view's geometric ops and Cutout: a byte, `border` (0 on black backgrounds) or `mean`. */
  readonly fill: AugmentFill;
  /** RandAugment operations per strong view (the reference's RandAugment(3, 5): 3). */
  readonly randAugmentOps: number;
  /** RandAugment magnitude, 0..10 (the reference: 5), or `random` (uniform strength per op, FixMatch's RA). */
  readonly randAugmentMagnitude: number | "random";
  /** Seed of the sampling and augmentation. */
  readonly seed: number;
  /** Gradient worker threads (data parallel); absent or 1 trains in this thread. See `PretrainConfig.workers`. */
  readonly workers?: number;
}

/**
 * CPU defaults (Fashion-MNIST-LT / MNIST-LT on the wasm backend): B = 64, mu = 2, 3000 steps, validation every 500
 * steps. The recipe itself is the reference's (threshold 0.95, λ_u = 1, lr 0.03, Nesterov momentum 0.9, weight decay
 * 5e-4, FixMatch cosine, EMA 0.999, LA with τ = 1). Measured on a 2-core CPU: `mlp` about 58 ms per step (3000
 * steps ≈ 3 min), `cnn` about 1.6 s per step in one thread (use a few hundred steps, `workers` for every core, or a GPU
 * backend).
 *
 * On a GPU, use the reference configs: WRN-28-2, B = 64, mu = 2 (`uratio: 2`), `steps: 2 ** 20` (1,048,576),
 * `evalEvery: 5000`. The FixMatch paper itself uses mu = 7.
 *
 * @example
 * {@includeCode ./examples.test.ts#DEFAULT_FIXMATCH_CONFIG}
 */
export const DEFAULT_FIXMATCH_CONFIG: FixMatchConfig = {
  method: "fixmatch-la",
  steps: 3000,
  batchSize: 64,
  mu: 2,
  threshold: 0.95,
  lambdaU: 1,
  lr: 0.03,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 5e-4,
  schedule: "fixmatch-cosine",
  ema: 0.999,
  emaWarmup: true,
  evalEvery: 500,
  selectBy: "mean-recall",
  laTau: 1,
  unlabeledPrior: "uniform",
  flip: false,
  padding: 4,
  fill: "border",
  randAugmentOps: 3,
  randAugmentMagnitude: 5,
  seed: 0,
};

/** Checkpoints and progress of {@link pretrainFixMatch}: those of `pretrain`, plus a simulated kill. */
export interface FixMatchIo extends PretrainIo {
  /** Stop after this many steps, writing `last.ckpt` when a checkpoint directory is set (a kill, for tests). */
  readonly stopAfterStep?: number;
}

/** One validation point of a FixMatch run. `loss` is the total loss of the last step before it. */
export interface FixMatchHistoryEntry {
  /** Step of the validation. */
  readonly step: number;
  /** Validation metrics of the evaluated (EMA) weights. */
  readonly validation: MetricReport;
  /** Total loss. */
  readonly loss: number;
  /** Labelled part of the loss. */
  readonly supervisedLoss: number;
  /** Unlabelled part of the loss (before the λ_u weight). */
  readonly unsupervisedLoss: number;
  /** Fraction of the last step's unlabelled images whose pseudo-label passed the threshold. */
  readonly maskRate: number;
  /** The estimated class prior of the unlabelled pool (`unlabeledPrior: "estimated"`). */
  readonly unlabeledPrior?: readonly number[];
  /** The running mean of the weak-view posteriors that distribution alignment divides by (`distributionAlignment`). */
  readonly weakMarginal?: readonly number[];
}

/**
 * What {@link pretrainFixMatch} returns: the shape of `pretrain`'s result plus the loss parts and whether the run
 * completed. After a completed run the model holds the best (EMA) weights; after `stopAfterStep` it holds the live
 * weights written to `last.ckpt`.
 */
export interface FixMatchResult extends PretrainResult {
  /** One entry per validation. */
  readonly history: readonly FixMatchHistoryEntry[];
  readonly completed: boolean;
  /** Steps done (`steps`, or `stopAfterStep` when the run was stopped). */
  readonly stepsRun: number;
}

interface ResumeState {
  step: number;
  rng: [number, number, number, number];
  labeledSampler: InstanceSamplerState | null;
  unlabeledSampler: InstanceSamplerState | null;
  bestStep: number;
  bestValue: number;
  bestValidation: MetricReport | null;
  history: FixMatchHistoryEntry[];
  /** Running estimate of the unlabelled prior (`estimated`; null before the first step and in older checkpoints). */
  prior?: number[] | null;
  /** Running mean of the weak-view posteriors (`distributionAlignment`; null before the first step). */
  marginal?: number[] | null;
}

/**
 * The unlabelled pool as images and dataset indices only. Only the image fields of the dataset are read; its labels
 * are replaced by -1 here, so nothing downstream can see the true labels of unlabelled data.
 */
interface UnlabeledImages {
  readonly dataset: Dataset;
  readonly indices: Int32Array;
}

function imagesOnly(unlabeled: Subset): UnlabeledImages {
  const { images, height, width, channels, numClasses } = unlabeled.dataset;
  const n = Math.floor(images.length / imageSize({ height, width, channels }));
  return {
    dataset: { images, height, width, channels, numClasses, labels: new Int32Array(n).fill(-1) },
    indices: Int32Array.from(unlabeled.indices),
  };
}

function validateConfig(c: FixMatchConfig): void {
  const positiveInt = (name: string, v: number): void => {
    if (!(Number.isInteger(v) && v > 0)) throw new SelmixError("INVALID_VALUE", `${name} must be a positive integer, got ${v}`);
  };
  positiveInt("steps", c.steps);
  positiveInt("batch size", c.batchSize);
  positiveInt("mu", c.mu);
  positiveInt("eval every", c.evalEvery);
  if (!UNLABELED_PRIORS.includes(c.unlabeledPrior)) {
    throw new SelmixError("INVALID_VALUE", `unlabeled prior must be one of ${UNLABELED_PRIORS.join(", ")}, got ${String(c.unlabeledPrior)}`);
  }
  if (c.method !== "fixmatch" && c.method !== "fixmatch-la") throw new SelmixError("INVALID_VALUE", `unknown method ${String(c.method)}`);
  if (!(c.lr > 0)) throw new SelmixError("INVALID_VALUE", `lr must be > 0, got ${c.lr}`);
  if (!(c.threshold >= 0 && c.threshold <= 1)) throw new SelmixError("INVALID_VALUE", `threshold must be in [0, 1], got ${c.threshold}`);
  if (!(c.lambdaU >= 0 && Number.isFinite(c.lambdaU))) throw new SelmixError("INVALID_VALUE", `lambdaU must be finite and >= 0, got ${c.lambdaU}`);
  if (!(c.ema >= 0 && c.ema < 1)) throw new SelmixError("INVALID_VALUE", `ema must be in [0, 1), got ${c.ema}`);
  if (!(c.momentum >= 0 && c.momentum < 1)) throw new SelmixError("INVALID_VALUE", `momentum must be in [0, 1), got ${c.momentum}`);
  if (!(c.weightDecay >= 0)) throw new SelmixError("INVALID_VALUE", `weight decay must be >= 0, got ${c.weightDecay}`);
  if (c.workers !== undefined) positiveInt("workers", c.workers);
  if (c.distributionAlignment === true && c.method === "fixmatch-la" && c.unlabeledPrior === "estimated") {
    throw new SelmixError("INVALID_VALUE", "distribution alignment needs a fixed target prior (uniform or labelled); the estimated prior is already the pseudo-labels' running mean");
  }
}

/** Identity forward, zero gradient (PyTorch's `detach`). */
const stopGradient = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc) => ({
  value: tf.clone(x as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/**
 * The FixMatch objective on one batch of logits, rows `[labelled B | weak mu·B | strong mu·B]`:
 * CE(labelled, + log-prior adjustment) + λ_u · mean_u(mask · CE(strong + a_u, argmax softmax(weak + a_u))), where
 * mask = [max softmax(weak + a_u) ≥ threshold], a_u the unlabelled adjustment (none by default) and the weak branch
 * is stop-gradient. Returns `[total, supervised, unsupervised, mask rate]` as scalars; the caller owns them. With
 * `totals` (the full batch's B and mu·B) the means become sums over this shard divided by them: the shard's share
 * (data parallel).
 *
 * @internal Exported for tests.
 */
export function fixMatchLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  b: number,
  u: number,
  threshold: number,
  lambdaU: number,
  adjustment: tf.Tensor1D | undefined,
  unlabeledAdjustment?: tf.Tensor1D,
  totals?: { readonly b: number; readonly u: number },
  alignment?: tf.Tensor1D,
): [tf.Scalar, tf.Scalar, tf.Scalar, tf.Scalar] {
  const k = logits.shape[1];
  const labeled = tf.slice(logits, [0, 0], [b, k]);
  const shift = (x: tf.Tensor2D): tf.Tensor2D => (unlabeledAdjustment === undefined ? x : tf.add(x, unlabeledAdjustment));
  const weak = shift(stopGradient(tf.slice(logits, [b, 0], [u, k])) as tf.Tensor2D);
  const strong = shift(tf.slice(logits, [b + u, 0], [u, k]));
  const supervised = crossEntropy(labeled, labels, adjustment, totals?.b);
  const meanU = (t: tf.Tensor): tf.Scalar => (totals === undefined ? tf.mean(t) : tf.div(tf.sum(t), totals.u)) as tf.Scalar;
  const probs = tf.softmax(alignment === undefined ? weak : tf.add(weak, alignment));
  const pseudo = tf.argMax(probs, 1);
  const mask = tf.cast(tf.greaterEqual(tf.max(probs, 1), threshold), "float32");
  const perSample = tf.neg(tf.sum(tf.mul(tf.oneHot(pseudo, k), tf.logSoftmax(strong)), 1));
  const unsupervised = meanU(tf.mul(perSample, mask));
  const total = tf.add(supervised, tf.mul(unsupervised, lambdaU)) as tf.Scalar;
  return [total, supervised, unsupervised, meanU(mask)];
}

/**
 * The E-step of the unlabelled prior estimate, and the running mean distribution alignment divides by: the mean
 * softmax of the weak views (rows `[b, b + u)` of `logits`) under the adjustment `adjustU` (K values; none when
 * absent). With `totalU` the mean is this shard's share: the sum over its rows
 * divided by the full batch's mu·B, so the shards' shares add up to the full-batch mean (data parallel).
 *
 * @internal Exported for the gradient workers.
 */
export function weakPosterior(logits: tf.Tensor2D, b: number, u: number, adjustU: tf.Tensor1D | undefined, totalU?: number): tf.Tensor1D {
  const weak = tf.slice(logits, [b, 0], [u, logits.shape[1]]);
  const posterior = tf.softmax(adjustU === undefined ? weak : tf.add(weak, adjustU));
  return (totalU === undefined ? tf.mean(posterior, 0) : tf.div(tf.sum(posterior, 0), totalU)) as tf.Tensor1D;
}

/**
 * FixMatch / FixMatch (LA) pre-training. Each step draws a labelled batch B (weak view) and mu·B unlabelled images
 * (weak and strong views), runs them through the network as one batch (batch norm in train mode sees all views
 * together, as in FixMatch), pseudo-labels the unlabelled images by the argmax of the weak view (stop-gradient)
 * with confidence ≥ `threshold`, and minimises CE(labelled, + τ·log prior for LA) + λ_u·masked CE(strong view,
 * pseudo-label). SGD with Nesterov momentum, weight decay (not on biases or BN), the FixMatch cosine schedule, EMA
 * of the weights; the EMA is validated every `evalEvery` steps and the best by `selectBy` is kept (validation set,
 * never the test set).
 *
 * The unlabelled pool is reduced to its images and indices before training: its labels are never read.
 *
 * With `io.checkpointDir` it writes `last.ckpt` (live weights, momentum, EMA, RNG and both sampler states) at
 * every validation and at `stopAfterStep`, and `best.ckpt` (EMA weights), so a killed run resumes bit-exactly.
 *
 * @param model - The model to train; it ends up holding the best (EMA) weights.
 * @param labeled - Labelled training split.
 * @param unlabeled - Unlabelled pool (labels never read).
 * @param validation - Validation split that selects the best weights.
 * @param config - Training settings.
 * @param io - Checkpoints, progress and a simulated kill.
 * @throws `SelmixError` `INVALID_VALUE` for a bad setting or a loss that became NaN/∞; `EMPTY_CLASS` if the
 *   labelled or unlabelled pool is empty; `MISMATCH` if the pools' image shapes differ or when resuming a
 *   checkpoint of another model or run (another trainer, dataset manifest or config: the message says which).
 *
 * @example
 * {@includeCode ./examples.test.ts#pretrainFixMatch}
 */
export async function pretrainFixMatch(
  model: Model,
  labeled: Subset,
  unlabeled: Subset,
  validation: Subset,
  config: FixMatchConfig,
  io: FixMatchIo = {},
): Promise<FixMatchResult> {
  validateConfig(config);
  const pool = imagesOnly(unlabeled);
  const ld = labeled.dataset;
  if (ld.height !== pool.dataset.height || ld.width !== pool.dataset.width || ld.channels !== pool.dataset.channels) {
    throw new SelmixError(
      "MISMATCH",
      `labelled images are ${ld.height}x${ld.width}x${ld.channels}, unlabelled ${pool.dataset.height}x${pool.dataset.width}x${pool.dataset.channels}`,
    );
  }
  if (labeled.indices.length === 0) throw new SelmixError("EMPTY_CLASS", "the labelled pool is empty");
  if (pool.indices.length === 0) throw new SelmixError("EMPTY_CLASS", "the unlabelled pool is empty");
  const k = model.numClasses;
  const counts = classHistogram(ld.labels, k, labeled.indices);
  const labels = ld.labels;
  const b = config.batchSize;
  const u = config.batchSize * config.mu;
  const augment: AugmentOptions = {
    flip: config.flip,
    padding: config.padding,
    fill: config.fill,
    numOps: config.randAugmentOps,
    magnitude: config.randAugmentMagnitude,
  };

  model.setBnMode("train");
  const sgd = createSgd(
    [
      { variables: [...model.paramGroups.head, ...model.paramGroups.backbone], lrFactor: 1, weightDecay: config.weightDecay },
      { variables: model.paramGroups.norm, lrFactor: 1, weightDecay: 0 },
    ],
    config.momentum,
    config.nesterov,
  );
  const ema = config.ema > 0 ? createEma(model, config.ema, { warmup: config.emaWarmup }) : undefined;
  const prior = config.method === "fixmatch-la" ? logPriorAdjustment(counts, config.laTau) : undefined;
  const adjustment = prior === undefined ? undefined : tf.tensor1d(prior);
  const unlabeledAdjustment = adjustment !== undefined && config.unlabeledPrior === "labelled" ? adjustment : undefined;
  const lastPath = io.checkpointDir === undefined ? undefined : join(io.checkpointDir, "last.ckpt");
  const bestPath = io.checkpointDir === undefined ? undefined : join(io.checkpointDir, "best.ckpt");
  const manifest = io.datasetManifestId ? { datasetManifestId: io.datasetManifestId } : {};

  let state: ResumeState = {
    step: 0,
    rng: createRng(config.seed).state() as [number, number, number, number],
    labeledSampler: null,
    unlabeledSampler: null,
    bestStep: -1,
    bestValue: Number.NEGATIVE_INFINITY,
    bestValidation: null,
    history: [],
  };
  const identity = runIdentity("fixmatch", config, io.datasetManifestId);
  try {
    if (lastPath !== undefined && (io.resume ?? true) && existsSync(lastPath)) {
      state = resumeFromLast<ResumeState>(lastPath, "fixmatch", identity, model, sgd, ema);
      io.onProgress?.({ kind: "resume", step: state.step, total: config.steps });
    }
  } catch (error) {
    sgd.dispose();
    ema?.dispose();
    adjustment?.dispose();
    throw error;
  }
  const rng = rngFromState(state.rng);
  const labeledSampler = createInstanceBalancedSampler({ pool: labeled, rng, ...(state.labeledSampler ? { resume: state.labeledSampler } : {}) });
  const unlabeledSampler = createInstanceBalancedSampler({
    pool: { indices: pool.indices },
    rng,
    ...(state.unlabeledSampler ? { resume: state.unlabeledSampler } : {}),
  });
  const trainVars = model.trainableVariables();
  const estimate = adjustment !== undefined && config.unlabeledPrior === "estimated";
  if (estimate && (state.prior === undefined || state.prior === null)) state.prior = new Array<number>(k).fill(1 / k);
  const align = config.distributionAlignment === true;
  if (align && (state.marginal === undefined || state.marginal === null)) state.marginal = new Array<number>(k).fill(1 / k);
  // log target of the alignment: the labelled prior when the unlabelled loss assumes it, else uniform (a constant)
  const logTarget = unlabeledAdjustment === undefined ? new Float32Array(k) : logPriorAdjustment(counts, 1);
  const alignmentOf = (): Float32Array | undefined => (align ? Float32Array.from(state.marginal!, (m, c) => logTarget[c]! - Math.log(m)) : undefined);
  // the mean weak-view posterior under the current adjustment: the prior estimate's E-step and the alignment's m
  const needsPosterior = estimate || align;
  let bestWeights: NamedArray[] | undefined;
  let parts = [Number.NaN, Number.NaN, Number.NaN, Number.NaN];
  let step = state.step;
  let completed = true;

  const writeLast = (at: number): void => {
    if (lastPath === undefined) return;
    state.step = at;
    state.rng = rng.state() as [number, number, number, number];
    state.labeledSampler = labeledSampler.state() ?? null;
    state.unlabeledSampler = unlabeledSampler.state() ?? null;
    saveCheckpoint(lastPath, model, {
      step: at,
      optimizerState: [...sgd.state(), ...(ema ? ema.state() : [])],
      extra: { run: identity as unknown as JsonValue, fixmatch: state as unknown as JsonValue },
      ...manifest,
    });
  };

  let workers: GradientWorkers | undefined;
  try {
    if ((config.workers ?? 1) > 1) {
      const loss = { kind: "fixmatch", threshold: config.threshold, lambdaU: config.lambdaU, ...(prior === undefined ? {} : { adjustment: prior }) } as const;
      workers = await startGradientWorkers({ model, workers: config.workers!, loss, variables: trainVars });
    }
    for (; step < config.steps; step++) {
      if (io.stopAfterStep !== undefined && step >= io.stopAfterStep) {
        completed = false;
        break;
      }
      await yieldToEventLoop();
      const li = labeledSampler.sample(b);
      const ui = unlabeledSampler.sample(u);
      const lr = config.lr * scheduleFactor(config.schedule, step, config.steps);
      if (workers !== undefined) {
        const batch = {
          labeled: imagePart(ld, li, { kind: "weak", rng, options: augment }),
          weak: imagePart(pool.dataset, ui, { kind: "weak", rng, options: augment }),
          strong: imagePart(pool.dataset, ui, { kind: "strong", rng, options: augment }),
          labels: intPart(Int32Array.from(li, (i) => labels[i]!)),
        };
        const adjustU = estimate ? Float32Array.from(state.prior!, (p) => Math.log(p) * config.laTau) : unlabeledAdjustment === undefined ? undefined : Float32Array.from(prior!);
        const alignment = alignmentOf();
        const { grads, values } = await workers.step(batch, {
          ...(adjustU === undefined ? {} : { unlabeledAdjustment: adjustU }),
          ...(alignment === undefined ? {} : { alignment }),
          weakPosterior: needsPosterior,
        });
        sgd.step(grads, lr);
        parts = [...values];
      } else {
        const out = tf.tidy(() => {
          const xl = toFloatBatch(ld, li, { kind: "weak", rng, options: augment });
          const xw = toFloatBatch(pool.dataset, ui, { kind: "weak", rng, options: augment });
          const xs = toFloatBatch(pool.dataset, ui, { kind: "strong", rng, options: augment });
          const x = tf.concat([xl, xw, xs], 0);
          const y = tf.tensor1d(Int32Array.from(li, (i) => labels[i]!), "int32");
          let extra: tf.Tensor | undefined;
          const adjustU = estimate ? tf.mul(tf.log(tf.tensor1d(state.prior!)), config.laTau) : unlabeledAdjustment;
          const alignment = alignmentOf();
          const alignT = alignment === undefined ? undefined : tf.tensor1d(alignment);
          const { value, grads } = tf.variableGrads(() => {
            const logits = model.logits(x, true);
            const [total, sup, unsup, maskRate] = fixMatchLoss(logits, y, b, u, config.threshold, config.lambdaU, adjustment, adjustU as tf.Tensor1D | undefined, undefined, alignT);
            const scalars = tf.stack([sup, unsup, maskRate]);
            extra = tf.keep(needsPosterior ? tf.concat([scalars, weakPosterior(logits, b, u, adjustU as tf.Tensor1D | undefined)]) : scalars);
            return total;
          }, trainVars);
          sgd.step(grads, lr);
          const kept = extra!;
          const result = tf.concat([tf.reshape(value, [1]), kept]);
          kept.dispose();
          return result;
        });
        parts = Array.from(await out.data());
        out.dispose();
      }
      // parts: total, supervised, unsupervised, mask rate, then the posterior
      if (estimate) state.prior = state.prior!.map((p, c) => 0.99 * p + 0.01 * parts[4 + c]!);
      if (align) state.marginal = state.marginal!.map((m, c) => 0.99 * m + 0.01 * parts[4 + c]!);
      const loss = parts[0]!;
      if (!Number.isFinite(loss)) throw new SelmixError("INVALID_VALUE", `FixMatch loss became ${loss} at step ${step}; lower the learning rate`);
      ema?.update();
      const done = step + 1;
      io.onProgress?.({ kind: "step", step: done, total: config.steps, loss, lr });
      if (done % config.evalEvery === 0 || done === config.steps) {
        const { report, improved, weights } = await validateAndKeepBest(model, ema, validation, config.selectBy, done, state, bestPath, io.datasetManifestId);
        if (weights !== undefined) bestWeights = weights;
        state.history = [
          ...state.history,
          {
            step: done,
            validation: report,
            loss,
            supervisedLoss: parts[1]!,
            unsupervisedLoss: parts[2]!,
            maskRate: parts[3]!,
            ...(estimate ? { unlabeledPrior: [...state.prior!] } : {}),
            ...(align ? { weakMarginal: [...state.marginal!] } : {}),
          },
        ];
        io.onProgress?.({ kind: "eval", step: done, total: config.steps, metrics: report, best: improved });
        writeLast(done);
      }
    }
    if (!completed) writeLast(step);
  } catch (error) {
    ema?.dispose();
    throw error;
  } finally {
    await workers?.close();
    sgd.dispose();
    adjustment?.dispose();
  }

  let bestValidation = state.bestValidation;
  if (completed) {
    if (bestWeights !== undefined) model.setWeights(bestWeights);
    else if (bestPath !== undefined && existsSync(bestPath)) loadCheckpoint(bestPath, model); // resumed after the last improvement
  } else if (bestValidation === null) {
    bestValidation = await withEvalWeights(model, ema, async () => (await evaluate(model, validation.dataset, validation.indices)).metrics);
  }
  ema?.dispose();
  if (bestValidation === null) throw new SelmixError("INVALID_VALUE", "FixMatch ran no validation");
  return { bestStep: state.bestStep, bestValidation, history: state.history, completed, stepsRun: step };
}
