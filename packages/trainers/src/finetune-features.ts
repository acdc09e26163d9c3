import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { createRng, rngFromState, SelmixError } from "@selmix/core";
import { createObjective, type Objective } from "@selmix/metrics";
import type { PairBatch } from "@selmix/samplers";
import type { FinetuneConfig, FinetuneResult } from "./finetune.ts";
import { readDiagnosticsBefore } from "./diagnostics-file.ts";
import { assertFeatureMixing, initialLoopState, type LoopState, loopResult, runFinetuneLoop, validateFinetuneConfig } from "./finetune-loop.ts";
import { arrayHeadLearner, type HeadSnapshot } from "./head-learner.ts";
import { readHeadState, writeHeadState } from "./head-state-file.ts";
import type { LinearHead } from "./linear-head.ts";
import type { ProgressListener } from "./progress.ts";
import type { RefreshDiagnostics } from "./refresh.ts";
import { assertSameRunIdentity, runIdentity } from "./run-identity.ts";

/** Features of a frozen backbone (row-major [N, dim] each) and their labels, from any framework. */
export interface FeatureData {
  /** Number of classes K. */
  readonly numClasses: number;
  /** Feature dimension d. */
  readonly dim: number;
  /** The training set. */
  readonly labeled: {
    /** Row-major [N, dim]. */
    readonly features: Float32Array;
    /** `[N]`, in 0..K-1. */
    readonly labels: Int32Array;
  };
  /** Drives the gain, the multipliers and the selection of the best head; never trained on. */
  readonly validation: {
    /** Row-major [N, dim]. */
    readonly features: Float32Array;
    /** `[N]`, in 0..K-1. */
    readonly labels: Int32Array;
  };
  /** Semi-supervised: mixup partners come from this pool by the current head's pseudo-labels. */
  readonly unlabeled?: {
    /** Row-major [N, dim]. */
    readonly features: Float32Array;
  };
}

/** A linear head: logits = W·z + b, `weight` row-major [numClasses, dim], `bias` [numClasses]. */
export interface HeadParameters {
  /** Row-major [numClasses, dim]. */
  readonly weight: Float32Array | Float64Array;
  /** `[numClasses]`. */
  readonly bias: Float32Array | Float64Array;
}

/** Diagnostics, progress and the resumable state of {@link finetuneFeatures}. */
export interface FinetuneFeaturesIo {
  /**
   * A JSON state file written (atomically) at every refresh: loop state, RNG, multipliers, the float64 head and
   * the best head so far. A killed run given the same file resumes with identical numbers.
   */
  readonly statePath?: string;
  /** Continue from `statePath` when it exists. @defaultValue true */
  readonly resume?: boolean;
  /** Stop after this many steps (simulates a kill in tests; the run resumes later). */
  readonly stopAfterStep?: number;
  /** Receives progress events. */
  readonly onProgress?: ProgressListener;
  /** One JSON line per refresh. */
  readonly diagnosticsPath?: string;
  /** A custom (e.g. plug-in) objective instead of `config.objective`. */
  readonly objective?: Objective;
  /**
   * Sees every batch of pairs (row numbers into the feature arrays) before its step; with the `labeled+unlabeled`
   * first pool a first row r ≥ n (the labelled count) is unlabelled row r − n.
   */
  readonly onPairs?: (step: number, pairs: PairBatch) => void;
}

/** What {@link finetuneFeatures} returns: the selected head (new arrays) and the run's record. */
export interface FinetuneFeaturesResult {
  /** The selected head. */
  readonly head: {
    /** Row-major [numClasses, dim]. */
    readonly weight: Float64Array;
    /** `[numClasses]`. */
    readonly bias: Float64Array;
  };
  /** The run's record. */
  readonly result: FinetuneResult;
}

function checkRows(what: string, features: Float32Array, rows: number, dim: number): void {
  if (rows === 0) throw new SelmixError("INVALID_SHAPE", `${what} is empty`);
  if (features.length !== rows * dim) {
    throw new SelmixError("INVALID_SHAPE", `${what}.features has ${features.length} values; expected ${rows} rows × ${dim} = ${rows * dim}`);
  }
}

function checkFinite(what: string, values: ArrayLike<number>): void {
  for (let j = 0; j < values.length; j++) {
    if (!Number.isFinite(values[j])) throw new SelmixError("INVALID_VALUE", `${what}[${j}] is ${values[j]}`);
  }
}

function checkLabels(what: string, labels: Int32Array, k: number): void {
  for (let j = 0; j < labels.length; j++) {
    const y = labels[j]!;
    if (y < 0 || y >= k) throw new SelmixError("INVALID_VALUE", `${what}.labels[${j}] = ${y} is outside [0, ${k})`);
  }
}

/** SHA-256 of every input array: a state file resumes only the run on the same data and start head. */
function inputsDigest(data: FeatureData, head: HeadParameters): string {
  const hash = createHash("sha256");
  const add = (a: ArrayBufferView): void => void hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  hash.update(`${data.numClasses}:${data.dim}`);
  for (const a of [data.labeled.features, data.labeled.labels, data.validation.features, data.validation.labels]) add(a);
  if (data.unlabeled !== undefined) add(data.unlabeled.features);
  add(Float64Array.from(head.weight));
  add(Float64Array.from(head.bias));
  return hash.digest("hex");
}

function checkInputs(data: FeatureData, head: HeadParameters): void {
  const { numClasses: k, dim } = data;
  if (!(Number.isInteger(k) && k >= 2)) throw new SelmixError("INVALID_VALUE", `numClasses must be an integer >= 2, got ${k}`);
  if (!(Number.isInteger(dim) && dim > 0)) throw new SelmixError("INVALID_VALUE", `dim must be a positive integer, got ${dim}`);
  checkRows("labeled", data.labeled.features, data.labeled.labels.length, dim);
  checkRows("validation", data.validation.features, data.validation.labels.length, dim);
  if (data.unlabeled !== undefined) {
    const n = data.unlabeled.features.length;
    if (n === 0 || n % dim !== 0) throw new SelmixError("INVALID_SHAPE", `unlabeled.features has ${n} values; expected a positive multiple of dim ${dim}`);
  }
  if (head.weight.length !== k * dim) {
    throw new SelmixError("INVALID_SHAPE", `head.weight has ${head.weight.length} values; expected [${k}, ${dim}] = ${k * dim}`);
  }
  if (head.bias.length !== k) throw new SelmixError("INVALID_SHAPE", `head.bias has ${head.bias.length} values; expected ${k}`);
  checkLabels("labeled", data.labeled.labels, k);
  checkLabels("validation", data.validation.labels, k);
  const seen = new Uint8Array(k);
  for (const y of data.validation.labels) seen[y] = 1;
  const missing = seen.indexOf(0);
  if (missing >= 0) throw new SelmixError("EMPTY_CLASS", `class ${missing} has no validation sample; the gain needs every class's prototype`);
  checkFinite("labeled.features", data.labeled.features);
  checkFinite("validation.features", data.validation.features);
  if (data.unlabeled !== undefined) checkFinite("unlabeled.features", data.unlabeled.features);
  checkFinite("head.weight", head.weight);
  checkFinite("head.bias", head.bias);
}

/**
 * SelMix fine-tuning of a linear head on features exported from any framework ("bring your own backbone"): the
 * same loop as {@link finetune}'s head-only mode (refresh on the validation set, gain, pair sampler, feature
 * mixups, cosine-decayed SGD, best-validation selection), on arrays. The backbone is assumed frozen, so the
 * validation prototypes are exact. Deterministic: the same inputs and seed give the same head. `head` is not
 * modified. With `io.statePath` a killed run resumes with identical numbers.
 *
 * @param data - Features and labels of the splits.
 * @param head - Initial head (not modified).
 * @param config - Fine-tuning settings; `mode` must be `head-only`.
 * @param io - Progress, diagnostics, custom objective and pair hook.
 * @throws `SelmixError` `INVALID_ARGUMENT` when `config.mode` is not `head-only`; `INVALID_VALUE` for a bad
 *   setting, a label outside [0, numClasses), a non-finite feature or head value, or a loss that becomes
 *   non-finite; `INVALID_SHAPE` when an array does not match `numClasses`/`dim` (the message names it);
 *   `EMPTY_CLASS` when a class has no validation sample or no pool holds a usable class; `MISMATCH` when
 *   `io.statePath` holds another run's state (another trainer, input data or config: the message says which);
 *   `CORRUPT_FILE` for a damaged state or diagnostics file.
 *
 * @example
 * {@includeCode ./examples.test.ts#finetuneFeatures}
 */
export async function finetuneFeatures(
  data: FeatureData,
  head: HeadParameters,
  config: FinetuneConfig,
  io: FinetuneFeaturesIo = {},
): Promise<FinetuneFeaturesResult> {
  if (config.mode !== "head-only") {
    throw new SelmixError("INVALID_ARGUMENT", `finetuneFeatures trains the head only: config.mode must be "head-only", got "${config.mode}"`);
  }
  validateFinetuneConfig(config);
  assertFeatureMixing(config, "finetuneFeatures");
  checkInputs(data, head);
  const { numClasses, dim } = data;
  const trained: LinearHead = { numClasses, dim, weight: Float64Array.from(head.weight), bias: Float64Array.from(head.bias) };
  const features = { labeled: data.labeled.features, validation: data.validation.features, validationLabels: data.validation.labels };
  const learner = arrayHeadLearner(trained, data.unlabeled ? { ...features, unlabeled: data.unlabeled.features } : features, config.weightDecay);
  const objective = io.objective ?? createObjective(config.objective, config.objectiveOptions);
  const identity = runIdentity("finetune-features", { ...config, customObjective: io.objective?.name ?? null }, inputsDigest(data, head));
  let state: LoopState = initialLoopState(createRng(config.seed));
  let previous: RefreshDiagnostics[] = [];
  let bestHead: HeadSnapshot | null = null;
  const statePath = io.statePath;
  if (statePath !== undefined && (io.resume ?? true) && existsSync(statePath)) {
    const saved = readHeadState(statePath, numClasses, dim);
    assertSameRunIdentity(statePath, saved.run, identity);
    state = saved.loop;
    trained.weight.set(saved.head.weight);
    trained.bias.set(saved.head.bias);
    bestHead = saved.best;
    if (io.diagnosticsPath !== undefined) previous = readDiagnosticsBefore(io.diagnosticsPath, state.step);
    io.onProgress?.({ kind: "resume", step: state.step, total: config.steps });
  }
  const rng = rngFromState(state.rng);
  const loopData = {
    numClasses,
    dim,
    labeledLabels: data.labeled.labels,
    ...(data.unlabeled ? { unlabeledCount: data.unlabeled.features.length / dim } : {}),
  };
  const outcome = await runFinetuneLoop(learner, loopData, config, objective, rng, state, previous, {
    ...(io.diagnosticsPath === undefined ? {} : { diagnosticsPath: io.diagnosticsPath }),
    ...(io.onProgress === undefined ? {} : { onProgress: io.onProgress }),
    ...(io.onPairs === undefined ? {} : { onPairs: io.onPairs }),
    ...(io.stopAfterStep === undefined ? {} : { stopAfterStep: io.stopAfterStep }),
    onBest: () => {
      bestHead = learner.snapshot();
    },
    ...(statePath === undefined
      ? {}
      : { onCheckpoint: (loop: LoopState) => writeHeadState(statePath, { run: identity, loop, head: learner.snapshot(), best: bestHead }) }),
  });
  const best = outcome.best ?? bestHead ?? undefined; // after a resume the best may predate this call: it was in the state
  if (outcome.completed && config.selectBest && best !== undefined) learner.restore(best);
  return { head: { weight: trained.weight, bias: trained.bias }, result: loopResult(config, outcome) };
}
