import { join, resolve } from "node:path";
import { SelmixError } from "@selmix/core";
import { type ClassPrior, confusionFromPredictions, evaluateMetrics, type MetricReport, OBJECTIVE_NAMES, type ObjectiveName, type ObjectiveOptions } from "@selmix/metrics";
import {
  defaultFinetuneConfig,
  type FeatureData,
  type FinetuneConfig,
  type FinetuneResult,
  type FirstPool,
  finetuneFeatures,
  headPredict,
  type LinearHead,
  type GainConfusion,
  type GainVariant,
  type PairPolicy,
  type ProgressListener,
  type TargetTerm,
  writeNpy,
} from "@selmix/trainers";
import { z } from "zod";
import { validateOptions } from "../config-file.ts";
import { createProgress } from "../progress.ts";
import { checkLabels, type FeatureFile, readFeatureFile, readHeadFiles, readLabelFile } from "./head-files.ts";
import { withRunListener } from "./common.ts";
import { assertSameRun, openRunDir, requireOutDir, writeJson } from "./run-dir.ts";
import { fitStartHead } from "./start-head.ts";
import { firstPoolKey, gainSwitchesOf, objectiveOptionsFrom, SELMIX_OPTION_SHAPE } from "./selmix-options.ts";

/** Options of `selmix finetune-head` (the flags in camelCase). */
export interface FinetuneHeadInput {
  readonly trainFeatures?: string;
  readonly trainLabels?: string;
  readonly valFeatures?: string;
  readonly valLabels?: string;
  readonly testFeatures?: string;
  readonly testLabels?: string;
  readonly unlabeledFeatures?: string;
  readonly headWeights?: string;
  readonly headBias?: string;
  readonly initSteps?: number;
  readonly objective?: ObjectiveName;
  readonly policy?: PairPolicy;
  readonly steps?: number;
  readonly refreshEvery?: number;
  readonly batchSize?: number;
  readonly lr?: number;
  readonly weightDecay?: number;
  readonly lambdaMin?: number;
  readonly temperature?: number;
  readonly temperatureScale?: "absolute" | "spread";
  readonly gainVariant?: GainVariant;
  readonly confusion?: GainConfusion;
  readonly targetTerm?: TargetTerm;
  readonly prior?: ClassPrior;
  readonly earlyStop?: boolean;
  readonly selectBest?: boolean;
  readonly firstPool?: FirstPool;
  readonly seed?: number;
  readonly rate?: number;
  readonly memory?: number;
  readonly headFraction?: number;
  readonly coverageAlpha?: number;
  readonly coverageTau?: number;
  readonly lambdaMax?: number;
}

const inputSchema = z
  .strictObject({
    trainFeatures: z.string().min(1),
    trainLabels: z.string().min(1),
    valFeatures: z.string().min(1),
    valLabels: z.string().min(1),
    testFeatures: z.string().min(1),
    testLabels: z.string().min(1),
    unlabeledFeatures: z.string().min(1),
    headWeights: z.string().min(1),
    headBias: z.string().min(1),
    initSteps: z.int().positive(),
    ...SELMIX_OPTION_SHAPE,
  })
  .partial();

/** Validates the flags of `selmix finetune-head`; errors name the flag. */
export function parseFinetuneHeadInput(value: unknown): FinetuneHeadInput {
  return validateOptions(inputSchema, value, undefined) as FinetuneHeadInput;
}

/** Defaults of `selmix finetune-head` that differ from the head-only trainer's (tuned for features from any backbone). */
export const FINETUNE_HEAD_DEFAULTS = { steps: 5000, lr: 0.01, temperature: 0.5, temperatureScale: "spread", initSteps: 500, earlyStop: false } as const;

/** The resolved settings, written to OUT/config.json. */
export interface FinetuneHeadRunConfig extends Omit<FinetuneConfig, "objectiveOptions"> {
  readonly command: "finetune-head";
  /** Absolute paths of the input files. */
  readonly files: Record<string, string>;
  /** `given` (--head-weights/--head-bias) or `fitted` (logit-adjusted softmax regression, `initSteps` steps). */
  readonly startHead: "given" | "fitted";
  readonly initSteps?: number;
  readonly objectiveOptions: ObjectiveOptions;
}

/** What {@link runFinetuneHead} produced. */
export interface FinetuneHeadOutcome {
  readonly config: FinetuneHeadRunConfig;
  readonly numClasses: number;
  readonly dim: number;
  readonly result: FinetuneResult;
  /** Where before/after were measured: the test set when given, else the validation set. */
  readonly split: "test" | "validation";
  readonly before: MetricReport;
  readonly after: MetricReport;
}

const FILE_KEYS = ["trainFeatures", "trainLabels", "valFeatures", "valLabels", "testFeatures", "testLabels", "unlabeledFeatures", "headWeights", "headBias"] as const;

function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new SelmixError("USAGE", `${flag} is required`);
  return value;
}

function sameDim(file: FeatureFile, dim: number, reference: string): void {
  if (file.dim !== dim) throw new SelmixError("INVALID_SHAPE", `${file.path}: features have dimension ${file.dim} but ${reference} has ${dim}`);
}

function resolveConfig(input: FinetuneHeadInput, objective: ObjectiveName, files: Record<string, string>, given: boolean): FinetuneHeadRunConfig {
  const d = defaultFinetuneConfig(objective, "head-only");
  const objectiveOptions = objectiveOptionsFrom(input);
  return {
    command: "finetune-head",
    files,
    startHead: given ? "given" : "fitted",
    ...(given ? {} : { initSteps: input.initSteps ?? FINETUNE_HEAD_DEFAULTS.initSteps }),
    ...d,
    objectiveOptions,
    policy: input.policy ?? d.policy,
    steps: input.steps ?? FINETUNE_HEAD_DEFAULTS.steps,
    refreshEvery: input.refreshEvery ?? d.refreshEvery,
    batchSize: input.batchSize ?? d.batchSize,
    lr: input.lr ?? FINETUNE_HEAD_DEFAULTS.lr,
    weightDecay: input.weightDecay ?? d.weightDecay,
    lambdaMin: input.lambdaMin ?? d.lambdaMin,
    temperature: input.temperature ?? FINETUNE_HEAD_DEFAULTS.temperature,
    temperatureScale: input.temperatureScale ?? FINETUNE_HEAD_DEFAULTS.temperatureScale,
    ...gainSwitchesOf(input, d),
    earlyStop: input.earlyStop ?? FINETUNE_HEAD_DEFAULTS.earlyStop,
    selectBest: input.selectBest ?? d.selectBest,
    ...firstPoolKey(input.firstPool, input.unlabeledFeatures !== undefined, "--unlabeled-features"),
    seed: input.seed ?? d.seed,
    // features, not images: nothing to augment
    augment: "none",
    flip: false,
  };
}

function metricsOf(head: LinearHead, features: Float32Array, labels: Int32Array, options: ObjectiveOptions): MetricReport {
  return evaluateMetrics(confusionFromPredictions(labels, headPredict(head, features).predicted, head.numClasses), options.split);
}

/**
 * `selmix finetune-head` without the printing: reads the `.npy` files, starts from the given head (or fits one),
 * runs `finetuneFeatures`, and writes OUT/head-weights.npy, head-bias.npy (float32 [K, d] and [K]),
 * diagnostics.jsonl, metrics.json ({ before, after } on the test set if given, else validation), config.json and
 * last-state.json (a repeated command resumes from it; `resume` false starts over).
 *
 * @throws `SelmixError` `USAGE` for a missing required file or a half-given pair (head, test); the codes of
 *   the file readers (each naming its file), of the run directory (`LOCKED`, `MISMATCH`) and of
 *   `finetuneFeatures`.
 */
export async function runFinetuneHead(
  input: FinetuneHeadInput,
  out: string,
  json: boolean,
  resume = true,
  hooks: { readonly onProgress?: ProgressListener } = {},
): Promise<FinetuneHeadOutcome> {
  requireOutDir(out);
  const objective = required(input.objective, `--objective (one of ${OBJECTIVE_NAMES.join(", ")})`);
  if ((input.headWeights === undefined) !== (input.headBias === undefined)) {
    throw new SelmixError("USAGE", "--head-weights and --head-bias go together: give both or neither");
  }
  if ((input.testFeatures === undefined) !== (input.testLabels === undefined)) {
    throw new SelmixError("USAGE", "--test-features and --test-labels go together: give both or neither");
  }
  const train = readFeatureFile(required(input.trainFeatures, "--train-features"));
  const trainLabels = readLabelFile(required(input.trainLabels, "--train-labels"));
  const val = readFeatureFile(required(input.valFeatures, "--val-features"));
  const valLabels = readLabelFile(required(input.valLabels, "--val-labels"));
  sameDim(val, train.dim, train.path);
  const test = input.testFeatures === undefined ? undefined : readFeatureFile(input.testFeatures);
  const testLabels = input.testLabels === undefined ? undefined : readLabelFile(input.testLabels);
  if (test !== undefined) sameDim(test, train.dim, train.path);
  const unlabeled = input.unlabeledFeatures === undefined ? undefined : readFeatureFile(input.unlabeledFeatures);
  if (unlabeled !== undefined) sameDim(unlabeled, train.dim, train.path);
  const given = input.headWeights === undefined || input.headBias === undefined ? undefined : readHeadFiles(input.headWeights, input.headBias);
  if (given !== undefined && given.weight.length !== (given.bias.length * train.dim)) {
    throw new SelmixError("INVALID_SHAPE", `${input.headWeights}: head has ${given.weight.length / given.bias.length} inputs but the features have dimension ${train.dim}`);
  }

  const maxLabel = Math.max(...[trainLabels, valLabels].map((y) => y.reduce((a, b) => Math.max(a, b), 0)));
  const k = given === undefined ? maxLabel + 1 : given.bias.length;
  const classesFrom = given === undefined ? "K = largest training/validation label + 1" : `the head has ${k} classes`;
  checkLabels(train, input.trainLabels!, trainLabels, k, classesFrom);
  checkLabels(val, input.valLabels!, valLabels, k, classesFrom);
  if (test !== undefined) checkLabels(test, input.testLabels!, testLabels!, k, classesFrom);
  const seen = new Uint8Array(k);
  for (const y of valLabels) seen[y] = 1;
  if (seen.includes(0)) throw new SelmixError("EMPTY_CLASS", `${val.path}: class ${seen.indexOf(0)} has no validation sample (${classesFrom})`);

  const files = Object.fromEntries(FILE_KEYS.flatMap((key) => (input[key] === undefined ? [] : [[key, resolve(input[key])]])));
  const config = resolveConfig(input, objective, files, given !== undefined);
  const start: LinearHead =
    given === undefined
      ? fitStartHead(train.features, trainLabels, k, train.dim, { steps: config.initSteps!, seed: config.seed })
      : { numClasses: k, dim: train.dim, weight: Float64Array.from(given.weight), bias: Float64Array.from(given.bias) };
  const data: FeatureData = {
    numClasses: k,
    dim: train.dim,
    labeled: { features: train.features, labels: trainLabels },
    validation: { features: val.features, labels: valLabels },
    ...(unlabeled === undefined ? {} : { unlabeled: { features: unlabeled.features } }),
  };
  const release = openRunDir(out, resume, "finetune-head");
  try {
    if (resume) assertSameRun(out, config);
    writeJson(join(out, "config.json"), config);
    return await trainAndWrite(config, data, start, out, json, hooks, { test, testLabels, val, valLabels, k, dim: train.dim, objective });
  } finally {
    release();
  }
}

interface EvalData {
  readonly test: FeatureFile | undefined;
  readonly testLabels: Int32Array | undefined;
  readonly val: FeatureFile;
  readonly valLabels: Int32Array;
  readonly k: number;
  readonly dim: number;
  readonly objective: ObjectiveName;
}

async function trainAndWrite(
  config: FinetuneHeadRunConfig,
  data: FeatureData,
  start: LinearHead,
  out: string,
  json: boolean,
  hooks: { readonly onProgress?: ProgressListener },
  { test, testLabels, val, valLabels, k, dim, objective }: EvalData,
): Promise<FinetuneHeadOutcome> {
  const { command: _c, files: _f, startHead: _s, initSteps: _i, ...trainer } = config;
  const progress = createProgress("finetune-head", { json });
  let trained: Awaited<ReturnType<typeof finetuneFeatures>>;
  try {
    trained = await finetuneFeatures(data, start, { ...trainer, mode: "head-only" }, {
      statePath: join(out, "last-state.json"),
      diagnosticsPath: join(out, "diagnostics.jsonl"),
      onProgress: withRunListener(progress.listener, hooks),
    });
  } finally {
    progress.done();
  }
  const weight = Float32Array.from(trained.head.weight);
  const bias = Float32Array.from(trained.head.bias);
  writeNpy(join(out, "head-weights.npy"), weight, [k, dim]);
  writeNpy(join(out, "head-bias.npy"), bias, [k]);
  // Measured on the float32 head as written, so metrics.json describes the files.
  const after: LinearHead = { numClasses: k, dim: dim, weight: Float64Array.from(weight), bias: Float64Array.from(bias) };
  const split = test === undefined ? "validation" : "test";
  const evalOn = test === undefined ? { features: val.features, labels: valLabels } : { features: test.features, labels: testLabels! };
  const before = metricsOf(start, evalOn.features, evalOn.labels, config.objectiveOptions);
  const afterMetrics = metricsOf(after, evalOn.features, evalOn.labels, config.objectiveOptions);
  const r = trained.result;
  writeJson(join(out, "metrics.json"), {
    objective,
    split,
    startHead: config.startHead,
    selectedStep: r.selectedStep,
    selectedObjective: r.selectedObjective,
    stepsRun: r.stepsRun,
    before,
    after: afterMetrics,
  });
  return { config, numClasses: k, dim: dim, result: r, split, before, after: afterMetrics };
}
