import { join } from "node:path";
import { writeFileAtomic } from "@selmix/core/node";
import { createManifest, loadSource, resolveProfile, type Source, type SourceName, type Splits, splitsFromManifest } from "@selmix/datasets";
import { confusionFromPredictions, createObjective, evaluateMetrics, type MetricReport } from "@selmix/metrics";
import { activeBackend, createModel, loadCheckpoint, type Model } from "@selmix/models";
import { adjustedPredictions, fitPosthoc } from "@selmix/posthoc";
import { DEFAULT_FIRST_POOL, evaluate, type FinetuneConfig, type FinetuneResult, type FirstPool, finetune, predict } from "@selmix/trainers";
import { hashOf } from "./hash.ts";
import { pretrainCached } from "./pretrain-cache.ts";
import { jobRowsDir, rowProgress } from "./row-progress.ts";
import { mean } from "./stats.ts";
import type { Job, JobResult, RowResult, RowSpec } from "./types.ts";

const poolOf = (c: FinetuneConfig): FirstPool => c.firstPool ?? DEFAULT_FIRST_POOL;

const sources = new Map<string, Promise<Source>>();

/** Loads a source once per process (every job of a worker on the same data shares it). */
export function sourceOnce(name: SourceName, dataDir: string | undefined, strictCounts = true): Promise<Source> {
  const key = `${name}\u0000${dataDir ?? ""}\u0000${strictCounts}`;
  let p = sources.get(key);
  if (p === undefined) {
    p = loadSource(name, { ...(dataDir === undefined ? {} : { dataDir }), strictCounts });
    sources.set(key, p);
    p.catch(() => sources.delete(key));
  }
  return p;
}

/** The splits of a job's dataset and seed (the seed draws the long-tailed subsets). */
export async function jobSplits(job: Job): Promise<Splits> {
  const source = await sourceOnce(job.dataset.source, job.dataDir, job.strictCounts ?? true);
  const manifest = createManifest(source, resolveProfile(job.dataset.profile, job.dataset.options), job.seed);
  return splitsFromManifest(source, manifest);
}

function freshModel(job: Job, splits: Splits): Model {
  const t = splits.source.train;
  return createModel({ arch: job.model, inputShape: [t.height, t.width, t.channels], numClasses: t.numClasses, seed: job.seed });
}

function testReport(m: MetricReport): RowResult["test"] {
  const { coverage: _coverage, ...rest } = m;
  return rest;
}

interface Candidate {
  readonly config: FinetuneConfig;
  readonly model: Model;
  readonly result: FinetuneResult;
}

/** Options of {@link runJob}. */
export interface RunJobOptions {
  /** Where the pre-trained checkpoints are cached. */
  readonly cacheDir: string;
  readonly log?: (message: string) => void;
  /** Where finished rows are kept ({@link jobRowsDir}), so a killed job resumes at its first unfinished row. */
  readonly rowsDir?: string;
}

/**
 * Runs one job: pre-training (or the cached checkpoint), then every row: the pre-trained model itself, or the best
 * (by validation objective) of its fine-tuning candidates, each started from the pre-trained weights. Every row is
 * evaluated on the test set once, after selection. With `rowsDir`, rows finished by an earlier, killed run of the
 * job are read back instead of run again (each row starts from the pre-trained weights or a saved model, so the
 * numbers are those of an uninterrupted run).
 */
export async function runJob(job: Job, options: RunJobOptions): Promise<JobResult> {
  const log = options.log ?? ((): void => {});
  const t0 = performance.now();
  const splits = await jobSplits(job);
  const start = freshModel(job, splits);
  const pre = await pretrainCached(job, splits, start, options.cacheDir, log);
  const rows: RowResult[] = [];
  const common = { dataset: job.dataset.id, seed: job.seed, model: job.model, pretrainSteps: job.pretrain.config.steps, pretrainHash: pre.hash.slice(0, 16) };
  // Chosen models that later (post-hoc) rows start from, kept until the job ends.
  const wanted = new Set(job.rows.flatMap((r) => (r.from === undefined ? [] : [r.from])));
  const kept = new Map<string, { model: Model; result: RowResult }>();
  const progress = rowProgress(options.rowsDir);
  for (const [index, row] of job.rows.entries()) {
    const saved = progress.load(index, row);
    if (saved !== undefined) {
      const model = wanted.has(row.id) ? freshModel(job, splits) : undefined;
      if (model === undefined || progress.loadModel(index, row, model)) {
        log(`${row.id}: finished before this run (kept in ${options.rowsDir})`);
        rows.push(saved);
        if (model !== undefined) kept.set(row.id, { model, result: saved });
        continue;
      }
      model.dispose();
    }
    if (row.posthoc !== undefined) {
      const base = row.from === undefined ? undefined : kept.get(row.from);
      if (row.from !== undefined && base === undefined) throw new Error(`row ${row.id} starts from ${row.from}, which no earlier row of the job produced`);
      rows.push(await runPosthocRow(row, splits, base?.model ?? start, base?.result, { ...common, configHash: pre.hash.slice(0, 16) }, log));
      progress.save(index, row, rows.at(-1)!);
      continue;
    }
    if (row.candidates === undefined || row.candidates.length === 0) {
      const test = await evaluate(start, splits.test.dataset, splits.test.indices);
      rows.push({
        ...common,
        row: row.id,
        label: row.label,
        finetuneSteps: null,
        stepsRun: null,
        configHash: pre.hash.slice(0, 16),
        test: testReport(test.metrics),
        validationObjective: null,
        seconds: pre.seconds,
        cached: pre.cached,
        chosen: null,
        effectivePairs: null,
        ...(pre.choice === undefined ? {} : { startChoice: pre.choice }),
      });
      progress.save(index, row, rows.at(-1)!);
      continue;
    }
    const done = await runFinetuneRow(job, row, splits, pre.path, common, log, wanted.has(row.id));
    rows.push(done.result);
    progress.save(index, row, done.result, done.model);
    if (done.model !== undefined) kept.set(row.id, { model: done.model, result: done.result });
  }
  for (const k of kept.values()) k.model.dispose();
  start.dispose();
  return {
    format: "selmix-bench-job",
    version: 1,
    job,
    manifestId: splits.manifest.id,
    backend: activeBackend() ?? "unknown",
    seconds: (performance.now() - t0) / 1000,
    finishedAt: new Date().toISOString(),
    rows,
  };
}

async function runFinetuneRow(
  job: Job,
  row: RowSpec,
  splits: Splits,
  checkpoint: string,
  common: Pick<RowResult, "dataset" | "seed" | "model" | "pretrainSteps" | "pretrainHash">,
  log: (message: string) => void,
  keep: boolean,
): Promise<{ result: RowResult; model?: Model }> {
  const data = {
    labeled: splits.labeled,
    validation: splits.validation,
    ...(job.pretrain.kind === "fixmatch" ? { unlabeled: splits.unlabeled } : {}),
  };
  let best: Candidate | undefined;
  let seconds = 0;
  let stepsRun = 0;
  for (const config of row.candidates ?? []) {
    const model = freshModel(job, splits);
    loadCheckpoint(checkpoint, model);
    const t0 = performance.now();
    const result = await finetune(model, data, config, { datasetManifestId: splits.manifest.id });
    const dt = (performance.now() - t0) / 1000;
    seconds += dt;
    stepsRun += result.stepsRun;
    log(`${row.id} (${config.gainVariant}, ${config.policy}, ${config.mode}, x1 from ${poolOf(config)}): validation ${result.selectedObjective.toFixed(4)} in ${dt.toFixed(1)} s`);
    if (best === undefined || result.selectedObjective > best.result.selectedObjective) {
      best?.model.dispose();
      best = { config, model, result };
    } else {
      model.dispose();
    }
  }
  if (best === undefined) throw new Error(`row ${row.id} has no candidates`);
  const test = await evaluate(best.model, splits.test.dataset, splits.test.indices);
  if (!keep) best.model.dispose();
  const c = best.config;
  const pairs = best.result.diagnostics.map((d) => d.effectivePairs);
  const result: RowResult = {
    ...common,
    row: row.id,
    label: row.label,
    ...(row.objective === undefined ? {} : { objective: row.objective }),
    finetuneSteps: c.steps,
    stepsRun,
    configHash: hashOf(c).slice(0, 16),
    test: testReport(test.metrics),
    validationObjective: best.result.selectedObjective,
    seconds,
    cached: false,
    chosen: {
      mode: c.mode,
      policy: c.policy,
      gainVariant: c.gainVariant,
      temperature: c.temperature,
      temperatureScale: c.temperatureScale,
      lr: c.lr,
      objective: c.objective,
      ...(new Set(row.candidates!.map(poolOf)).size > 1 ? { firstPool: poolOf(c) } : {}),
    },
    effectivePairs: pairs.length === 0 ? null : { first: pairs[0]!, mean: mean(pairs) },
  };
  return keep ? { result, model: best.model } : { result };
}

const labelsOf = (subset: Splits["test"]): Int32Array => Int32Array.from(subset.indices, (i) => subset.dataset.labels[i]!);

/**
 * A post-hoc plug-in row: per-class logit offsets fitted on the validation set for the row's objective (default
 * objective options, as the SelMix rows), applied to the test predictions of `model` (the pre-trained model, or the
 * one the `base` row chose). Its time is the fit's.
 */
async function runPosthocRow(
  row: RowSpec,
  splits: Splits,
  model: Model,
  base: RowResult | undefined,
  common: Pick<RowResult, "dataset" | "seed" | "model" | "pretrainSteps" | "pretrainHash" | "configHash">,
  log: (message: string) => void,
): Promise<RowResult> {
  const objective = row.posthoc!;
  const k = splits.source.train.numClasses;
  const t0 = performance.now();
  const val = await predict(model, splits.validation.dataset, splits.validation.indices);
  const fit = fitPosthoc(createObjective(objective), { scores: val.probabilities, labels: labelsOf(splits.validation), numClasses: k, space: "probabilities" });
  const seconds = (performance.now() - t0) / 1000;
  const test = await predict(model, splits.test.dataset, splits.test.indices);
  const predicted = adjustedPredictions({ scores: test.probabilities, numClasses: k, space: "probabilities" }, fit.offsets);
  const metrics = evaluateMetrics(confusionFromPredictions(labelsOf(splits.test), predicted, k));
  log(`${row.id}: validation ${fit.fit.before.toFixed(4)} -> ${fit.fit.after.toFixed(4)} in ${seconds.toFixed(2)} s`);
  return {
    ...common,
    row: row.id,
    label: row.label,
    objective,
    finetuneSteps: base?.finetuneSteps ?? null,
    stepsRun: base?.stepsRun ?? null,
    configHash: hashOf({ posthoc: objective, from: base?.configHash ?? common.configHash }).slice(0, 16),
    test: testReport(metrics),
    validationObjective: fit.fit.after,
    seconds,
    cached: false,
    chosen: base?.chosen ?? null,
    effectivePairs: base?.effectivePairs ?? null,
    posthoc: {
      objective,
      offsets: Array.from(fit.offsets),
      validationBefore: fit.fit.before,
      validationAfter: fit.fit.after,
      ...(row.from === undefined ? {} : { from: row.from }),
    },
  };
}

/**
 * Runs `job` into the results folder `outDir`: finished rows kept in {@link jobRowsDir} (a killed run resumes at its
 * first unfinished row), then the result written atomically to {@link jobResultPath} and the rows folder removed.
 */
export async function runJobToFile(job: Job, outDir: string, options: Omit<RunJobOptions, "rowsDir">): Promise<JobResult> {
  const rowsDir = jobRowsDir(outDir, job);
  const result = await runJob(job, { ...options, rowsDir });
  writeFileAtomic(jobResultPath(outDir, job), `${JSON.stringify(result, null, 1)}\n`);
  rowProgress(rowsDir).clear();
  return result;
}

/** `<out>/<profile>/<table>/jobs/<job id>.json`. */
export function jobResultPath(outDir: string, job: Job): string {
  return join(outDir, job.profile, job.table, "jobs", `${job.id}.json`);
}
