import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import { loadManifest, type Manifest, materialize, type Source, type Splits, writeManifest } from "@selmix/datasets";
import { type ClassPrior, type MetricReport, OBJECTIVE_NAMES, type Objective, type ObjectiveName } from "@selmix/metrics";
import { type BackendChoice, loadCheckpoint, type Model, type ModelArch, modelFromCheckpoint, saveCheckpoint } from "@selmix/models";
import {
  defaultFinetuneConfig,
  defaultWorkerCount,
  evaluate,
  type FinetuneConfig,
  type FirstPool,
  type FinetuneData,
  type FinetuneResult,
  finetune,
  type GainConfusion,
  type GainVariant,
  MIX_LABELS,
  MIXING_MODES,
  type MixingMode,
  type MixLabel,
  type PairPolicy,
  type TargetTerm,
} from "@selmix/trainers";
import { z } from "zod";
import { validateOptions } from "../config-file.ts";
import { createProgress } from "../progress.ts";
import { BACKEND_CHOICES, type RunContext, withRunListener, workersKey } from "./common.ts";
import { readObjectiveCurve, renderReportSvg } from "./report-svg.ts";
import { assertSameRun, openRunDir, requireRunFiles, writeJson } from "./run-dir.ts";
import { firstPoolKey, gainSwitchesOf, objectiveOptionsFrom, SELMIX_OPTION_SHAPE } from "./selmix-options.ts";
import { loadObjectiveModule } from "./objective-module.ts";
import { assertModelFitsSource } from "./text-source.ts";

/** Options of `selmix finetune` from a `--config` file and the flags (every key optional; flags win). */
export interface FinetuneInput {
  readonly command?: "finetune";
  /** The pre-training run directory (its best.ckpt and manifest.json). */
  readonly from?: string;
  readonly objective?: ObjectiveName;
  /** A JavaScript module exporting psi(confusion): a plug-in objective instead of a built-in one. */
  readonly objectiveModule?: string;
  readonly mode?: "full" | "head-only";
  readonly policy?: PairPolicy;
  readonly steps?: number;
  readonly refreshEvery?: number;
  readonly batchSize?: number;
  readonly lr?: number;
  readonly backboneLrFactor?: number;
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
  readonly augment?: "none" | "weak";
  readonly flip?: boolean;
  readonly padding?: number;
  readonly partnerView?: "plain" | "weak";
  /** Where x₁ comes from; `labeled+unlabeled` needs `semiSupervised`. */
  readonly firstPool?: FirstPool;
  /** Where a pair is mixed (full mode for anything but `feature`). */
  readonly mixing?: MixingMode;
  /** The label of a mixed sample. */
  readonly mixLabel?: MixLabel;
  readonly seed?: number;
  readonly rate?: number;
  readonly memory?: number;
  readonly headFraction?: number;
  readonly coverageAlpha?: number;
  readonly coverageTau?: number;
  readonly lambdaMax?: number;
  readonly dataDir?: string;
  readonly backend?: BackendChoice;
  /** Gradient worker threads of the full mode. */
  readonly workers?: number;
  /** Partners from the unlabelled split by the current model's pseudo-labels (its labels are never read). */
  readonly semiSupervised?: boolean;
}

const inputSchema = z
  .strictObject({
    command: z.literal("finetune"),
    semiSupervised: z.boolean(),
    from: z.string().min(1),
    ...SELMIX_OPTION_SHAPE,
    objectiveModule: z.string().min(1),
    mode: z.enum(["full", "head-only"]),
    backboneLrFactor: z.number().nonnegative(),
    augment: z.enum(["none", "weak"]),
    flip: z.boolean(),
    padding: z.int().nonnegative(),
    partnerView: z.enum(["plain", "weak"]),
    mixing: z.enum(MIXING_MODES),
    mixLabel: z.enum(MIX_LABELS),
    dataDir: z.string(),
    backend: z.enum(BACKEND_CHOICES),
    workers: z.int().positive(),
  })
  .partial();

/** Validates fine-tuning options (a parsed `--config` file, or the merged flags); errors name the key. */
export function parseFinetuneInput(value: unknown, origin: string | undefined): FinetuneInput {
  return validateOptions(inputSchema, value, origin) as FinetuneInput;
}

const OBJECTIVE_KEYS = ["rate", "memory", "headFraction", "coverageAlpha", "coverageTau", "lambdaMax"] as const;

/** The resolved fine-tuning config, written to RUN_DIR/config.json (also a valid `--config` file). */
export interface FinetuneRunConfig extends Omit<FinetuneConfig, "objectiveOptions"> {
  /** Absolute path of the plug-in objective module, when one replaces the built-in objective. */
  readonly objectiveModule?: string;
  readonly command: "finetune";
  readonly semiSupervised: boolean;
  /** Absolute path of the pre-training run. */
  readonly from: string;
  readonly rate?: number;
  readonly memory?: number;
  readonly headFraction?: number;
  readonly coverageAlpha?: number;
  readonly coverageTau?: number;
  readonly lambdaMax?: number;
}

/** What {@link runFinetune} produced; the fine-tuned model is RUN_DIR/best.ckpt. */
export interface FinetuneOutcome {
  readonly config: FinetuneRunConfig;
  /** The built-in objective's name, or the plug-in module's. */
  readonly objectiveName: string;
  readonly manifest: Manifest;
  readonly splits: Splits;
  readonly result: FinetuneResult;
  /** The pre-trained start and the fine-tuned model on the test set. */
  readonly before: MetricReport;
  readonly after: MetricReport;
  readonly reportPath: string;
}

/** The subsets fine-tuning trains on; semi-supervised runs draw partners from the unlabelled split. */
function finetuneData(splits: Splits, semiSupervised: boolean): FinetuneData {
  if (!semiSupervised) return { labeled: splits.labeled, validation: splits.validation };
  if (splits.unlabeled.indices.length === 0) {
    throw new SelmixError("INVALID_ARGUMENT", "--semi-supervised needs a pre-training run with unlabelled data (--profile semi-supervised)");
  }
  return { labeled: splits.labeled, validation: splits.validation, unlabeled: splits.unlabeled };
}

/**
 * `mixing` and `mixLabel` when they are not the defaults (config.json of a default run stays as before, so its
 * resume still matches); head-only fine-tuning has no images to mix.
 */
function mixingKeys(input: FinetuneInput, mode: "full" | "head-only"): { readonly mixing?: MixingMode; readonly mixLabel?: MixLabel } {
  const mixing = input.mixing ?? "feature";
  const mixLabel = input.mixLabel ?? "first";
  if (mode === "head-only" && mixing !== "feature") {
    throw new SelmixError("INVALID_ARGUMENT", `--mixing ${mixing}: head-only fine-tuning trains on extracted features and cannot mix images; use --mode full or --mixing feature`);
  }
  if (mode === "head-only" && mixLabel !== "first") {
    throw new SelmixError("INVALID_ARGUMENT", `--mix-label ${mixLabel}: head-only fine-tuning trains on x1's label only; use --mode full or --mix-label first`);
  }
  return { ...(mixing === "feature" ? {} : { mixing }), ...(mixLabel === "first" ? {} : { mixLabel }) };
}

function resolveConfig(input: FinetuneInput & { readonly objective: ObjectiveName }, from: string, source: Source, arch: ModelArch): FinetuneRunConfig {
  const d = defaultFinetuneConfig(input.objective, input.mode ?? "full");
  const text = source.train.text !== undefined;
  // text has no augmentation: the full-network mode's weak default applies to images only
  const augment = input.augment ?? (text ? "none" : d.augment);
  assertModelFitsSource(source.name, arch, augment);
  // head-only fine-tuning is plain JavaScript: no gradient workers
  const workers = d.mode === "full" ? workersKey(input.workers ?? defaultWorkerCount(arch)) : {};
  const objectiveOptions: Record<string, number> = {};
  for (const key of OBJECTIVE_KEYS) if (input[key] !== undefined) objectiveOptions[key] = input[key];
  return {
    command: "finetune",
    semiSupervised: input.semiSupervised ?? false,
    from,
    objective: d.objective,
    mode: d.mode,
    policy: input.policy ?? d.policy,
    steps: input.steps ?? d.steps,
    refreshEvery: input.refreshEvery ?? d.refreshEvery,
    batchSize: input.batchSize ?? d.batchSize,
    lr: input.lr ?? d.lr,
    backboneLrFactor: input.backboneLrFactor ?? d.backboneLrFactor,
    weightDecay: input.weightDecay ?? d.weightDecay,
    lambdaMin: input.lambdaMin ?? d.lambdaMin,
    ...mixingKeys(input, d.mode),
    temperature: input.temperature ?? d.temperature,
    temperatureScale: input.temperatureScale ?? d.temperatureScale,
    ...gainSwitchesOf(input, d),
    earlyStop: input.earlyStop ?? d.earlyStop,
    selectBest: input.selectBest ?? d.selectBest,
    augment,
    flip: input.flip ?? source.flip,
    padding: input.padding ?? d.padding,
    partnerView: input.partnerView ?? d.partnerView,
    ...firstPoolKey(input.firstPool, input.semiSupervised === true, "--semi-supervised"),
    seed: input.seed ?? d.seed,
    ...workers,
    ...objectiveOptions,
  };
}

/** The trainer's config: the objective's options go back into `objectiveOptions`. */
function trainerConfig(c: FinetuneRunConfig): FinetuneConfig {
  const { command: _command, from: _from, semiSupervised: _semi, objectiveModule: _module, rate, memory, headFraction, coverageAlpha, coverageTau, lambdaMax, ...rest } = c;
  return { ...rest, objectiveOptions: objectiveOptionsFrom({ rate, memory, headFraction, coverageAlpha, coverageTau, lambdaMax }) };
}

/** The pre-trained model and its dataset, checked to belong together. */
function loadStart(from: string, manifest: Manifest): Model {
  const path = join(from, "best.ckpt");
  const { model, checkpoint } = modelFromCheckpoint(path);
  const id = checkpoint.metadata.datasetManifestId;
  if (id !== manifest.id) {
    model.dispose();
    throw new SelmixError(
      "MISMATCH",
      `${path} was trained on dataset ${id === undefined ? "(none recorded)" : id.slice(0, 12)}, ${join(from, "manifest.json")} is ${manifest.id.slice(0, 12)}`,
    );
  }
  return model;
}

/**
 * `selmix finetune` without the printing (the demo calls it too): loads PRETRAIN_RUN_DIR/best.ckpt and its
 * manifest, runs SelMix fine-tuning with checkpoints and diagnostics in RUN_DIR (a repeated command resumes), then
 * evaluates the start and the selected model on the test set. Writes RUN_DIR/config.json, manifest.json,
 * last.ckpt, best.ckpt, diagnostics.jsonl, metrics.json and report.svg.
 *
 * @throws `SelmixError` `NOT_FOUND` when the pre-training run or its files are missing; `MISMATCH` when the
 *   checkpoint and manifest disagree or RUN_DIR holds another run; `LOCKED` when another command is writing
 *   RUN_DIR; `USAGE` for a missing `--from` or objective, an empty `--out` or one equal to `--from`; the dataset
 *   and trainer codes.
 */
export async function runFinetune(input: FinetuneInput, run: RunContext): Promise<FinetuneOutcome> {
  if (input.from === undefined) throw new SelmixError("USAGE", "--from PRETRAIN_RUN_DIR is required");
  if ((input.objective === undefined) === (input.objectiveModule === undefined)) {
    throw new SelmixError("USAGE", `give exactly one of --objective (${OBJECTIVE_NAMES.join(", ")}) and --objective-module FILE`);
  }
  const plugin = input.objectiveModule === undefined ? undefined : await loadObjectiveModule(input.objectiveModule);
  const from = resolve(input.from);
  mixingKeys(input, input.mode ?? "full"); // refused before RUN_DIR is made
  requireRunFiles(from, ["best.ckpt", "manifest.json"], "pre-training run");
  const release = openRunDir(run.out, run.resume, "finetune", from);
  try {
    return await finetuneInLockedDir(input, run, from, plugin);
  } finally {
    release();
  }
}

async function finetuneInLockedDir(input: FinetuneInput, run: RunContext, from: string, plugin: Objective | undefined): Promise<FinetuneOutcome> {
  // A plug-in objective takes the settings of mean recall, the built-in without multipliers.
  const objective = input.objective ?? "mean-recall";
  const manifest = await loadManifest(join(from, "manifest.json"));
  const model = loadStart(from, manifest);
  const progress = createProgress(run.label, { json: run.json });
  try {
    const splits =
      run.splits?.manifest.id === manifest.id ? run.splits : await materialize(manifest, input.dataDir === undefined ? {} : { dataDir: input.dataDir });
    const resolved = resolveConfig({ ...input, objective }, from, splits.source, model.arch);
    const config: FinetuneRunConfig = input.objectiveModule === undefined ? resolved : { ...resolved, objectiveModule: resolve(input.objectiveModule) };
    const objectiveLabel = plugin?.name ?? config.objective;
    if (run.resume) assertSameRun(run.out, config);
    writeJson(join(run.out, "config.json"), config);
    writeManifest(join(run.out, "manifest.json"), manifest);

    const { test } = splits;
    const before = (await evaluate(model, test.dataset, test.indices)).metrics;
    const trainer = trainerConfig(config);
    const result = await finetune(model, finetuneData(splits, config.semiSupervised), trainer, {
      checkpointDir: run.out,
      resume: run.resume,
      diagnosticsPath: join(run.out, "diagnostics.jsonl"),
      datasetManifestId: manifest.id,
      onProgress: withRunListener(progress.listener, run),
      ...(plugin === undefined ? {} : { objective: plugin }),
    });
    progress.done();
    const bestPath = join(run.out, "best.ckpt");
    // After a resume the trainer may hold the last weights rather than the selected ones: the file is the truth.
    if (trainer.selectBest && existsSync(bestPath)) loadCheckpoint(bestPath, model);
    else saveCheckpoint(bestPath, model, { step: result.stepsRun, datasetManifestId: manifest.id });
    const after = (await evaluate(model, test.dataset, test.indices)).metrics;
    writeJson(join(run.out, "metrics.json"), {
      backend: run.backend,
      objective: objectiveLabel,
      selectedStep: result.selectedStep,
      selectedObjective: result.selectedObjective,
      stepsRun: result.stepsRun,
      before,
      after,
    });
    const reportPath = join(run.out, "report.svg");
    const lastStep = result.diagnostics.at(-1)?.step ?? result.stepsRun;
    const svg = await renderReportSvg({
      title: `SelMix fine-tuning for ${objectiveLabel} (${config.mode}, policy ${config.policy}, selected step ${result.selectedStep})`,
      series: [
        { label: "pre-trained", recall: before.recall },
        { label: `SelMix (${objectiveLabel})`, recall: after.recall },
      ],
      curves: [readObjectiveCurve(join(run.out, "diagnostics.jsonl"), `SelMix (${objectiveLabel})`, result.selectedStep)],
      gain: { values: result.lastGain, k: manifest.source.numClasses, title: `last gain matrix G[i, j] (step ${lastStep})` },
    });
    writeFileAtomic(reportPath, svg);
    return { config, objectiveName: objectiveLabel, manifest, splits, result, before, after, reportPath };
  } finally {
    progress.done();
    model.dispose();
  }
}
