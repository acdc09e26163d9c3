import { existsSync } from "node:fs";
import { join } from "node:path";
import { createRng, rngFromState, SelmixError } from "@selmix/core";
import { classHistogram, type Subset, toFloatBatch } from "@selmix/datasets";
import type { MetricReport } from "@selmix/metrics";
import { type JsonValue, loadCheckpoint, type Model, type NamedArray, saveCheckpoint } from "@selmix/models";
import { createInstanceBalancedSampler, type InstanceSamplerState } from "@selmix/samplers";
import * as tf from "@tensorflow/tfjs-core";
import { createEma } from "./ema.ts";
import { yieldToEventLoop } from "./event-loop.ts";
import { crossEntropy, logPriorAdjustment } from "./losses.ts";
import { type ScheduleName, scheduleFactor } from "./schedule.ts";
import { createSgd } from "./sgd.ts";
import { imagePart, intPart } from "./parallel/batch-parts.ts";
import { type GradientWorkers, startGradientWorkers } from "./parallel/gradient-workers.ts";
import type { ProgressListener, SelectionMetric } from "./progress.ts";
import { resumeFromLast } from "./resume.ts";
import { runIdentity } from "./run-identity.ts";
import { validateAndKeepBest } from "./selection.ts";

/** Supervised pre-training settings. */
export interface PretrainConfig {
  /** `erm`: cross-entropy; `la`: logit-adjusted cross-entropy (τ·log prior added to the logits in training). */
  readonly method: "erm" | "la";
  /** Optimizer steps. */
  readonly steps: number;
  /** Images per batch. */
  readonly batchSize: number;
  /** Peak learning rate. */
  readonly lr: number;
  /** SGD momentum. */
  readonly momentum: number;
  /** Nesterov momentum. */
  readonly nesterov: boolean;
  /** L2 weight decay. */
  readonly weightDecay: number;
  /** Learning-rate schedule. */
  readonly schedule: ScheduleName;
  /** τ of the logit adjustment. */
  readonly laTau: number;
  /** EMA decay of the weights used for evaluation and the saved model; 0 turns EMA off. */
  readonly ema: number;
  /** Validation every this many steps (and at the end). */
  readonly evalEvery: number;
  /** Metric of the validation set that picks the best checkpoint. */
  readonly selectBy: SelectionMetric;
  /** Augmentation of the training images. */
  readonly augment: "none" | "weak";
  /** Horizontal flips in the weak augmentation (false for digits). */
  readonly flip: boolean;
  /** Reflect-padding of the weak augmentation's random crop (absent: 4, the reference; 1 shifts an image by ±1 pixel). */
  readonly padding?: number;
  /** Seed of the sampling and augmentation. */
  readonly seed: number;
  /**
   * Gradient worker threads (data parallel, see {@link startGradientWorkers}); absent or 1 trains in this thread.
   * The numbers depend on it (float32 summation order, per-shard batch norm).
   */
  readonly workers?: number;
}

/**
 * Defaults for a CPU run on MNIST/Fashion-MNIST-LT; override any of them.
 *
 * @example
 * {@includeCode ./examples.test.ts#DEFAULT_PRETRAIN_CONFIG}
 */
export const DEFAULT_PRETRAIN_CONFIG: PretrainConfig = {
  method: "la",
  steps: 2000,
  batchSize: 64,
  lr: 0.05,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 5e-4,
  schedule: "cosine",
  laTau: 1,
  ema: 0,
  evalEvery: 500,
  selectBy: "mean-recall",
  augment: "none",
  flip: false,
  seed: 0,
};

/** What {@link pretrain} returns. The model holds the best weights (by `selectBy` on the validation set). */
export interface PretrainResult {
  /** Step of the best weights. */
  readonly bestStep: number;
  /** Validation metrics of the best weights. */
  readonly bestValidation: MetricReport;
  /** One entry per validation. */
  readonly history: readonly {
    /** Step of the validation. */
    readonly step: number;
    /** Validation metrics. */
    readonly validation: MetricReport;
    /** Loss of the last step before it. */
    readonly loss: number;
  }[];
  /** False when stopped early by `stopAfterStep` (the model then holds the live weights of that step). */
  readonly completed: boolean;
}

/** Where {@link pretrain} keeps its checkpoints: `last.ckpt` (for resuming) and `best.ckpt`. */
export interface PretrainIo {
  /** Folder of `last.ckpt` and `best.ckpt`. */
  readonly checkpointDir?: string;
  /** Continue from `checkpointDir/last.ckpt` when it exists. @defaultValue true */
  readonly resume?: boolean;
  /** Recorded in the checkpoints. */
  readonly datasetManifestId?: string;
  /** Receives progress events. */
  readonly onProgress?: ProgressListener;
  /** Stop (writing `last.ckpt`) once this many steps are done: simulates a kill in tests. */
  readonly stopAfterStep?: number;
}

interface ResumeState {
  step: number;
  rng: [number, number, number, number];
  sampler: InstanceSamplerState | null;
  bestStep: number;
  bestValue: number;
  bestValidation: MetricReport | null;
  history: PretrainResult["history"];
}

function validateConfig(c: PretrainConfig): void {
  const positiveInt = (name: string, v: number): void => {
    if (!(Number.isInteger(v) && v > 0)) throw new SelmixError("INVALID_VALUE", `${name} must be a positive integer, got ${v}`);
  };
  positiveInt("steps", c.steps);
  positiveInt("batch size", c.batchSize);
  positiveInt("eval every", c.evalEvery);
  if (!(c.lr > 0)) throw new SelmixError("INVALID_VALUE", `lr must be > 0, got ${c.lr}`);
  if (!(c.ema >= 0 && c.ema < 1)) throw new SelmixError("INVALID_VALUE", `ema must be in [0, 1), got ${c.ema}`);
  if (!(c.momentum >= 0 && c.momentum < 1)) throw new SelmixError("INVALID_VALUE", `momentum must be in [0, 1), got ${c.momentum}`);
  if (c.workers !== undefined) positiveInt("workers", c.workers);
  if (c.padding !== undefined && !(Number.isInteger(c.padding) && c.padding >= 0)) throw new SelmixError("INVALID_VALUE", `padding must be an integer >= 0, got ${c.padding}`);
}

/**
 * ERM or logit-adjusted pre-training: SGD with (Nesterov) momentum, weight decay, a learning-rate schedule, optional
 * EMA of the weights, validation every `evalEvery` steps, the best model (by `selectBy` on the validation set, never
 * the test set) kept and saved. With a checkpoint directory it writes `last.ckpt` at every evaluation (weights,
 * momentum, EMA, RNG and sampler state), so a killed run resumes exactly where it stopped. With `config.workers` > 1
 * the gradients come from that many worker threads, each on a fixed shard of the batch.
 *
 * @param model - The model to train; it ends up holding the best weights.
 * @param train - Labelled training split.
 * @param validation - Validation split that selects the best weights.
 * @param config - Training settings.
 * @param io - Checkpoints and progress.
 * @throws `SelmixError` `INVALID_VALUE` for a bad setting; `MISMATCH` when resuming a checkpoint of another model
 *   or of another run (another trainer, dataset manifest or config: the message says which).
 *
 * @example
 * {@includeCode ./examples.test.ts#pretrain}
 */
export async function pretrain(model: Model, train: Subset, validation: Subset, config: PretrainConfig, io: PretrainIo = {}): Promise<PretrainResult> {
  validateConfig(config);
  const k = model.numClasses;
  const counts = classHistogram(train.dataset.labels, k, train.indices);
  const prior = config.method === "la" ? logPriorAdjustment(counts, config.laTau) : undefined;
  const adjustment = prior === undefined ? undefined : tf.tensor1d(prior);
  model.setBnMode("train");
  const groups = [
    { variables: [...model.paramGroups.head, ...model.paramGroups.backbone], lrFactor: 1, weightDecay: config.weightDecay },
    { variables: model.paramGroups.norm, lrFactor: 1, weightDecay: 0 },
  ];
  const sgd = createSgd(groups, config.momentum, config.nesterov);
  const ema = config.ema > 0 ? createEma(model, config.ema) : undefined;
  const lastPath = io.checkpointDir === undefined ? undefined : join(io.checkpointDir, "last.ckpt");
  const bestPath = io.checkpointDir === undefined ? undefined : join(io.checkpointDir, "best.ckpt");

  let state: ResumeState = {
    step: 0,
    rng: createRng(config.seed).state() as [number, number, number, number],
    sampler: null,
    bestStep: -1,
    bestValue: Number.NEGATIVE_INFINITY,
    bestValidation: null,
    history: [],
  };
  const identity = runIdentity("pretrain", config, io.datasetManifestId);
  if (lastPath !== undefined && (io.resume ?? true) && existsSync(lastPath)) {
    try {
      state = resumeFromLast<ResumeState>(lastPath, "pretrain", identity, model, sgd, ema);
    } catch (error) {
      sgd.dispose();
      ema?.dispose();
      adjustment?.dispose();
      throw error;
    }
    io.onProgress?.({ kind: "resume", step: state.step, total: config.steps });
  }
  const rng = rngFromState(state.rng);
  const sampler = createInstanceBalancedSampler({ pool: train, rng, ...(state.sampler === null ? {} : { resume: state.sampler }) });
  let bestWeights: NamedArray[] | undefined;
  let lastLoss = Number.NaN;
  const labels = train.dataset.labels;
  const trainVars = model.trainableVariables();
  const saveLast = (done: number): void => {
    if (lastPath === undefined) return;
    state.step = done;
    state.rng = rng.state() as [number, number, number, number];
    state.sampler = sampler.state() ?? null;
    saveCheckpoint(lastPath, model, {
      step: done,
      optimizerState: [...sgd.state(), ...(ema ? ema.state() : [])],
      extra: { run: identity as unknown as JsonValue, pretrain: state as unknown as JsonValue },
      ...(io.datasetManifestId ? { datasetManifestId: io.datasetManifestId } : {}),
    });
  };
  let stopped = false;
  let workers: GradientWorkers | undefined;

  try {
    if ((config.workers ?? 1) > 1) {
      const loss = { kind: "ce", ...(prior === undefined ? {} : { adjustment: prior }) } as const;
      workers = await startGradientWorkers({ model, workers: config.workers!, loss, variables: trainVars });
    }
    for (let step = state.step; step < config.steps; step++) {
      if (io.stopAfterStep !== undefined && step >= io.stopAfterStep) {
        saveLast(step);
        stopped = true;
        break;
      }
      await yieldToEventLoop();
      const idx = sampler.sample(config.batchSize);
      const lr = config.lr * scheduleFactor(config.schedule, step, config.steps);
      const augment = config.augment === "weak" ? ({ kind: "weak", rng, options: { flip: config.flip, ...(config.padding === undefined ? {} : { padding: config.padding }) } } as const) : ({ kind: "none" } as const);
      const y = Int32Array.from(idx, (i) => labels[i]!);
      if (workers === undefined) {
        const loss = tf.tidy(() => {
          const x = toFloatBatch(train.dataset, idx, augment);
          const { value, grads } = tf.variableGrads(() => crossEntropy(model.logits(x, true), tf.tensor1d(y, "int32"), adjustment), trainVars);
          sgd.step(grads, lr);
          return value;
        });
        lastLoss = (await loss.data())[0]!;
        loss.dispose();
      } else {
        const { grads, values } = await workers.step({ x: imagePart(train.dataset, idx, augment), labels: intPart(y) });
        sgd.step(grads, lr);
        lastLoss = values[0]!;
      }
      if (!Number.isFinite(lastLoss)) throw new SelmixError("INVALID_VALUE", `training loss became ${lastLoss} at step ${step}; lower the learning rate`);
      ema?.update();
      const done = step + 1;
      io.onProgress?.({ kind: "step", step: done, total: config.steps, loss: lastLoss, lr });
      if (done % config.evalEvery === 0 || done === config.steps) {
        const checked = await validateAndKeepBest(model, ema, validation, config.selectBy, done, state, bestPath, io.datasetManifestId);
        const validationReport = checked.report;
        const improved = checked.improved;
        if (checked.weights !== undefined) bestWeights = checked.weights;
        state.history = [...state.history, { step: done, validation: validationReport, loss: lastLoss }];
        io.onProgress?.({ kind: "eval", step: done, total: config.steps, metrics: validationReport, best: improved });
        saveLast(done);
      }
    }
  } finally {
    await workers?.close();
    sgd.dispose();
    ema?.dispose();
    adjustment?.dispose();
  }
  if (stopped) return { bestStep: state.bestStep, bestValidation: state.bestValidation ?? emptyReport(), history: state.history, completed: false };
  if (bestWeights === undefined && bestPath !== undefined && existsSync(bestPath)) {
    loadCheckpoint(bestPath, model); // resumed after the last improvement: the best weights are on disk
  } else if (bestWeights !== undefined) {
    model.setWeights(bestWeights);
  }
  if (state.bestValidation === null) throw new SelmixError("INVALID_VALUE", "pre-training ran no validation");
  return { bestStep: state.bestStep, bestValidation: state.bestValidation, history: state.history, completed: true };
}

function emptyReport(): MetricReport {
  return { accuracy: 0, meanRecall: 0, minRecall: 0, hMean: 0, gMean: 0, minHeadTailRecall: 0, minCoverage: 0, recall: [], coverage: [] };
}
