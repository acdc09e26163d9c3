import { existsSync } from "node:fs";
import { join } from "node:path";
import { createRng, type Rng, rngFromState } from "@selmix/core";
import type { Subset, toFloatBatch } from "@selmix/datasets";
import { type ClassPrior, createObjective, type Objective, type ObjectiveName, type ObjectiveOptions } from "@selmix/metrics";
import {
  assertCheckpointMatches,
  type CheckpointData,
  type JsonValue,
  type Model,
  type NamedArray,
  readCheckpoint,
  saveCheckpoint,
} from "@selmix/models";
import type { PairBatch } from "@selmix/samplers";
import * as tf from "@tensorflow/tfjs-core";
import { readDiagnosticsBefore } from "./diagnostics-file.ts";
import { predict } from "./evaluate.ts";
import {
  assertFeatureMixing,
  initialLoopState,
  type Learner,
  type LoopData,
  type LoopState,
  loopResult,
  runFinetuneLoop,
  type StepMix,
  validateFinetuneConfig,
} from "./finetune-loop.ts";
import type { FirstPool } from "./first-pool.ts";
import { arrayHeadLearner } from "./head-learner.ts";
import { type MixingMode, type MixLabel, mixesFeatures, mixImages } from "./input-mixing.ts";
import type { LinearHead } from "./linear-head.ts";
import { imagePart, intPart, scalarPart } from "./parallel/batch-parts.ts";
import type { BatchPart } from "./parallel/protocol.ts";
import { batchTensors, mixupLoss } from "./parallel/shard-step.ts";
import { type GradientWorkers, startGradientWorkers } from "./parallel/gradient-workers.ts";
import type { PairPolicy } from "./policies.ts";
import type { ProgressListener } from "./progress.ts";
import type { GainConfusion, GainVariant, RefreshDiagnostics, TargetTerm } from "./refresh.ts";
import { assertSameRunIdentity, runIdentity } from "./run-identity.ts";
import { createSgd, type Sgd } from "./sgd.ts";

/** SelMix fine-tuning settings. Defaults (see {@link defaultFinetuneConfig}) follow the reference configs. */
export interface FinetuneConfig {
  /** The objective ψ to maximise. */
  readonly objective: ObjectiveName;
  /** Options of the objective. */
  readonly objectiveOptions: ObjectiveOptions;
  /** `full`: the whole network with layer-wise learning rates (paper); `head-only`: the head on cached features. */
  readonly mode: "full" | "head-only";
  /** How pairs (i, j) are drawn from the gain. */
  readonly policy: PairPolicy;
  /** Optimizer steps. */
  readonly steps: number;
  /** Gain, multipliers and sampler are recomputed every this many steps. */
  readonly refreshEvery: number;
  /** Mixup pairs per step. */
  readonly batchSize: number;
  /** Head learning rate (cosine-decayed to 0); the backbone gets `lr · backboneLrFactor`. */
  readonly lr: number;
  /** Backbone learning rate as a fraction of `lr` (`full` mode). */
  readonly backboneLrFactor: number;
  /** L2 weight decay. */
  readonly weightDecay: number;
  /** Mixup λ ~ U(lambdaMin, 1), per sample (also the λ of the input mixes). */
  readonly lambdaMin: number;
  /**
   * Where a pair is mixed (absent: `feature`, the reference). The input modes need `mode: "full"`: head-only
   * fine-tuning trains on cached features and has no images to mix.
   */
  readonly mixing?: MixingMode;
  /** The label of a mixed sample (absent: `first`, x₁'s label as SelMix); `weighted` needs `mode: "full"`. */
  readonly mixLabel?: MixLabel;
  /** Softmax temperature T of the pair distribution. */
  readonly temperature: number;
  /** `absolute`: softmax of G / T; `spread`: of G / (T · std(G)). */
  readonly temperatureScale: "absolute" | "spread";
  /**
   * The named pair of gain switches: `reference` = arg-max confusion + z_i·z_q target term; `paper` = soft
   * confusion + exact mixed-prototype term. `confusion` and `targetTerm` override either half.
   */
  readonly gainVariant: GainVariant;
  /**
   * Overrides the variant's confusion matrix of the gain. The objective's D and its multipliers (min recall,
   * head-tail, coverage) are computed from this matrix; selection and diagnostics always use the arg-max one.
   */
  readonly confusion?: GainConfusion;
  /** Overrides the variant's target-class term of the logit change. */
  readonly targetTerm?: TargetTerm;
  /** Class prior of the gain rate and of the objective's derivative: `validation` for an imbalanced validation set. */
  readonly prior: ClassPrior;
  /** Stop when the largest gain stabilises (the reference's rule). */
  readonly earlyStop: boolean;
  /** Keep the weights with the best validation objective seen at a refresh (never the test set). */
  readonly selectBest: boolean;
  /** Augmentation of the training images. */
  readonly augment: "none" | "weak";
  /** Horizontal flips in the augmentation (false for digits). */
  readonly flip: boolean;
  /** Reflect-padding of the weak view's random crop (4 in the reference; 0 = flips only, for an MLP). */
  readonly padding: number;
  /**
   * Semi-supervised: the view of the unlabelled partners that their pseudo-labels (and, head-only, their cached
   * features) come from. `weak`: one weak augmentation per image, drawn from `seed` once per run (the reference
   * pseudo-labels the weak view of its unlabelled loader); `plain`: the image itself.
   */
  readonly partnerView: "plain" | "weak";
  /** Where x₁ comes from (absent: `labeled`, the paper); `labeled+unlabeled` needs the unlabelled split. */
  readonly firstPool?: FirstPool;
  /** Seed of the sampling and augmentation. */
  readonly seed: number;
  /**
   * Gradient worker threads of the `full` mode (data parallel); absent or 1 trains in this thread. Head-only
   * fine-tuning is plain JavaScript and ignores it.
   */
  readonly workers?: number;
}

/**
 * The reference's fine-tuning settings for `objective` (method notes sections 5 and 6): 10,000 steps, gain refresh
 * every 50, batch 64, SGD without momentum, head lr 3e-4 cosine-decayed with backbone lr/10, weight decay 5e-4,
 * mixup λ ~ U(0.6, 1), T = 0.1, the reference gain (arg-max confusion, z_i·z_q, uniform prior), weak crop + flip
 * on both images, early stop on max-gain stabilisation (window 10, 5%). Two departures, both choices of this
 * project: the best refresh on the validation objective is kept (`selectBest`), and `mode: "head-only"` ignores
 * the augmentation (it trains on cached features). Per-dataset values (T, λ_max, lr) are in the bench's paper
 * profile. Digits need `flip: false`.
 *
 * @example
 * {@includeCode ./examples.test.ts#defaultFinetuneConfig}
 */
export function defaultFinetuneConfig(objective: ObjectiveName, mode: "full" | "head-only" = "full"): FinetuneConfig {
  return {
    objective,
    objectiveOptions: {},
    mode,
    policy: "selmix",
    steps: 10_000,
    refreshEvery: 50,
    batchSize: 64,
    lr: 3e-4,
    backboneLrFactor: 0.1,
    weightDecay: 5e-4,
    lambdaMin: 0.6,
    temperature: 0.1,
    temperatureScale: "absolute",
    gainVariant: "reference",
    prior: "uniform",
    earlyStop: true,
    selectBest: true,
    augment: "weak",
    flip: true,
    padding: 4,
    partnerView: "weak",
    seed: 0,
  };
}

/** The data of a fine-tuning run. */
export interface FinetuneData {
  /** Labelled training split. */
  readonly labeled: Subset;
  /** Validation split: drives the gain and the selection; never trained on. */
  readonly validation: Subset;
  /**
   * Semi-supervised: partners come from this pool by the current model's pseudo-labels (refreshed with the gain).
   * Its labels are never read.
   */
  readonly unlabeled?: Subset;
}

/** Checkpoints, diagnostics and progress of a fine-tuning run. */
export interface FinetuneIo {
  /** `last.ckpt` (written at every refresh, for resuming) and `best.ckpt` go here. */
  readonly checkpointDir?: string;
  /** Continue from `checkpointDir/last.ckpt` when it exists. @defaultValue true */
  readonly resume?: boolean;
  /** One JSON line per refresh ({@link RefreshDiagnostics}). */
  readonly diagnosticsPath?: string;
  /** Receives progress events. */
  readonly onProgress?: ProgressListener;
  /** A custom (e.g. plug-in) objective instead of `config.objective`. */
  readonly objective?: Objective;
  /** Recorded in the checkpoints. */
  readonly datasetManifestId?: string;
  /** Stop after this many steps (simulates a kill in tests; the run resumes later). */
  readonly stopAfterStep?: number;
  /**
   * Sees every batch of pairs before its step. `first`/`partner` are row numbers into `labeled.indices` and into
   * `unlabeled.indices` (semi-supervised) or `labeled.indices`; `partnerClass` is the partner's (pseudo-)label. With
   * the `labeled+unlabeled` first pool a first row r ≥ n (the labelled count) is unlabelled row r − n.
   */
  readonly onPairs?: (step: number, pairs: PairBatch) => void;
  /**
   * Samples the pairs from this fixed K×K distribution (row-major) instead of the policy's; the gain is still
   * computed and reported. For measurements such as the gain's fidelity (fine-tune on one pair only): with a policy
   * without exploration (e.g. `uniform`) the sampler draws exactly these pairs.
   */
  readonly pairDistribution?: Float64Array;
}

/** What {@link finetune} returns; the model holds the selected weights. */
export interface FinetuneResult {
  /** One entry per refresh. */
  readonly diagnostics: readonly RefreshDiagnostics[];
  /** Step of the selected weights (the last step when `selectBest` is off). */
  readonly selectedStep: number;
  /** Validation ψ of the selected weights. */
  readonly selectedObjective: number;
  /** Steps actually trained (less than `steps` after an early stop). */
  readonly stepsRun: number;
  /** The last gain matrix (row-major K×K), for reports. */
  readonly lastGain: Float64Array;
  /** The last pair distribution (row-major K×K), for reports. */
  readonly lastDistribution: Float64Array;
  /** False when stopped by `stopAfterStep`. */
  readonly completed: boolean;
}

/** The model-based learners also write their weights into the model (head-only keeps them in JS until then). */
interface ModelLearner extends Learner<readonly NamedArray[]> {
  sync(): void;
  /** State that the model's float32 weights do not hold exactly, saved in `last.ckpt` beside them. */
  exactState(): NamedArray[];
  restoreExact(arrays: readonly NamedArray[]): void;
}

// The head-only learner trains a Float64Array head; checkpoints hold float32, so its bytes go in as float32 pairs.
const float64Bytes = (name: string, values: Float64Array): NamedArray => ({
  name,
  shape: [values.length * 2],
  values: new Float32Array(Float64Array.from(values).buffer),
});
const float64From = (a: NamedArray): Float64Array => new Float64Array(a.values.buffer.slice(a.values.byteOffset, a.values.byteOffset + a.values.byteLength));

/**
 * How the unlabelled partners are seen when pseudo-labelled: the same draw at every call (resumable).
 *
 * @internal Exported for tests.
 */
export function partnerAugment(config: FinetuneConfig): Parameters<typeof toFloatBatch>[2] {
  if (config.partnerView === "plain") return { kind: "none" };
  return { kind: "weak", rng: createRng(config.seed ^ 0x5e1f), options: { flip: config.flip, padding: config.padding } };
}

async function headOnlyLearner(model: Model, data: FinetuneData, valLabels: Int32Array, config: FinetuneConfig): Promise<ModelLearner> {
  const withFeatures = { withFeatures: true } as const;
  const labeledFeatures = (await predict(model, data.labeled.dataset, data.labeled.indices, withFeatures)).features!;
  const validation = await predict(model, data.validation.dataset, data.validation.indices, withFeatures);
  const unlabeledFeatures = data.unlabeled
    ? (await predict(model, data.unlabeled.dataset, data.unlabeled.indices, { withFeatures: true, augment: partnerAugment(config) })).features!
    : undefined;
  const hw = model.headWeights();
  const head: LinearHead = { numClasses: hw.numClasses, dim: hw.featureDim, weight: Float64Array.from(hw.weight), bias: Float64Array.from(hw.bias) };
  const features = { labeled: labeledFeatures, validation: validation.features!, validationLabels: valLabels };
  const inner = arrayHeadLearner(head, unlabeledFeatures === undefined ? features : { ...features, unlabeled: unlabeledFeatures }, config.weightDecay);
  const asNamed = (): NamedArray[] => [
    { name: "head.weight", shape: [head.numClasses, head.dim], values: Float32Array.from(head.weight) },
    { name: "head.bias", shape: [head.numClasses], values: Float32Array.from(head.bias) },
  ];
  return {
    ...inner,
    snapshot: asNamed,
    restore(weights) {
      for (const w of weights) {
        if (w.name === "head.weight") head.weight.set(w.values);
        if (w.name === "head.bias") head.bias.set(w.values);
      }
    },
    sync() {
      const named = asNamed();
      model.setWeights(model.getWeights().map((w) => named.find((n) => n.name === w.name) ?? w));
    },
    exactState: () => [float64Bytes("head64/weight", head.weight), float64Bytes("head64/bias", head.bias)],
    restoreExact(arrays) {
      for (const a of arrays) {
        if (a.name === "head64/weight" && a.values.length === head.weight.length * 2) head.weight.set(float64From(a));
        if (a.name === "head64/bias" && a.values.length === head.bias.length * 2) head.bias.set(float64From(a));
      }
    },
  };
}

/**
 * x₁'s images: labelled row r, or unlabelled row r − n past the n labelled rows (the labeled+unlabeled pool). Runs
 * of rows from one pool are read in batch order, so the augmentation draws follow the rows whichever pool each is
 * from (a copy of a dataset gives the same batch).
 */
function firstImages(data: FinetuneData, rows: Int32Array, augment: Parameters<typeof toFloatBatch>[2]): BatchPart {
  const { labeled, unlabeled } = data;
  const n = labeled.indices.length;
  const parts: BatchPart[] = [];
  for (let start = 0; start < rows.length; ) {
    const fromLabeled = rows[start]! < n;
    let end = start + 1;
    while (end < rows.length && rows[end]! < n === fromLabeled) end++;
    const run = rows.subarray(start, end);
    parts.push(
      fromLabeled
        ? imagePart(labeled.dataset, Int32Array.from(run, (r) => labeled.indices[r]!), augment)
        : imagePart(unlabeled!.dataset, Int32Array.from(run, (r) => unlabeled!.indices[r - n]!), augment),
    );
    start = end;
  }
  if (parts.length === 1) return parts[0]!; // one pool: its batch as it is
  const out = new Float32Array(parts.reduce((sum, p) => sum + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.data, at);
    at += p.data.length;
  }
  return { data: out, rows: rows.length };
}

async function fullLearner(model: Model, data: FinetuneData, valLabels: Int32Array, config: FinetuneConfig, rng: () => Rng): Promise<ModelLearner> {
  model.setBnMode("frozen-stats"); // batch statistics in the step, running statistics never updated, γ/β frozen
  const vars = [...model.paramGroups.head, ...model.paramGroups.backbone];
  const workers: GradientWorkers | undefined =
    (config.workers ?? 1) > 1 ? await startGradientWorkers({ model, workers: config.workers!, loss: { kind: "mixup" }, variables: vars }) : undefined;
  const sgd: Sgd = createSgd(
    [
      { variables: model.paramGroups.head, lrFactor: 1, weightDecay: config.weightDecay },
      { variables: model.paramGroups.backbone, lrFactor: config.backboneLrFactor, weightDecay: config.weightDecay },
    ],
    0,
  );
  const partner = data.unlabeled ?? data.labeled;
  const augment = (): Parameters<typeof toFloatBatch>[2] =>
    config.augment === "weak" ? { kind: "weak", rng: rng(), options: { flip: config.flip, padding: config.padding } } : { kind: "none" };
  const mixing = config.mixing ?? "feature";
  const weighted = config.mixLabel === "weighted";
  /**
   * One step on a batch of pairs: the images (mixed here in the input modes, so the workers get the same bytes),
   * then the loss of `mixupLoss` (feature mixup unless the input mix replaced it, x₁'s or the weighted label).
   */
  const mixStep = async (firstRows: Int32Array, second: Int32Array, lambdas: Float64Array, labels: Int32Array, lr: number, mix: StepMix | undefined): Promise<number> => {
    const x1 = firstImages(data, firstRows, augment());
    const x2 = imagePart(partner.dataset, second, augment());
    const input = mix?.input;
    const mixed = input === undefined ? { images: x1.data as Float32Array, firstShare: new Float64Array(labels.length).fill(1) } : mixImages(mixing, x1.data as Float32Array, x2.data as Float32Array, model.inputShape, input, rng());
    const features = mixesFeatures(mixing);
    const parts: Record<string, BatchPart> = {
      x1: { data: mixed.images, rows: labels.length },
      ...(features ? { x2, lambdas: scalarPart(lambdas) } : {}),
      labels: intPart(labels),
      ...(weighted ? { partnerLabels: intPart(mix!.partnerLabels), labelWeights: scalarPart(mixed.firstShare.map((s, i) => s * (features ? lambdas[i]! : 1))) } : {}),
    };
    if (workers !== undefined) {
      const { grads, values } = await workers.step(parts);
      sgd.step(grads, lr);
      return values[0]!;
    }
    const loss = tf.tidy(() => {
      const t = batchTensors(parts, model.inputShape);
      const { value, grads } = tf.variableGrads(() => mixupLoss(model, t), vars);
      sgd.step(grads, lr);
      return value;
    });
    const v = (await loss.data())[0]!;
    loss.dispose();
    return v;
  };
  return {
    async view() {
      const out = await predict(model, data.validation.dataset, data.validation.indices, { withFeatures: true });
      return { labels: valLabels, features: out.features!, probabilities: out.probabilities, predicted: out.predicted };
    },
    head() {
      const h = model.headWeights();
      return { weight: h.weight, bias: h.bias };
    },
    async pseudoLabels() {
      return (await predict(model, data.unlabeled!.dataset, data.unlabeled!.indices, { augment: partnerAugment(config) })).predicted;
    },
    async step(firstRows, partnerRows, lambdas, labels, lr, mix) {
      const second = Int32Array.from(partnerRows, (r) => partner.indices[r]!);
      return mixStep(firstRows, second, lambdas, labels, lr, mix);
    },
    snapshot: () => model.getWeights(),
    restore: (weights) => model.setWeights(weights),
    sync() {},
    exactState: () => [],
    restoreExact() {},
    async dispose() {
      sgd.dispose();
      await workers?.close();
    },
  };
}

/**
 * SelMix fine-tuning. Every `refreshEvery` steps, on the validation set only: confusion matrix, prototypes,
 * multipliers, gain matrix, pair distribution, pair sampler (and pseudo-labels of the unlabelled pool). Each step
 * trains on feature mixups z = λ·g(x₁) + (1−λ)·g(x₂), λ ~ U(lambdaMin, 1), cross-entropy on x₁'s label, plain SGD
 * with cosine decay (head lr, backbone lr · factor, batch norm frozen). Writes `last.ckpt` at every refresh so a
 * killed run resumes with identical numbers (in head-only mode the float64 head is saved exactly beside its
 * float32 copy), and diagnostics as JSON lines.
 *
 * @param model - The pre-trained model; it ends up holding the selected weights.
 * @param data - Labelled, validation and (optional) unlabelled splits.
 * @param config - Fine-tuning settings.
 * @param io - Checkpoints, diagnostics, progress and test hooks.
 * @throws `SelmixError` `INVALID_VALUE` for a bad setting; `EMPTY_CLASS` when a class has no validation
 *   sample or no pool holds any usable class; `MISMATCH` when resuming another model's checkpoint or another
 *   run's (another trainer, dataset manifest or config: the message says which); `CORRUPT_FILE` for a damaged
 *   `last.ckpt` or diagnostics file.
 *
 * @example
 * {@includeCode ./examples.test.ts#finetune}
 */
export async function finetune(model: Model, data: FinetuneData, config: FinetuneConfig, io: FinetuneIo = {}): Promise<FinetuneResult> {
  validateFinetuneConfig(config);
  if (config.mode === "head-only") assertFeatureMixing(config, "head-only fine-tuning");
  const objective = io.objective ?? createObjective(config.objective, config.objectiveOptions);
  const valLabels = Int32Array.from(data.validation.indices, (i) => data.validation.dataset.labels[i]!);
  const labeledLabels = Int32Array.from(data.labeled.indices, (i) => data.labeled.dataset.labels[i]!);
  const lastPath = io.checkpointDir === undefined ? undefined : join(io.checkpointDir, "last.ckpt");
  const bestPath = io.checkpointDir === undefined ? undefined : join(io.checkpointDir, "best.ckpt");
  const manifestId = io.datasetManifestId ? { datasetManifestId: io.datasetManifestId } : {};

  const identity = runIdentity("finetune", { ...config, customObjective: io.objective?.name ?? null }, io.datasetManifestId);
  let state = initialLoopState(createRng(config.seed));
  let diagnostics: RefreshDiagnostics[] = [];
  let resumed: CheckpointData | undefined;
  if (lastPath !== undefined && (io.resume ?? true) && existsSync(lastPath)) {
    resumed = readCheckpoint(lastPath);
    const extra = resumed.metadata.extra as { run?: unknown; finetune?: LoopState } | undefined;
    assertSameRunIdentity(lastPath, extra?.run, identity);
    assertCheckpointMatches(resumed, model);
    model.setWeights(resumed.weights);
    const saved = extra!.finetune!;
    state = { ...saved, bestValue: saved.bestValue ?? Number.NEGATIVE_INFINITY }; // JSON wrote -Infinity as null
    if (io.diagnosticsPath !== undefined) diagnostics = readDiagnosticsBefore(io.diagnosticsPath, state.step);
    io.onProgress?.({ kind: "resume", step: state.step, total: config.steps });
  }
  const rng = rngFromState(state.rng);
  const learner = config.mode === "head-only" ? await headOnlyLearner(model, data, valLabels, config) : await fullLearner(model, data, valLabels, config, () => rng);
  if (resumed !== undefined) learner.restoreExact(resumed.optimizerState);
  if (config.mode === "head-only") model.setBnMode("eval");
  const loopData: LoopData = {
    numClasses: model.numClasses,
    dim: model.featureDim,
    labeledLabels,
    ...(data.unlabeled ? { unlabeledCount: data.unlabeled.indices.length } : {}),
  };
  const outcome = await runFinetuneLoop(learner, loopData, config, objective, rng, state, diagnostics, {
    ...(io.diagnosticsPath === undefined ? {} : { diagnosticsPath: io.diagnosticsPath }),
    ...(io.onProgress === undefined ? {} : { onProgress: io.onProgress }),
    ...(io.stopAfterStep === undefined ? {} : { stopAfterStep: io.stopAfterStep }),
    ...(io.onPairs === undefined ? {} : { onPairs: io.onPairs }),
    ...(io.pairDistribution === undefined ? {} : { pairDistribution: io.pairDistribution }),
    ...(lastPath === undefined
      ? {}
      : {
          onCheckpoint: (saved: LoopState) => {
            learner.sync();
            saveCheckpoint(lastPath, model, {
              step: saved.step,
              optimizerState: learner.exactState(),
              extra: { run: identity as unknown as JsonValue, finetune: saved as unknown as JsonValue },
              ...manifestId,
            });
          },
        }),
    ...(bestPath === undefined || !config.selectBest
      ? {}
      : {
          onBest: (step: number) => {
            learner.sync();
            saveCheckpoint(bestPath, model, { step, ...manifestId });
          },
        }),
  });
  if (outcome.completed && config.selectBest) {
    // After a resume the best weights may predate this process: they are on disk then.
    const selected = outcome.best ?? (bestPath !== undefined && existsSync(bestPath) ? readCheckpoint(bestPath).weights : undefined);
    if (selected !== undefined) learner.restore(selected);
  }
  learner.sync();
  return loopResult(config, outcome);
}
