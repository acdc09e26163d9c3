import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isSelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import type { SourceName } from "@selmix/datasets";
import { activeBackend, initBackend } from "@selmix/models";
import { aggregate, describeUnlabelled, describeWin } from "./aggregate.ts";
import { describeCompetitors } from "./competitors.ts";
import { datasetsFor } from "./datasets.ts";
import type { RunRecord, TableDocument } from "./document.ts";
import { type CoreSplit, chooseSplit } from "./core-split.ts";
import { buildJobs, withGradientWorkers } from "./jobs.ts";
import { limitDataset, type TableLimits } from "./limits.ts";
import { renderMarkdown } from "./markdown.ts";
import { runJobs } from "./pool.ts";
import { profileSettings } from "./profiles.ts";
import { checkRedis, redactedQueueUrl } from "./queue.ts";
import { runJobsOnQueue } from "./queue-coordinator.ts";
import { updateReadme } from "./readme.ts";
import { lockTableResults } from "./results-lock.ts";
import { jobResultPath, runJobToFile, sourceOnce } from "./run-job.ts";
import { tableSvg } from "./svg.ts";
import type { BenchProfile, Job, JobResult, TableName } from "./types.ts";

/** Options of {@link runTable} (the flags of `supervised`, `semi-supervised` and `ablations`). */
export interface TableOptions {
  readonly table: TableName;
  readonly profile: BenchProfile;
  readonly seeds?: number;
  readonly sources?: readonly SourceName[];
  readonly out: string;
  /** Child processes; 0 runs the jobs in this process (tests). */
  readonly workers: number;
  /** Gradient workers per job instead of `chooseSplit`'s choice (`--gradient-workers`). */
  readonly gradientWorkers?: number;
  /** Run the jobs on the workers of this Redis queue instead (`--queue`; `workers` is then unused). */
  readonly queue?: URL;
  readonly dataDir?: string;
  /** False accepts data files with fewer records than the official ones (`--no-strict-counts`). @defaultValue true */
  readonly strictCounts?: boolean;
  /** Step cap, dataset sizes and the gain's class prior (`--max-steps`, `--n1`, `--val-per-class`, `--prior`). */
  readonly limits?: TableLimits;
  /** Rewrite the marked section of apps/bench/README.md. */
  readonly readme?: string;
  readonly command: string;
  /** Rewrites the jobs before they run (tests shrink them). */
  readonly transformJobs?: (jobs: Job[]) => Job[];
  readonly log?: (message: string) => void;
}

/** The run recorded in a table JSON written before `<table>.runs.json` existed (its own command, date and wall time). */
function legacyRun(docPath: string): RunRecord[] {
  if (!existsSync(docPath)) return [];
  const d = JSON.parse(readFileSync(docPath, "utf8")) as Partial<TableDocument>;
  if (d.runs !== undefined || d.command === undefined || d.date === undefined || d.wallSeconds === undefined) return [];
  return [{ command: d.command, date: d.date, wallSeconds: d.wallSeconds, jobsRun: null, workers: d.workers ?? 0 }];
}

/** Which sources can be loaded here; the others are skipped with the reason (e.g. CIFAR files absent). */
async function availableSources(
  sources: readonly SourceName[],
  dataDir: string | undefined,
  strictCounts: boolean,
): Promise<{ ok: SourceName[]; skipped: { dataset: string; reason: string }[] }> {
  const ok: SourceName[] = [];
  const skipped: { dataset: string; reason: string }[] = [];
  for (const s of sources) {
    try {
      await sourceOnce(s, dataDir, strictCounts);
      ok.push(s);
    } catch (error) {
      if (!(isSelmixError(error) && error.code === "NOT_FOUND")) throw error;
      skipped.push({ dataset: s, reason: `${error.code}: ${error.message.split("\n")[0]} (pass --data-dir with the files)` });
    }
  }
  return { ok, skipped };
}

/**
 * Runs a table: builds the job list, runs the jobs not yet done (in worker processes, or in-process with 0
 * workers), aggregates every job's results and writes `<out>/<profile>/<table>.{md,json}` and one SVG per dataset.
 */
export async function runTable(o: TableOptions): Promise<TableDocument> {
  const release = lockTableResults(join(o.out, o.profile, o.table));
  try {
    return await runTableLocked(o);
  } finally {
    release();
  }
}

async function runTableLocked(o: TableOptions): Promise<TableDocument> {
  const log = o.log ?? ((m: string): void => console.error(m));
  const t0 = performance.now();
  const settings = profileSettings(o.profile);
  if (o.queue !== undefined) await checkRedis(o.queue); // before loading data: a wrong URL fails at once
  const { ok, skipped } = await availableSources(o.sources ?? settings.sources[o.table], o.dataDir, o.strictCounts ?? true);
  for (const s of skipped) log(`skipping ${s.dataset}: ${s.reason}`);
  let jobs = buildJobs({
    table: o.table,
    settings,
    seeds: o.seeds ?? settings.seeds,
    sources: ok,
    ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }),
    ...(o.limits === undefined ? {} : { limits: o.limits }),
    ...(o.strictCounts === undefined ? {} : { strictCounts: o.strictCounts }),
  });
  if (o.transformJobs) jobs = o.transformJobs(jobs);
  const cacheDir = join(o.out, "cache");
  let failed: { jobId: string; reason: string }[] = [];
  let jobsRun = 0;
  let split: CoreSplit | undefined;
  if (o.queue !== undefined) {
    log(`${o.table} (${o.profile}): ${jobs.length} jobs on the queue, results in ${join(o.out, o.profile, o.table)}`);
    const summary = await runJobsOnQueue(jobs, { url: o.queue, outDir: o.out, log });
    jobsRun = summary.done;
    log(`${summary.done} jobs run on the queue, ${summary.skipped} already done`);
  } else if (o.workers === 0) {
    await initBackend();
    for (const job of jobs) {
      if (existsSync(jobResultPath(o.out, job))) continue;
      await runJobToFile(job, o.out, { cacheDir, log: (m) => log(`  ${job.id}: ${m}`) });
      jobsRun++;
    }
  } else {
    await initBackend(); // the backend the job processes will pick too: gradient workers only on wasm/cpu
    split = chooseSplit(o.workers, jobs, activeBackend(), o.gradientWorkers);
    jobs = jobs.map((j) => withGradientWorkers(j, split!.gradientWorkers));
    log(`${o.table} (${o.profile}): ${split.reason}, results in ${join(o.out, o.profile, o.table)}`);
    const summary = await runJobs(jobs, { outDir: o.out, cacheDir, workers: split.processes, log });
    failed = [...summary.failed];
    jobsRun = summary.done;
    log(`${summary.done} jobs run, ${summary.skipped} already done, ${summary.failed.length} failed`);
  }
  const results = jobs
    .map((j) => jobResultPath(o.out, j))
    .filter((p) => existsSync(p))
    .map((p) => JSON.parse(readFileSync(p, "utf8")) as JobResult);
  const datasets = aggregate(o.table, datasetsFor(o.table, ok).map((d) => limitDataset(d, o.limits ?? {})), results);
  const date = new Date().toISOString();
  const wallSeconds = (performance.now() - t0) / 1000;
  const runsPath = join(o.out, o.profile, `${o.table}.runs.json`);
  const previous = existsSync(runsPath) ? (JSON.parse(readFileSync(runsPath, "utf8")) as RunRecord[]) : legacyRun(join(o.out, o.profile, `${o.table}.json`));
  const run: RunRecord = {
    command: o.command,
    date,
    wallSeconds,
    jobsRun,
    workers: split?.processes ?? o.workers,
    ...(split === undefined ? {} : { split: split.reason }),
    ...(o.queue === undefined ? {} : { queue: redactedQueueUrl(o.queue) }),
  };
  const runs = jobsRun > 0 ? [...previous, run] : previous;
  writeFileAtomic(runsPath, `${JSON.stringify(runs, null, 1)}\n`);
  const doc: TableDocument = {
    format: "selmix-bench-table",
    version: 1,
    table: o.table,
    profile: o.profile,
    command: o.command,
    date,
    wallSeconds,
    computeSeconds: results.reduce((s, r) => s + r.seconds, 0),
    workers: o.workers,
    runs,
    description: settings.description,
    datasets,
    skipped,
    failed,
  };
  const dir = join(o.out, o.profile);
  const markdown = renderMarkdown(doc);
  writeFileAtomic(join(dir, `${o.table}.json`), `${JSON.stringify(doc, null, 1)}\n`);
  writeFileAtomic(join(dir, `${o.table}.md`), markdown);
  for (const t of datasets) writeFileAtomic(join(dir, `${o.table}-${t.dataset.id}.svg`), tableSvg(o.table, t));
  if (o.readme !== undefined) updateReadme(o.readme, `${o.table}:${o.profile}`, markdown);
  for (const t of datasets) {
    if (t.unlabelled !== undefined) log(`${t.dataset.id}: ${describeUnlabelled(t.unlabelled)}`);
    for (const w of t.wins) log(`${t.dataset.id}: ${describeWin(w)}`);
  }
  for (const t of datasets) for (const c of t.competitors) log(`${t.dataset.id}: ${describeCompetitors(c)}`);
  return doc;
}
