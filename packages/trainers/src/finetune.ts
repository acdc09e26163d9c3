import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRng, rngFromState, SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import { type Subset, toFloatBatch } from "@selmix/datasets";
import { createObjective, type Objective, type ObjectiveName, type ObjectiveOptions, type ObjectiveState } from "@selmix/metrics";
import { type JsonValue, loadCheckpoint, type Model, type NamedArray, readCheckpoint, saveCheckpoint } from "@selmix/models";
import { createPairSampler, type PairBatch, type PairSampler, type Pool, pseudoLabelPool } from "@selmix/samplers";
import * as tf from "@tensorflow/tfjs-core";
import { predict } from "./evaluate.ts";
import { headPredict, headSgdStep, type LinearHead } from "./linear-head.ts";
import { crossEntropy } from "./losses.ts";
import type { PairPolicy } from "./policies.ts";
import type { ProgressListener } from "./progress.ts";
import { gainConverged, type RefreshDiagnostics, refreshPolicy, type ValidationView } from "./refresh.ts";
import { scheduleFactor } from "./schedule.ts";
import { createSgd, type Sgd } from "./sgd.ts";

/** SelMix fine-tuning settings. Defaults (see {@link defaultFinetuneConfig}) follow the reference configs. */
export interface FinetuneConfig {
  readonly objective: ObjectiveName;
  readonly objectiveOptions: ObjectiveOptions;
  /** `full`: the whole network with layer-wise learning rates (paper); `head-only`: the head on cached features. */
  readonly mode: "full" | "head-only";
  readonly policy: PairPolicy;
  readonly steps: number;
  /** Gain, multipliers and sampler are recomputed every this many steps. */
  readonly refreshEvery: number;
  readonly batchSize: number;
  /** Head learning rate (cosine-decayed to 0); the backbone gets `lr · backboneLrFactor`. */
  readonly lr: number;
  readonly backboneLrFactor: number;
  readonly weightDecay: number;
  /** Mixup λ ~ U(lambdaMin, 1), per sample. */
  readonly lambdaMin: number;
  readonly temperature: number;
  readonly temperatureScale: "absolute" | "spread";
  readonly gainVariant: "reference" | "paper";
  /** Stop when the largest gain stabilises (the reference's rule). */
  readonly earlyStop: boolean;
  /** Keep the weights with the best validation objective seen at a refresh (never the test set). */
  readonly selectBest: boolean;
  readonly augment: "none" | "weak";
  readonly flip: boolean;
  readonly seed: number;
}

/** The reference's fine-tuning settings for `objective`, adapted to `mode`. */
export function defaultFinetuneConfig(objective: ObjectiveName, mode: "full" | "head-only" = "full"): FinetuneConfig {
  return {
    objective,
    objectiveOptions: {},
    mode,
    policy: "selmix",
    steps: mode === "full" ? 500 : 10_000,
    refreshEvery: 50,
    batchSize: 64,
    lr: 3e-4,
    backboneLrFactor: 0.1,
    weightDecay: 5e-4,
    lambdaMin: 0.6,
    temperature: 0.1,
    temperatureScale: "absolute",
    gainVariant: "reference",
    earlyStop: false,
    selectBest: true,
    augment: "none",
    flip: false,
    seed: 0,
  };
}

/** The data of a fine-tuning run. */
export interface FinetuneData {
  readonly labeled: Subset;
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
  readonly onProgress?: ProgressListener;
  /** A custom (e.g. plug-in) objective instead of `config.objective`. */
  readonly objective?: Objective;
  readonly datasetManifestId?: string;
  /** Stop after this many steps (simulates a kill in tests; the run resumes later). */
  readonly stopAfterStep?: number;
  /**
   * Sees every batch of pairs before its step. `first`/`partner` are row numbers into `labeled.indices` and into
   * `unlabeled.indices` (semi-supervised) or `labeled.indices`; `partnerClass` is the partner's (pseudo-)label.
   */
  readonly onPairs?: (step: number, pairs: PairBatch) => void;
}

/** What {@link finetune} returns; the model holds the selected weights. */
export interface FinetuneResult {
  readonly diagnostics: readonly RefreshDiagnostics[];
  /** Step of the selected weights (the last step when `selectBest` is off). */
  readonly selectedStep: number;
  readonly selectedObjective: number;
  /** Steps actually trained (less than `steps` after an early stop). */
  readonly stepsRun: number;
  /** The last gain matrix (row-major K×K), for reports. */
  readonly lastGain: Float64Array;
  readonly lastDistribution: Float64Array;
  readonly completed: boolean;
}

interface ResumeState {
  step: number;
  rng: [number, number, number, number];
  objectiveState: number[] | null;
  bestValue: number;
  bestStep: number;
  maxGainHistory: number[];
}

function validate(c: FinetuneConfig): void {
  const positiveInt = (name: string, v: number): void => {
    if (!(Number.isInteger(v) && v > 0)) throw new SelmixError("INVALID_VALUE", `${name} must be a positive integer, got ${v}`);
  };
  positiveInt("steps", c.steps);
  positiveInt("refresh every", c.refreshEvery);
  positiveInt("batch size", c.batchSize);
  if (!(c.lr > 0)) throw new SelmixError("INVALID_VALUE", `lr must be > 0, got ${c.lr}`);
  if (!(c.lambdaMin >= 0 && c.lambdaMin <= 1)) throw new SelmixError("INVALID_VALUE", `lambda min must be in [0, 1], got ${c.lambdaMin}`);
  if (!(c.temperature > 0)) throw new SelmixError("INVALID_VALUE", `temperature must be > 0, got ${c.temperature}`);
}

const rowIds = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

/** The trainable part: a JS linear head on cached features, or the tfjs network. */
interface Learner {
  view(): Promise<ValidationView>;
  head(): { weight: ArrayLike<number>; bias: ArrayLike<number> };
  /** Pseudo-labels of the unlabelled pool from the current weights (never its true labels). */
  pseudoLabels(): Promise<Int32Array>;
  step(firstRows: Int32Array, partnerRows: Int32Array, lambdas: Float64Array, labels: Int32Array, lr: number): Promise<number>;
  snapshot(): NamedArray[];
  restore(weights: readonly NamedArray[]): void;
  /** Writes the learner's weights into the model (head-only keeps them in JS until then). */
  sync(): void;
  dispose(): void;
}

async function headOnlyLearner(model: Model, data: FinetuneData, valLabels: Int32Array, config: FinetuneConfig): Promise<Learner> {
  const withFeatures = { withFeatures: true } as const;
  const labeledFeatures = (await predict(model, data.labeled.dataset, data.labeled.indices, withFeatures)).features!;
  const validation = await predict(model, data.validation.dataset, data.validation.indices, withFeatures);
  const unlabeledFeatures = data.unlabeled ? (await predict(model, data.unlabeled.dataset, data.unlabeled.indices, withFeatures)).features! : undefined;
  const hw = model.headWeights();
  const head: LinearHead = { numClasses: hw.numClasses, dim: hw.featureDim, weight: Float64Array.from(hw.weight), bias: Float64Array.from(hw.bias) };
  const partnerFeatures = unlabeledFeatures ?? labeledFeatures;
  const asNamed = (): NamedArray[] => [
    { name: "head.weight", shape: [head.numClasses, head.dim], values: Float32Array.from(head.weight) },
    { name: "head.bias", shape: [head.numClasses], values: Float32Array.from(head.bias) },
  ];
  return {
    async view() {
      const { probabilities, predicted } = headPredict(head, validation.features!);
      return { labels: valLabels, features: validation.features!, probabilities, predicted };
    },
    head: () => head,
    async pseudoLabels() {
      return headPredict(head, unlabeledFeatures!).predicted;
    },
    async step(firstRows, partnerRows, lambdas, labels, lr) {
      return headSgdStep(head, labeledFeatures, firstRows, partnerFeatures, partnerRows, lambdas, labels, lr, config.weightDecay);
    },
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
    dispose() {},
  };
}

function fullLearner(model: Model, data: FinetuneData, valLabels: Int32Array, config: FinetuneConfig, rng: () => ReturnType<typeof createRng>): Learner {
  model.setBnMode("frozen-stats"); // batch statistics in the step, running statistics never updated, γ/β frozen
  const sgd: Sgd = createSgd(
    [
      { variables: model.paramGroups.head, lrFactor: 1, weightDecay: config.weightDecay },
      { variables: model.paramGroups.backbone, lrFactor: config.backboneLrFactor, weightDecay: config.weightDecay },
    ],
    0,
  );
  const vars = [...model.paramGroups.head, ...model.paramGroups.backbone];
  const partner = data.unlabeled ?? data.labeled;
  const augment = (): Parameters<typeof toFloatBatch>[2] =>
    config.augment === "weak" ? { kind: "weak", rng: rng(), options: { flip: config.flip } } : { kind: "none" };
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
      return (await predict(model, data.unlabeled!.dataset, data.unlabeled!.indices)).predicted;
    },
    async step(firstRows, partnerRows, lambdas, labels, lr) {
      const loss = tf.tidy(() => {
        const x1 = toFloatBatch(data.labeled.dataset, Int32Array.from(firstRows, (r) => data.labeled.indices[r]!), augment());
        const x2 = toFloatBatch(partner.dataset, Int32Array.from(partnerRows, (r) => partner.indices[r]!), augment());
        const lam = tf.tensor2d(Float32Array.from(lambdas), [lambdas.length, 1]);
        const y = tf.tensor1d(labels, "int32");
        const { value, grads } = tf.variableGrads(() => {
          const z = tf.add(tf.mul(lam, model.features(x1, true)), tf.mul(tf.sub(1, lam), model.features(x2, true))) as tf.Tensor2D;
          return crossEntropy(model.head(z), y);
        }, vars);
        sgd.step(grads, lr);
        return value;
      });
      const v = (await loss.data())[0]!;
      loss.dispose();
      return v;
    },
    snapshot: () => model.getWeights(),
    restore: (weights) => model.setWeights(weights),
    sync() {},
    dispose: () => sgd.dispose(),
  };
}

/**
 * SelMix fine-tuning. Every `refreshEvery` steps, on the validation set only: confusion matrix, prototypes,
 * multipliers, gain matrix, pair distribution, pair sampler (and pseudo-labels of the unlabelled pool). Each step
 * trains on feature mixups z = λ·g(x₁) + (1−λ)·g(x₂), λ ~ U(lambdaMin, 1), cross-entropy on x₁'s label, plain SGD
 * with cosine decay (head lr, backbone lr · factor, batch norm frozen). Writes `last.ckpt` at every refresh so a
 * killed run resumes with identical numbers, and diagnostics as JSON lines.
 *
 * @throws {@link SelmixError} `INVALID_VALUE` for a bad setting; `EMPTY_CLASS` when a class has no validation
 *   sample or no pool holds any usable class; `MISMATCH` when resuming another model's checkpoint.
 */
export async function finetune(model: Model, data: FinetuneData, config: FinetuneConfig, io: FinetuneIo = {}): Promise<FinetuneResult> {
  validate(config);
  const k = model.numClasses;
  const objective = io.objective ?? createObjective(config.objective, config.objectiveOptions);
  const valLabels = Int32Array.from(data.validation.indices, (i) => data.validation.dataset.labels[i]!);
  const labeledPool: Pool = {
    indices: rowIds(data.labeled.indices.length),
    labels: Int32Array.from(data.labeled.indices, (i) => data.labeled.dataset.labels[i]!),
  };
  const lastPath = io.checkpointDir === undefined ? undefined : join(io.checkpointDir, "last.ckpt");
  const bestPath = io.checkpointDir === undefined ? undefined : join(io.checkpointDir, "best.ckpt");

  let state: ResumeState = {
    step: 0,
    rng: createRng(config.seed).state() as [number, number, number, number],
    objectiveState: null,
    bestValue: Number.NEGATIVE_INFINITY,
    bestStep: -1,
    maxGainHistory: [1000],
  };
  let diagnostics: RefreshDiagnostics[] = [];
  if (lastPath !== undefined && (io.resume ?? true) && existsSync(lastPath)) {
    const ckpt = loadCheckpoint(lastPath, model);
    state = (ckpt.metadata.extra as unknown as { finetune: ResumeState }).finetune;
    if (io.diagnosticsPath !== undefined && existsSync(io.diagnosticsPath)) {
      diagnostics = readFileSync(io.diagnosticsPath, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as RefreshDiagnostics)
        .filter((d) => d.step < state.step);
    }
    io.onProgress?.({ kind: "resume", step: state.step, total: config.steps });
  }
  const rng = rngFromState(state.rng);
  const learner = config.mode === "head-only" ? await headOnlyLearner(model, data, valLabels, config) : fullLearner(model, data, valLabels, config, () => rng);
  if (config.mode === "head-only") model.setBnMode("eval");
  let objectiveState: ObjectiveState | undefined = state.objectiveState === null ? undefined : { multipliers: Float64Array.from(state.objectiveState) };
  let best: NamedArray[] | undefined;
  let sampler: PairSampler | undefined;
  let lastGain: Float64Array = new Float64Array(k * k);
  let lastDistribution: Float64Array = new Float64Array(k * k);
  let step = state.step;
  let completed = true;
  const settings = {
    policy: config.policy,
    lambdaMin: config.lambdaMin,
    temperature: config.temperature,
    temperatureScale: config.temperatureScale,
    gainVariant: config.gainVariant,
  } as const;

  const writeDiagnostics = (): void => {
    if (io.diagnosticsPath !== undefined) writeFileAtomic(io.diagnosticsPath, diagnostics.map((d) => `${JSON.stringify(d)}\n`).join(""));
  };
  const checkpoint = (): void => {
    if (lastPath === undefined) return;
    learner.sync();
    state = {
      step,
      rng: rng.state() as [number, number, number, number],
      objectiveState: objectiveState?.multipliers ? Array.from(objectiveState.multipliers) : null,
      bestValue: state.bestValue,
      bestStep: state.bestStep,
      maxGainHistory: state.maxGainHistory,
    };
    saveCheckpoint(lastPath, model, {
      step,
      extra: { finetune: state as unknown as JsonValue },
      ...(io.datasetManifestId ? { datasetManifestId: io.datasetManifestId } : {}),
    });
  };
  /** Validation pass + gain; returns whether to stop early. */
  const refresh = async (): Promise<boolean> => {
    const view = await learner.view();
    const r = refreshPolicy(step, view, learner.head(), k, model.featureDim, objective, objectiveState, settings);
    objectiveState = r.state;
    lastGain = r.gain;
    lastDistribution = r.distribution;
    diagnostics.push(r.diagnostics);
    writeDiagnostics();
    io.onProgress?.({ kind: "refresh", step, total: config.steps, objective: r.diagnostics.objective, effectivePairs: r.diagnostics.effectivePairs });
    if (r.diagnostics.objective > state.bestValue) {
      state.bestValue = r.diagnostics.objective;
      state.bestStep = step;
      best = learner.snapshot();
      if (bestPath !== undefined && config.selectBest) {
        learner.sync();
        saveCheckpoint(bestPath, model, { step, ...(io.datasetManifestId ? { datasetManifestId: io.datasetManifestId } : {}) });
      }
    }
    if (step >= config.steps) return true;
    const partner: Pool = data.unlabeled ? pseudoLabelPool(rowIds(data.unlabeled.indices.length), { classes: await learner.pseudoLabels() }) : labeledPool;
    sampler = createPairSampler({ distribution: r.distribution, numClasses: k, first: labeledPool, partner, rng, exploration: config.policy === "selmix" });
    state.maxGainHistory = [...state.maxGainHistory, r.diagnostics.maxGain];
    return config.earlyStop && gainConverged(state.maxGainHistory);
  };

  try {
    for (; step < config.steps; step++) {
      if (io.stopAfterStep !== undefined && step >= io.stopAfterStep) {
        completed = false;
        break;
      }
      if (step % config.refreshEvery === 0 || sampler === undefined) {
        checkpoint();
        if (await refresh()) break;
      }
      const batch = sampler!.sample(config.batchSize);
      io.onPairs?.(step, batch);
      const lambdas = Float64Array.from({ length: config.batchSize }, () => (config.policy === "class-balanced" ? 1 : rng.uniform(config.lambdaMin, 1)));
      const lr = config.lr * scheduleFactor("cosine", step, config.steps);
      const loss = await learner.step(batch.first, batch.partner, lambdas, batch.firstClass, lr);
      if (!Number.isFinite(loss)) throw new SelmixError("INVALID_VALUE", `fine-tuning loss became ${loss} at step ${step}; lower the learning rate`);
      io.onProgress?.({ kind: "step", step: step + 1, total: config.steps, loss, lr });
    }
    if (completed) await refresh(); // the final weights get a validation score too
  } finally {
    learner.dispose();
  }
  if (completed && config.selectBest) {
    // After a resume the best weights may predate this process: they are on disk then.
    const selected = best ?? (bestPath !== undefined && existsSync(bestPath) ? readCheckpoint(bestPath).weights : undefined);
    if (selected !== undefined) learner.restore(selected);
  }
  learner.sync();
  const selected = diagnostics.find((d) => d.step === state.bestStep);
  return {
    diagnostics,
    selectedStep: config.selectBest ? state.bestStep : step,
    selectedObjective: config.selectBest ? state.bestValue : (diagnostics.at(-1)?.objective ?? Number.NaN),
    stepsRun: step,
    lastGain,
    lastDistribution,
    completed: completed && (selected !== undefined || !config.selectBest),
  };
}
