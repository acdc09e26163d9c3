import { type Rng, SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import type { Objective, ObjectiveState } from "@selmix/metrics";
import { createPairSampler, type PairBatch, type PairSampler, type Pool, pseudoLabelPool } from "@selmix/samplers";
import { yieldToEventLoop } from "./event-loop.ts";
import { DEFAULT_FIRST_POOL, FIRST_POOLS, firstPool } from "./first-pool.ts";
import type { FinetuneConfig, FinetuneResult } from "./finetune.ts";
import { MIX_LABELS, MIXING_MODES, stepLambdas } from "./input-mixing.ts";
import { policyExplores, policyMixes } from "./policies.ts";
import type { ProgressListener } from "./progress.ts";
import { gainConverged, gainSwitches, type RefreshDiagnostics, refreshPolicy, type ValidationView } from "./refresh.ts";
import { scheduleFactor } from "./schedule.ts";

/**
 * The trainable part of a fine-tuning run: a JS linear head on cached features, or the tfjs network.
 * `S` is what {@link Learner.snapshot} returns (the best weights kept in memory).
 */
export interface Learner<S> {
  view(): Promise<ValidationView>;
  head(): { weight: ArrayLike<number>; bias: ArrayLike<number> };
  /** Pseudo-labels of the unlabelled pool from the current weights (never its true labels). */
  pseudoLabels(): Promise<Int32Array>;
  /**
   * One SGD step on mixups of the pairs; `lambdas` are the feature mixup's (1 in the input-only modes). A first row
   * r < (labelled rows) is labelled row r, else unlabelled row r − (labelled rows) (the `labeled+unlabeled` pool).
   */
  step(firstRows: Int32Array, partnerRows: Int32Array, lambdas: Float64Array, labels: Int32Array, lr: number, mix?: StepMix): Promise<number>;
  snapshot(): S;
  restore(weights: S): void;
  /** Frees the learner (and stops its gradient workers). */
  dispose(): void | Promise<void>;
}

/** What a full-network step needs beyond the feature λ: the input mix's λ and the partners' labels. */
export interface StepMix {
  /** Per-row λ of the input mix (`input-mixup`, `cutmix`, `feature+cutmix`). */
  readonly input?: Float64Array;
  /** The partners' (pseudo-)labels, for the `weighted` label rule. */
  readonly partnerLabels: Int32Array;
}

/** The loop's state at a refresh: what `last.ckpt` stores to resume a run with identical numbers. */
export interface LoopState {
  step: number;
  rng: [number, number, number, number];
  objectiveState: number[] | null;
  bestValue: number;
  bestStep: number;
  maxGainHistory: number[];
}

/** A fresh loop state for `rng`. */
export function initialLoopState(rng: Rng): LoopState {
  return {
    step: 0,
    rng: rng.state() as [number, number, number, number],
    objectiveState: null,
    bestValue: Number.NEGATIVE_INFINITY,
    bestStep: -1,
    maxGainHistory: [1000],
  };
}

/** What the loop needs to know about the data besides the learner. */
export interface LoopData {
  readonly numClasses: number;
  /** Feature dimension (of the prototypes). */
  readonly dim: number;
  /** Labels of the labelled rows, in the learner's row order. */
  readonly labeledLabels: Int32Array;
  /** Rows of the unlabelled pool (semi-supervised), in the learner's row order. */
  readonly unlabeledCount?: number;
}

/** Side effects of the loop: diagnostics, progress, and the model-based run's checkpoints. */
export interface LoopIo {
  readonly diagnosticsPath?: string;
  readonly onProgress?: ProgressListener;
  readonly stopAfterStep?: number;
  readonly onPairs?: (step: number, pairs: PairBatch) => void;
  /** Samples pairs from this K×K distribution instead of the policy's (`FinetuneIo.pairDistribution`). */
  readonly pairDistribution?: Float64Array;
  /** Before every refresh, with the state to save for resuming. */
  readonly onCheckpoint?: (state: LoopState) => void;
  /** A new best validation objective at `step` (the learner holds those weights now). */
  readonly onBest?: (step: number) => void;
}

/** What {@link runFinetuneLoop} ends with; the learner holds the last weights. */
export interface LoopOutcome<S> {
  readonly state: LoopState;
  readonly diagnostics: RefreshDiagnostics[];
  /** Snapshot of the best weights seen by this call (undefined after a resume when the best predates it). */
  readonly best: S | undefined;
  readonly step: number;
  readonly completed: boolean;
  readonly lastGain: Float64Array;
  readonly lastDistribution: Float64Array;
}

/**
 * Checks the numeric settings of a fine-tuning config.
 *
 * @throws `SelmixError` `INVALID_VALUE` for a bad setting.
 */
export function validateFinetuneConfig(c: FinetuneConfig): void {
  const positiveInt = (name: string, v: number): void => {
    if (!(Number.isInteger(v) && v > 0)) throw new SelmixError("INVALID_VALUE", `${name} must be a positive integer, got ${v}`);
  };
  positiveInt("steps", c.steps);
  positiveInt("refresh every", c.refreshEvery);
  positiveInt("batch size", c.batchSize);
  if (c.workers !== undefined) positiveInt("workers", c.workers);
  if (!(c.lr > 0)) throw new SelmixError("INVALID_VALUE", `lr must be > 0, got ${c.lr}`);
  if (!(c.lambdaMin >= 0 && c.lambdaMin <= 1)) throw new SelmixError("INVALID_VALUE", `lambda min must be in [0, 1], got ${c.lambdaMin}`);
  if (!(c.temperature > 0)) throw new SelmixError("INVALID_VALUE", `temperature must be > 0, got ${c.temperature}`);
  const known = <T extends string>(name: string, value: T | undefined, allowed: readonly T[]): void => {
    if (value !== undefined && !allowed.includes(value)) throw new SelmixError("INVALID_ARGUMENT", `unknown ${name} "${String(value)}"; expected one of ${allowed.join(", ")}`);
  };
  known("mixing", c.mixing, MIXING_MODES);
  known("mix label", c.mixLabel, MIX_LABELS);
  known("first pool", c.firstPool, FIRST_POOLS);
}

/**
 * Refuses input mixing and soft labels where only features exist (head-only fine-tuning, `finetuneFeatures`).
 *
 * @throws `SelmixError` `INVALID_ARGUMENT` naming the setting.
 */
export function assertFeatureMixing(c: FinetuneConfig, where: string): void {
  if ((c.mixing ?? "feature") !== "feature") throw new SelmixError("INVALID_ARGUMENT", `mixing "${c.mixing}" mixes images: ${where} trains on extracted features; use feature mixing or full-network fine-tuning`);
  if ((c.mixLabel ?? "first") !== "first") throw new SelmixError("INVALID_ARGUMENT", `mix label "${c.mixLabel}": ${where} trains on x1's label only; use the first label rule or full-network fine-tuning`);
}

/** Row numbers 0..n-1. */
export const rowIds = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

/**
 * The SelMix fine-tuning loop shared by the model-based and the feature-array runs. Every `refreshEvery` steps, on
 * the validation set only: confusion matrix, prototypes, multipliers, gain matrix, pair distribution, pair sampler
 * (and pseudo-labels of the unlabelled pool). Each step trains the learner on mixups of sampled pairs with the
 * cosine-decayed learning rate. Disposes the learner at the end.
 *
 * @param start - the state to start (or resume) from; it is updated in place.
 * @param previous - diagnostics of the steps before `start.step` (a resumed run).
 * @throws `SelmixError` `INVALID_VALUE` when the loss becomes non-finite; `EMPTY_CLASS` from the refresh and
 *   the sampler.
 */
export async function runFinetuneLoop<S>(
  learner: Learner<S>,
  data: LoopData,
  config: FinetuneConfig,
  objective: Objective,
  rng: Rng,
  start: LoopState,
  previous: readonly RefreshDiagnostics[],
  io: LoopIo = {},
): Promise<LoopOutcome<S>> {
  const k = data.numClasses;
  const state = start;
  const diagnostics = [...previous];
  const labeledPool: Pool = { indices: rowIds(data.labeledLabels.length), labels: data.labeledLabels };
  let objectiveState: ObjectiveState | undefined = state.objectiveState === null ? undefined : { multipliers: Float64Array.from(state.objectiveState) };
  let best: S | undefined;
  let sampler: PairSampler | undefined;
  let lastGain: Float64Array = new Float64Array(k * k);
  let lastDistribution: Float64Array = new Float64Array(k * k);
  let step = state.step;
  let completed = true;
  const noMixup = !policyMixes(config.policy);
  const settings = {
    policy: config.policy,
    lambdaMin: config.lambdaMin,
    temperature: config.temperature,
    temperatureScale: config.temperatureScale,
    gain: gainSwitches(config),
  } as const;

  const writeDiagnostics = (): void => {
    if (io.diagnosticsPath !== undefined) writeFileAtomic(io.diagnosticsPath, diagnostics.map((d) => `${JSON.stringify(d)}\n`).join(""));
  };
  const checkpoint = (): void => {
    if (io.onCheckpoint === undefined) return;
    state.step = step;
    state.rng = rng.state() as [number, number, number, number];
    state.objectiveState = objectiveState?.multipliers ? Array.from(objectiveState.multipliers) : null;
    io.onCheckpoint({ ...state });
  };
  /** Validation pass + gain; returns whether to stop early. */
  const refresh = async (): Promise<boolean> => {
    const view = await learner.view();
    const r = refreshPolicy(step, view, learner.head(), k, data.dim, objective, objectiveState, settings);
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
      io.onBest?.(step);
    }
    if (step >= config.steps) return true;
    const pseudo = data.unlabeledCount === undefined ? undefined : await learner.pseudoLabels();
    const partner: Pool = pseudo === undefined ? labeledPool : pseudoLabelPool(rowIds(pseudo.length), { classes: pseudo });
    const first = firstPool(config.firstPool ?? DEFAULT_FIRST_POOL, labeledPool, pseudo);
    sampler = createPairSampler({ distribution: io.pairDistribution ?? r.distribution, numClasses: k, first, partner, rng, exploration: policyExplores(config.policy) });
    state.maxGainHistory = [...state.maxGainHistory, r.diagnostics.maxGain];
    return config.earlyStop && gainConverged(state.maxGainHistory);
  };

  try {
    for (; step < config.steps; step++) {
      if (io.stopAfterStep !== undefined && step >= io.stopAfterStep) {
        completed = false;
        break;
      }
      await yieldToEventLoop();
      if (step % config.refreshEvery === 0 || sampler === undefined) {
        checkpoint();
        if (await refresh()) break;
      }
      const batch = sampler!.sample(config.batchSize);
      io.onPairs?.(step, batch);
      const draw = (): Float64Array => Float64Array.from({ length: config.batchSize }, () => (noMixup ? 1 : rng.uniform(config.lambdaMin, 1)));
      const lambdas = stepLambdas(config.mixing ?? "feature", draw(), draw);
      const lr = config.lr * scheduleFactor("cosine", step, config.steps);
      const mix = { ...(lambdas.input === undefined ? {} : { input: lambdas.input }), partnerLabels: batch.partnerClass };
      const loss = await learner.step(batch.first, batch.partner, lambdas.feature, batch.firstClass, lr, mix);
      if (!Number.isFinite(loss)) throw new SelmixError("INVALID_VALUE", `fine-tuning loss became ${loss} at step ${step}; lower the learning rate`);
      io.onProgress?.({ kind: "step", step: step + 1, total: config.steps, loss, lr });
    }
    if (completed) await refresh(); // the final weights get a validation score too
  } finally {
    await learner.dispose();
  }
  return { state, diagnostics, best, step, completed, lastGain, lastDistribution };
}

/** The {@link FinetuneResult} of a finished loop. */
export function loopResult(config: FinetuneConfig, outcome: LoopOutcome<unknown>): FinetuneResult {
  const { state, diagnostics } = outcome;
  const selected = diagnostics.find((d) => d.step === state.bestStep);
  return {
    diagnostics,
    selectedStep: config.selectBest ? state.bestStep : outcome.step,
    selectedObjective: config.selectBest ? state.bestValue : (diagnostics.at(-1)?.objective ?? Number.NaN),
    stepsRun: outcome.step,
    lastGain: outcome.lastGain,
    lastDistribution: outcome.lastDistribution,
    completed: outcome.completed && (selected !== undefined || !config.selectBest),
  };
}
