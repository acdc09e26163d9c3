import type { SourceName } from "@selmix/datasets";
import type { ObjectiveName } from "@selmix/metrics";
import { type FinetuneConfig, MIXING_MODES, type MixingMode } from "@selmix/trainers";
import { competitorRows } from "./competitor-rows.ts";
import { datasetsFor } from "./datasets.ts";
import { hashOf } from "./hash.ts";
import { limitDataset, limitPretrain, limitRows, type TableLimits } from "./limits.ts";
import { OBJECTIVE_LABELS } from "./labels.ts";
import { type ProfileSettings, TABLE_OBJECTIVES } from "./profiles.ts";
import type { DatasetSpec, Job, PretrainSpec, RowSpec, TableName } from "./types.ts";

/** What a job list is built from. */
export interface JobListOptions {
  readonly table: TableName;
  readonly settings: ProfileSettings;
  readonly seeds: number;
  readonly sources: readonly SourceName[];
  readonly dataDir?: string;
  /** False accepts subset data files (recorded on each job, outside its hash, like `dataDir`). */
  readonly strictCounts?: boolean;
  /** Smoke-run limits and the prior switch, applied before a job is hashed. */
  readonly limits?: TableLimits;
}

function makeJob(
  table: TableName,
  settings: ProfileSettings,
  dataset: DatasetSpec,
  seed: number,
  pretrain: PretrainSpec,
  rows: RowSpec[],
  dataDir: string | undefined,
  limits: TableLimits = {},
  strictCounts = true,
): Job {
  const model = settings.model(dataset.source, table);
  const body = {
    table,
    profile: settings.name,
    dataset: limitDataset(dataset, limits),
    seed,
    model,
    pretrain: limitPretrain(pretrain, limits),
    rows: limitRows(rows, limits),
  };
  return { id: jobId(body), ...body, ...(dataDir === undefined ? {} : { dataDir }), ...(strictCounts === false ? { strictCounts } : {}) };
}

/** The id names the group and hashes its whole content: a changed config is a new job, never a stale result. */
function jobId(body: Omit<Job, "id" | "dataDir" | "strictCounts">): string {
  return `${body.dataset.id}-s${body.seed}-${body.pretrain.config.method}-${hashOf(body).slice(0, 12)}`;
}

/**
 * The job with `workers` gradient threads in its pre-training and full-network fine-tuning (a new id: the numbers
 * depend on the worker count). MLP and text-bag jobs and `workers` = 1 are returned unchanged.
 */
export function withGradientWorkers(job: Job, workers: number): Job {
  if (workers <= 1 || job.model === "mlp" || job.model === "text-bag") return job;
  const pretrain = { ...job.pretrain, config: { ...job.pretrain.config, workers } } as PretrainSpec;
  const rows = job.rows.map((r) =>
    r.candidates === undefined ? r : { ...r, candidates: r.candidates.map((c) => (c.mode === "full" ? { ...c, workers } : c)) },
  );
  const { id: _id, dataDir, strictCounts, ...rest } = job;
  const body = { ...rest, pretrain, rows };
  return { id: jobId(body), ...body, ...(dataDir === undefined ? {} : { dataDir }), ...(strictCounts === undefined ? {} : { strictCounts }) };
}

function selmixRows(prefix: string, label: string, settings: ProfileSettings, seed: number, table: TableName, dataset: DatasetSpec): RowSpec[] {
  return TABLE_OBJECTIVES.map((objective) => ({
    id: `${prefix}+selmix:${objective}`,
    label: `${label} + SelMix (${OBJECTIVE_LABELS[objective]})`,
    objective,
    candidates: settings.selmixCandidates(objective, seed, table, dataset),
  }));
}

/** The supervised table's jobs; the text table is the same protocol on text. */
function supervisedJobs(o: JobListOptions, dataset: DatasetSpec, seed: number, table: "supervised" | "text" = "supervised"): Job[] {
  const s = o.settings;
  const base = s.finetune("mean-recall", seed, dataset);
  const erm = makeJob(table, s, dataset, seed, { kind: "supervised", config: s.pretrain("erm", dataset.source, seed) }, [{ id: "erm", label: "ERM" }], o.dataDir, o.limits, o.strictCounts);
  const laRows: RowSpec[] = [
    { id: "la", label: "LA" },
    { id: "la+uniform", label: "LA + uniform-mixup fine-tuning", candidates: [{ ...base, policy: "uniform" }] },
    { id: "la+class-balanced", label: "LA + class-balanced fine-tuning", candidates: [{ ...base, policy: "class-balanced" }] },
    ...selmixRows("la", "LA", s, seed, table, dataset),
    // The full-network rows are the image table's (the text table's full-network mode is exercised by the CLI tests).
    ...(table === "supervised" ? s.fullNetworkRows : []).map((objective) => ({
      id: `la+selmix-full:${objective}`,
      label: `LA + SelMix (${OBJECTIVE_LABELS[objective]}), full network`,
      objective,
      candidates: [s.fullNetwork(objective, seed, dataset)],
    })),
    ...competitorRows("la", "LA", s, seed, table, dataset),
  ];
  const la = makeJob(table, s, dataset, seed, { kind: "supervised", config: s.pretrain("la", dataset.source, seed) }, laRows, o.dataDir, o.limits, o.strictCounts);
  return [la, erm];
}

function semiSupervisedJobs(o: JobListOptions, dataset: DatasetSpec, seed: number): Job[] {
  const s = o.settings;
  const start = (method: "fixmatch" | "fixmatch-la"): PretrainSpec => {
    const config = s.fixmatch(method, dataset.source, seed);
    // Plain FixMatch has no prior to assume; FixMatch-LA tries the profile's alternatives.
    const variants = method === "fixmatch-la" ? s.fixmatchAlternatives : [];
    return {
      kind: "fixmatch",
      config,
      ...(s.fixmatchWarmStart ? { warmStart: s.labelledOnly(method === "fixmatch" ? "erm" : "la", dataset.source, seed) } : {}),
      ...(variants.length === 0 ? {} : { alternatives: variants.map((v) => ({ ...config, ...v })) }),
    };
  };
  const fm = makeJob("semi-supervised", s, dataset, seed, start("fixmatch"), [{ id: "fixmatch", label: "FixMatch" }], o.dataDir, o.limits, o.strictCounts);
  // The partner pool is pseudo-labelled on the weak view FixMatch trained with (flips and crop padding of the source).
  const weak = s.fixmatch("fixmatch-la", dataset.source, seed);
  const rows: RowSpec[] = [
    { id: "fixmatch-la", label: "FixMatch-LA" },
    ...selmixRows("fixmatch-la", "FixMatch-LA", s, seed, "semi-supervised", dataset),
    ...competitorRows("fixmatch-la", "FixMatch-LA", s, seed, "semi-supervised", dataset),
  ].map((r) => (r.candidates === undefined ? r : { ...r, candidates: r.candidates.map((c) => ({ ...c, flip: weak.flip, padding: weak.padding })) }));
  const la = makeJob("semi-supervised", s, dataset, seed, start("fixmatch-la"), rows, o.dataDir, o.limits, o.strictCounts);
  return [la, fm, ...labelledOnlyJobs(o, dataset, seed)];
}

/** `ERM (labelled only)` and `LA (labelled only)`: the semi-supervised table's baselines without the unlabelled data. */
function labelledOnlyJobs(o: JobListOptions, dataset: DatasetSpec, seed: number): Job[] {
  const s = o.settings;
  return LABELLED_ONLY_ROWS.map(({ method, id, label }) =>
    makeJob("semi-supervised", s, dataset, seed, { kind: "supervised", config: s.labelledOnly(method, dataset.source, seed) }, [{ id, label }], o.dataDir, o.limits, o.strictCounts),
  );
}

/** Row ids and labels of the labelled-only baselines of the semi-supervised tables. */
export const LABELLED_ONLY_ROWS = [
  { method: "erm", id: "erm-labelled", label: "ERM (labelled only)" },
  { method: "la", id: "la-labelled", label: "LA (labelled only)" },
] as const;

/** The ablation variants of one objective, each a single fine-tune from the LA model. */
export function ablationRows(settings: ProfileSettings, objective: ObjectiveName, seed: number, dataset: DatasetSpec): RowSpec[] {
  const base = settings.finetune(objective, seed, dataset);
  const row = (id: string, label: string, config: FinetuneConfig): RowSpec => ({
    id: `${objective}:${id}`,
    label: `${OBJECTIVE_LABELS[objective]}: ${label}`,
    objective,
    candidates: [config],
  });
  const t = `${base.temperatureScale} T = ${base.temperature}`;
  return [
    row("selmix", `SelMix (${base.gainVariant} gain, ${t}, ${base.mode}, lr ${base.lr})`, base),
    row("policy-uniform", "policy: uniform pairs", { ...base, policy: "uniform" }),
    row("policy-greedy", "policy: greedy arg-max pair", { ...base, policy: "greedy" }),
    row("policy-multipliers-only", "policy: multipliers-only", { ...base, policy: "multipliers-only" }),
    row("gain-paper", "gain: paper (soft C, exact target term)", { ...base, gainVariant: base.gainVariant === "paper" ? "reference" : "paper" }),
    row("t-absolute-0.1", "temperature: absolute T = 0.1 (reference)", { ...base, temperatureScale: "absolute", temperature: 0.1 }),
    row("t-absolute-1", "temperature: absolute T = 1", { ...base, temperatureScale: "absolute", temperature: 1 }),
    row("t-spread-2", "temperature: spread T = 2", { ...base, temperatureScale: "spread", temperature: 2 }),
    row("lr-0.003", "lr 0.003", { ...base, lr: 0.003 }),
    row("full-network", `full network, ${settings.fullNetwork(objective, seed, dataset).steps} steps`, settings.fullNetwork(objective, seed, dataset)),
  ];
}

/** Row id suffix of each mixing mode (`min-recall:mixing-cutmix`, `...-uniform` for uniform pairs). */
const MIXING_LABELS: Readonly<Record<MixingMode, string>> = {
  feature: "feature mixup (SelMix)",
  "input-mixup": "input mixup (pixel blend)",
  cutmix: "CutMix",
  "feature+cutmix": "CutMix + feature mixup",
};

/** Every mixing mode with SelMix pairs and with uniform pairs, full network, x₁'s label. */
export function mixingRows(settings: ProfileSettings, objective: ObjectiveName, seed: number, dataset: DatasetSpec): RowSpec[] {
  const base = settings.mixing(objective, seed, dataset);
  return MIXING_MODES.flatMap((mixing) => {
    const config: FinetuneConfig = mixing === "feature" ? base : { ...base, mixing };
    const what = `${MIXING_LABELS[mixing]}, full network ${base.steps} steps`;
    return [
      { id: `${objective}:mixing-${mixing}`, label: `${OBJECTIVE_LABELS[objective]}: mixing ${what}`, objective, candidates: [config] },
      { id: `${objective}:mixing-${mixing}-uniform`, label: `${OBJECTIVE_LABELS[objective]}: mixing ${what}, uniform pairs`, objective, candidates: [{ ...config, policy: "uniform" }] },
    ];
  });
}

function ablationJobs(o: JobListOptions, dataset: DatasetSpec, seed: number): Job[] {
  const s = o.settings;
  const pretrain = { kind: "supervised", config: s.pretrain("la", dataset.source, seed) } as const;
  const rows: RowSpec[] = [{ id: "la", label: "LA (start)" }, ...s.ablationObjectives.flatMap((obj) => ablationRows(s, obj, seed, dataset))];
  // The mixing rows are a job of their own (same cached pre-training): adding or changing them leaves the finished
  // ablation rows' job, and its result, as they are.
  const mixing = s.ablationObjectives.flatMap((obj) => mixingRows(s, obj, seed, dataset));
  return [
    makeJob("ablations", s, dataset, seed, pretrain, rows, o.dataDir, o.limits, o.strictCounts),
    makeJob("ablations", s, dataset, seed, pretrain, mixing, o.dataDir, o.limits, o.strictCounts),
  ];
}

/** The jobs of a table: one per (dataset, seed, pre-training config), the longest first. */
export function buildJobs(o: JobListOptions): Job[] {
  const jobs: Job[] = [];
  for (const dataset of datasetsFor(o.table, o.sources)) {
    for (let seed = 0; seed < o.seeds; seed++) {
      if (o.table === "supervised" || o.table === "text") jobs.push(...supervisedJobs(o, dataset, seed, o.table));
      else if (o.table === "semi-supervised") jobs.push(...semiSupervisedJobs(o, dataset, seed));
      else jobs.push(...ablationJobs(o, dataset, seed));
    }
  }
  const cost = (j: Job): number => (j.pretrain.kind === "fixmatch" ? 20 : 1) + j.rows.length;
  return jobs.map((j, i) => ({ j, i })).sort((a, b) => cost(b.j) - cost(a.j) || a.i - b.i).map(({ j }) => j);
}
