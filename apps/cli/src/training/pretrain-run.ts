import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { SelmixError } from "@selmix/core";
import {
  createManifest,
  loadManifest,
  loadSource,
  type Manifest,
  materialize,
  PROFILE_NAMES,
  type ProfileName,
  type ProfileOptions,
  type ProfileParams,
  resolveProfile,
  SOURCE_NAMES,
  type SourceName,
  type Splits,
  splitsFromManifest,
  writeManifest,
} from "@selmix/datasets";
import type { MetricReport } from "@selmix/metrics";
import { type BackendChoice, createModel, loadCheckpoint, MODEL_ARCHS, type ModelArch } from "@selmix/models";
import {
  DEFAULT_FIXMATCH_CONFIG,
  DEFAULT_PRETRAIN_CONFIG,
  defaultWorkerCount,
  evaluate,
  type FixMatchConfig,
  type PretrainConfig,
  type PretrainResult,
  pretrain,
  pretrainFixMatch,
  SELECTION_METRICS,
  type ScheduleName,
  type SelectionMetric,
  UNLABELED_PRIORS,
} from "@selmix/trainers";
import { z } from "zod";
import { flagName, validateOptions } from "../config-file.ts";
import { createProgress } from "../progress.ts";
import { BACKEND_CHOICES, type RunContext, withRunListener, workersKey } from "./common.ts";
import { assertSameRun, openRunDir, writeJson } from "./run-dir.ts";
import { assertModelFitsSource, isTextSource } from "./text-source.ts";

/** Options of `selmix pretrain` from a `--config` file and the flags (every key optional; flags win). */
export interface PretrainInput extends ProfileOptions, Partial<FixMatchOptions> {
  readonly command?: "pretrain";
  readonly source?: SourceName;
  readonly profile?: ProfileName;
  readonly dataDir?: string;
  /** Require the official record counts of the data files (false: subsets; the manifest pins their hashes). */
  readonly strictCounts?: boolean;
  readonly model?: ModelArch;
  readonly method?: PretrainMethod;
  readonly initFrom?: string;
  readonly steps?: number;
  readonly batchSize?: number;
  readonly lr?: number;
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
  readonly schedule?: ScheduleName;
  readonly laTau?: number;
  readonly ema?: number;
  readonly evalEvery?: number;
  readonly selectBy?: SelectionMetric;
  readonly augment?: "none" | "weak";
  readonly flip?: boolean;
  readonly seed?: number;
  readonly backend?: BackendChoice;
  readonly workers?: number;
}

/** The FixMatch settings of `selmix pretrain` (absent from a supervised run's config, but for `padding` with `--augment weak`). */
type FixMatchOptions = Pick<FixMatchConfig, (typeof FIXMATCH_OPTION_KEYS)[number]>;
const FIXMATCH_OPTION_KEYS = ["mu", "threshold", "lambdaU", "emaWarmup", "unlabeledPrior", "distributionAlignment", "padding", "fill", "randAugmentOps", "randAugmentMagnitude"] as const;

/** Each FixMatch-only setting from `options`, else the trainer's default. */
function fixMatchOptions(options: Partial<FixMatchOptions>): FixMatchOptions {
  return Object.fromEntries(FIXMATCH_OPTION_KEYS.map((key) => [key, options[key] ?? DEFAULT_FIXMATCH_CONFIG[key]])) as unknown as FixMatchOptions;
}

const SCHEDULES: readonly ScheduleName[] = ["cosine", "fixmatch-cosine", "constant"];

/** Supervised (`erm`, `la`) or semi-supervised (`fixmatch`, `fixmatch-la`) pre-training. */
export type PretrainMethod = "erm" | "la" | "fixmatch" | "fixmatch-la";
const METHODS: readonly PretrainMethod[] = ["erm", "la", "fixmatch", "fixmatch-la"];
const isFixMatch = (m: PretrainMethod): m is "fixmatch" | "fixmatch-la" => m === "fixmatch" || m === "fixmatch-la";

const inputSchema = z
  .strictObject({
    command: z.literal("pretrain"),
    source: z.enum(SOURCE_NAMES),
    profile: z.enum(PROFILE_NAMES),
    n1: z.int().nonnegative(),
    rho: z.number().positive(),
    rhoL: z.number().positive(),
    m1: z.int().nonnegative(),
    rhoU: z.number().positive(),
    valPerClass: z.int().nonnegative(),
    balancedTest: z.boolean(),
    dataDir: z.string(),
    strictCounts: z.boolean(),
    model: z.enum(MODEL_ARCHS),
    method: z.enum(METHODS),
    mu: z.int().positive(),
    threshold: z.number().min(0).max(1),
    lambdaU: z.number().nonnegative(),
    emaWarmup: z.boolean(),
    unlabeledPrior: z.enum(UNLABELED_PRIORS),
    distributionAlignment: z.boolean(),
    padding: z.int().nonnegative(),
    fill: z.union([z.int().min(0).max(255), z.enum(["border", "mean"])]),
    randAugmentOps: z.int().nonnegative(),
    randAugmentMagnitude: z.union([z.number().min(0).max(10), z.literal("random")]),
    initFrom: z.string(),
    steps: z.int().positive(),
    batchSize: z.int().positive(),
    lr: z.number().positive(),
    momentum: z.number().min(0).lt(1),
    nesterov: z.boolean(),
    weightDecay: z.number().nonnegative(),
    schedule: z.enum(SCHEDULES),
    laTau: z.number().nonnegative(),
    ema: z.number().min(0).lt(1),
    evalEvery: z.int().positive(),
    selectBy: z.enum(SELECTION_METRICS),
    augment: z.enum(["none", "weak"]),
    flip: z.boolean(),
    seed: z.int(),
    backend: z.enum(BACKEND_CHOICES),
    workers: z.int().positive(),
  })
  .partial();

/**
 * Validates pre-training options (a parsed `--config` file, or the merged flags): unknown keys and wrong types are
 * `INVALID_ARGUMENT` errors naming the key.
 */
export function parsePretrainInput(value: unknown, origin: string | undefined): PretrainInput {
  return validateOptions(inputSchema, value, origin) as PretrainInput;
}

/** The resolved pre-training config, written to RUN_DIR/config.json (it is also a valid `--config` file). */
export interface PretrainRunConfig extends Omit<PretrainConfig, "method">, Partial<FixMatchOptions> {
  readonly command: "pretrain";
  readonly method: PretrainMethod;
  /** Absolute path of the checkpoint whose weights start the training (a warm start) instead of the seeded initialisation. */
  readonly initFrom?: string;
  readonly source: SourceName;
  readonly profile: ProfileName;
  readonly n1: number;
  readonly rhoL: number;
  readonly m1?: number;
  readonly rhoU?: number;
  readonly valPerClass: number;
  readonly balancedTest: boolean;
  readonly model: ModelArch;
}

/** What {@link runPretrain} produced; the pre-trained model is RUN_DIR/best.ckpt. */
export interface PretrainOutcome {
  readonly config: PretrainRunConfig;
  readonly manifest: Manifest;
  readonly splits: Splits;
  readonly result: PretrainResult;
  /** The selected (best) model on the validation and test sets. */
  readonly validation: MetricReport;
  readonly test: MetricReport;
}

function profileOf(input: PretrainInput): ProfileParams {
  const profile = input.profile ?? (isTextSource(input.source ?? "mnist") ? "natural" : "supervised");
  return resolveProfile(profile, input); // reads only the profile's own keys
}

/** An existing RUN_DIR/manifest.json is reused only when it is the dataset asked for. */
function assertManifestFits(path: string, manifest: Manifest, source: SourceName, profile: ProfileParams, seed: number): void {
  const want: Record<string, unknown> = { source, seed, ...profile };
  const have: Record<string, unknown> = { source: manifest.source.name, seed: manifest.seed, ...manifest.profile };
  for (const key of Object.keys(want)) {
    if (JSON.stringify(want[key]) !== JSON.stringify(have[key])) {
      throw new SelmixError(
        "MISMATCH",
        `${path} was built with ${key} ${JSON.stringify(have[key])}, this run asks for ${JSON.stringify(want[key])}; use another --out or --no-resume`,
      );
    }
  }
}

/** Builds the dataset's splits, or reloads them from RUN_DIR/manifest.json when resuming. */
async function loadData(input: PretrainInput, profile: ProfileParams, seed: number, run: RunContext): Promise<{ splits: Splits; reused: boolean }> {
  const sourceName = input.source ?? "mnist";
  const path = join(run.out, "manifest.json");
  const dataOptions = {
    ...(input.dataDir === undefined ? {} : { dataDir: input.dataDir }),
    ...(input.strictCounts === undefined ? {} : { strictCounts: input.strictCounts }),
  };
  if (run.resume && existsSync(path)) {
    const manifest = await loadManifest(path);
    assertManifestFits(path, manifest, sourceName, profile, seed);
    const splits = run.splits?.manifest.id === manifest.id ? run.splits : await materialize(manifest, dataOptions);
    return { splits, reused: true };
  }
  const source = await loadSource(sourceName, dataOptions);
  for (const warning of source.warnings) process.stderr.write(`selmix: warning: ${warning}\n`);
  return { splits: splitsFromManifest(source, createManifest(source, profile, seed)), reused: false };
}

function resolveConfig(input: PretrainInput, profile: ProfileParams, splits: Splits): PretrainRunConfig {
  const method = input.method ?? DEFAULT_PRETRAIN_CONFIG.method;
  // FixMatch has its own recipe (lr 0.03, FixMatch cosine, EMA 0.999, weak augmentation): its defaults apply.
  const fm = isFixMatch(method);
  const d = fm ? { ...DEFAULT_PRETRAIN_CONFIG, ...DEFAULT_FIXMATCH_CONFIG, augment: "weak" as const } : DEFAULT_PRETRAIN_CONFIG;
  const text = isTextSource(splits.source.name);
  const model = input.model ?? (text ? "text-bag" : "mlp");
  assertModelFitsSource(splits.source.name, model, input.augment ?? d.augment);
  if (!fm && input.padding !== undefined && (input.augment ?? d.augment) !== "weak") {
    throw new SelmixError("INVALID_ARGUMENT", "--padding is the weak augmentation's: add --augment weak (FixMatch always uses it)");
  }
  const stray = fm ? undefined : FIXMATCH_OPTION_KEYS.find((key) => (key === "emaWarmup" ? input.emaWarmup === false : key !== "padding" && input[key] !== undefined));
  if (stray !== undefined) {
    const flag = stray === "emaWarmup" ? "--no-ema-warmup" : flagName(stray);
    throw new SelmixError("INVALID_ARGUMENT", `${flag} is a FixMatch setting: it needs --method fixmatch or fixmatch-la, not ${method}`);
  }
  if (fm && splits.unlabeled.indices.length === 0) {
    throw new SelmixError("INVALID_ARGUMENT", `--method ${method} needs unlabelled data: use --profile semi-supervised (or cifar100, stl10)`);
  }
  return {
    command: "pretrain",
    source: splits.source.name,
    profile: profile.name,
    n1: profile.n1,
    rhoL: profile.rhoL,
    ...(profile.rhoU === null ? {} : { m1: profile.m1, rhoU: profile.rhoU }),
    valPerClass: profile.valPerClass,
    balancedTest: profile.balancedTest,
    model,
    method,
    ...(fm ? fixMatchOptions(input) : input.padding === undefined ? {} : { padding: input.padding }),
    ...(input.initFrom === undefined ? {} : { initFrom: resolve(input.initFrom) }),
    steps: input.steps ?? d.steps,
    batchSize: input.batchSize ?? d.batchSize,
    lr: input.lr ?? d.lr,
    momentum: input.momentum ?? d.momentum,
    nesterov: input.nesterov ?? d.nesterov,
    weightDecay: input.weightDecay ?? d.weightDecay,
    schedule: input.schedule ?? d.schedule,
    laTau: input.laTau ?? d.laTau,
    ema: input.ema ?? d.ema,
    evalEvery: input.evalEvery ?? d.evalEvery,
    selectBy: input.selectBy ?? d.selectBy,
    augment: input.augment ?? d.augment,
    flip: input.flip ?? splits.source.flip, // flipped digits change meaning: the source knows
    seed: input.seed ?? d.seed,
    ...workersKey(input.workers ?? defaultWorkerCount(model)),
  };
}

/** The supervised trainer's part of the run config. */
function trainerConfig(c: PretrainRunConfig, method: "erm" | "la"): PretrainConfig {
  const { steps, batchSize, lr, momentum, nesterov, weightDecay, schedule, laTau, ema, evalEvery, selectBy, augment, flip, padding, seed, workers } = c;
  return {
    method,
    steps,
    batchSize,
    lr,
    momentum,
    nesterov,
    weightDecay,
    schedule,
    laTau,
    ema,
    evalEvery,
    selectBy,
    augment,
    flip,
    ...(padding === undefined ? {} : { padding }),
    seed,
    ...(workers === undefined ? {} : { workers }),
  };
}

/** The FixMatch trainer's part of the run config (FixMatch always uses weak and strong views). */
function fixMatchConfig(c: PretrainRunConfig, method: "fixmatch" | "fixmatch-la"): FixMatchConfig {
  const { steps, batchSize, lr, momentum, nesterov, weightDecay, schedule, laTau, ema, evalEvery, selectBy, flip, seed, workers } = c;
  return {
    method,
    steps,
    batchSize,
    ...fixMatchOptions(c),
    lr,
    momentum,
    nesterov,
    weightDecay,
    schedule,
    ema,
    evalEvery,
    selectBy,
    laTau,
    flip,
    seed,
    ...(workers === undefined ? {} : { workers }),
  };
}

/**
 * `selmix pretrain` without the printing (the demo calls it too): dataset manifest, model, ERM/LA pre-training with
 * checkpoints in RUN_DIR (a repeated command resumes from last.ckpt), then the best model on validation and test.
 * Writes RUN_DIR/config.json, manifest.json, last.ckpt, best.ckpt and metrics.json.
 *
 * @throws `SelmixError` the dataset, model and trainer codes; `MISMATCH` when RUN_DIR holds another run;
 *   `LOCKED` when another command is writing it; `USAGE` for an empty `--out`.
 */
export async function runPretrain(input: PretrainInput, run: RunContext): Promise<PretrainOutcome> {
  const seed = input.seed ?? DEFAULT_PRETRAIN_CONFIG.seed;
  const profile = profileOf(input);
  const release = openRunDir(run.out, run.resume, "pretrain");
  try {
    return await pretrainInLockedDir(input, run, seed, profile);
  } finally {
    release();
  }
}

async function pretrainInLockedDir(input: PretrainInput, run: RunContext, seed: number, profile: ProfileParams): Promise<PretrainOutcome> {
  const { splits, reused } = await loadData(input, profile, seed, run);
  const config = resolveConfig(input, profile, splits);
  if (run.resume) assertSameRun(run.out, config);
  const manifest = splits.manifest;
  writeJson(join(run.out, "config.json"), config);
  if (!reused) writeManifest(join(run.out, "manifest.json"), manifest);

  const { height, width, channels, numClasses } = manifest.source;
  const model = createModel({ arch: config.model, inputShape: [height, width, channels], numClasses, seed });
  // A warm start replaces the seeded initial weights; resuming from last.ckpt then overrides both.
  if (config.initFrom !== undefined) loadCheckpoint(config.initFrom, model);
  const progress = createProgress(run.label, { json: run.json });
  try {
    const io = { checkpointDir: run.out, resume: run.resume, datasetManifestId: manifest.id, onProgress: withRunListener(progress.listener, run) };
    const method = config.method;
    // FixMatch reads only the images of the unlabelled split, never its labels.
    const result: PretrainResult = isFixMatch(method)
      ? await pretrainFixMatch(model, splits.labeled, splits.unlabeled, splits.validation, fixMatchConfig(config, method), io)
      : await pretrain(model, splits.labeled, splits.validation, trainerConfig(config, method), io);
    progress.done();
    const validation = (await evaluate(model, splits.validation.dataset, splits.validation.indices)).metrics;
    const test = (await evaluate(model, splits.test.dataset, splits.test.indices)).metrics;
    writeJson(join(run.out, "metrics.json"), { backend: run.backend, bestStep: result.bestStep, validation, test, history: result.history });
    return { config, manifest, splits, result, validation, test };
  } finally {
    progress.done();
    model.dispose();
  }
}
