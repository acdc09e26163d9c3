import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@selmix/core/node";
import type { Manifest, Splits } from "@selmix/datasets";
import { loadCheckpoint, type Model, saveCheckpoint } from "@selmix/models";
import { evaluate, type FixMatchConfig, pretrain, pretrainFixMatch, reportMetric } from "@selmix/trainers";
import { hashOf } from "./hash.ts";
import { fixMatchVariantLabel } from "./labels.ts";
import { withCacheEntryLock } from "./results-lock.ts";
import type { FixMatchVariant, Job, StartChoice } from "./types.ts";

/** A pre-trained checkpoint of the cache. */
export interface CachedPretrain {
  /** `<cache>/pretrain-<sha256>.ckpt`. */
  readonly path: string;
  readonly hash: string;
  /** Seconds of the run that produced it (not of this load), its warm start included. */
  readonly seconds: number;
  readonly bestStep: number;
  readonly cached: boolean;
  /** Set when the job's FixMatch start had alternatives: the one chosen on validation (its path and hash above). */
  readonly choice?: StartChoice;
}

interface Sidecar {
  readonly seconds: number;
  readonly bestStep: number;
  readonly key: unknown;
}

/**
 * The data a job's pre-training reads, as an id. A labelled-only run of a semi-supervised table (a baseline row, or
 * FixMatch's warm start) reads only the labelled and validation splits, which one seed draws alike for every
 * unlabelled setting (ρ_u = 100, 1, 0.01): it is keyed by those two splits and the source, so the three settings
 * share one run. Every other run is keyed by its whole manifest.
 */
export function pretrainDataId(job: Job, manifest: Manifest): string {
  if (job.table !== "semi-supervised" || job.pretrain.kind !== "supervised") return manifest.id;
  return hashOf({ source: manifest.source, labeled: manifest.splits.labeled, validation: manifest.splits.validation });
}

/** The cache key of a job's pre-training: the canonical config, the model and the id of the data it reads. */
export function pretrainKey(job: Job, dataId: string): { readonly hash: string; readonly key: unknown } {
  const key = { pretrain: job.pretrain, model: job.model, modelSeed: job.seed, manifest: dataId };
  return { hash: hashOf(key), key };
}

/**
 * Returns the job's pre-trained checkpoint, training it first when the cache does not hold it. Training writes its
 * resumable `last.ckpt` into `pretrain-<hash>.run/`, so a killed bench continues the pre-training where it stopped.
 * The model passed in is trained (or loaded) in place.
 */
export async function pretrainCached(
  job: Job,
  splits: Splits,
  model: Model,
  cacheDir: string,
  log: (message: string) => void,
): Promise<CachedPretrain> {
  if (job.pretrain.kind === "fixmatch" && (job.pretrain.alternatives?.length ?? 0) > 0) return bestOfAlternatives(job, splits, model, cacheDir, log);
  const dataId = pretrainDataId(job, splits.manifest);
  const { hash, key } = pretrainKey(job, dataId);
  const path = join(cacheDir, `pretrain-${hash}.ckpt`);
  const sidecarPath = join(cacheDir, `pretrain-${hash}.json`);
  const fromCache = (): CachedPretrain | undefined => {
    if (!(existsSync(path) && existsSync(sidecarPath))) return undefined;
    loadCheckpoint(path, model);
    const side = JSON.parse(readFileSync(sidecarPath, "utf8")) as Sidecar;
    return { path, hash, seconds: side.seconds, bestStep: side.bestStep, cached: true };
  };
  // Checked again under the lock: a process we waited for has made the entry.
  return fromCache() ?? withCacheEntryLock(cacheDir, `pretrain-${hash}`, log, async () => fromCache() ?? train(job, splits, model, cacheDir, log, { hash, key, path, sidecarPath, dataId }));
}

/**
 * Trains (or loads) each FixMatch candidate of the job (`config`, then `alternatives`) as a job of its own, scores
 * each on the validation split by its `selectBy` and leaves the best in `model` (ties: the first). Seconds add up over
 * the candidates, the shared warm start counted once.
 */
async function bestOfAlternatives(job: Job, splits: Splits, model: Model, cacheDir: string, log: (message: string) => void): Promise<CachedPretrain> {
  if (job.pretrain.kind !== "fixmatch") throw new Error("only a FixMatch pre-training has alternatives");
  const { alternatives = [], ...single } = job.pretrain;
  const configs = [single.config, ...alternatives];
  const scored: { readonly pre: CachedPretrain; readonly validation: number }[] = [];
  for (const config of configs) {
    const pre = await pretrainCached({ ...job, pretrain: { ...single, config } }, splits, model, cacheDir, log);
    const { metrics } = await evaluate(model, splits.validation.dataset, splits.validation.indices);
    scored.push({ pre, validation: reportMetric(metrics, config.selectBy) });
    log(`FixMatch candidate (unlabelled prior ${fixMatchVariantLabel(config)}): validation ${config.selectBy} ${scored.at(-1)!.validation.toFixed(4)}`);
  }
  // Each candidate's seconds include the shared warm start: count it once.
  const warm = single.warmStart === undefined ? undefined : await pretrainCached({ ...job, pretrain: { kind: "supervised", config: single.warmStart } }, splits, model, cacheDir, log);
  const chosen = scored.reduce((best, s, i) => (s.validation > scored[best]!.validation ? i : best), 0);
  const best = scored[chosen]!.pre;
  loadCheckpoint(best.path, model);
  return {
    ...best,
    seconds: scored.reduce((sum, s) => sum + s.pre.seconds, 0) - (scored.length - 1) * (warm?.seconds ?? 0),
    cached: scored.every((s) => s.pre.cached),
    choice: { candidates: scored.map((s, i) => ({ ...variantOf(configs[i]!), validation: s.validation })), chosen },
  };
}

function variantOf(c: FixMatchConfig): FixMatchVariant {
  return { unlabeledPrior: c.unlabeledPrior, ...(c.distributionAlignment === true ? { distributionAlignment: true } : {}) };
}

interface Entry {
  readonly hash: string;
  readonly key: unknown;
  readonly path: string;
  readonly sidecarPath: string;
  /** {@link pretrainDataId}: also the run's dataset identity, so a run killed in one setting resumes in another. */
  readonly dataId: string;
}

async function train(job: Job, splits: Splits, model: Model, cacheDir: string, log: (message: string) => void, entry: Entry): Promise<CachedPretrain> {
  const { hash, key, path, sidecarPath, dataId } = entry;
  // A warm start trains (or loads) its labelled-only model into `model` first; that run has its own cache entry.
  const warm =
    job.pretrain.kind === "fixmatch" && job.pretrain.warmStart !== undefined
      ? await pretrainCached({ ...job, pretrain: { kind: "supervised", config: job.pretrain.warmStart } }, splits, model, cacheDir, log)
      : undefined;
  const runDir = join(cacheDir, `pretrain-${hash}.run`);
  const io = { checkpointDir: runDir, datasetManifestId: dataId };
  log(`pre-training ${job.pretrain.config.method} ${job.pretrain.config.steps} steps (${hash.slice(0, 12)})`);
  const t0 = performance.now();
  const result =
    job.pretrain.kind === "fixmatch"
      ? await pretrainFixMatch(model, splits.labeled, splits.unlabeled, splits.validation, job.pretrain.config, io)
      : await pretrain(model, splits.labeled, splits.validation, job.pretrain.config, io);
  const seconds = (performance.now() - t0) / 1000 + (warm?.seconds ?? 0);
  const sidecar: Sidecar = { seconds, bestStep: result.bestStep, key };
  writeFileAtomic(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);
  saveCheckpoint(path, model, { step: result.bestStep, datasetManifestId: dataId });
  rmSync(runDir, { recursive: true, force: true });
  return { path, hash, seconds, bestStep: result.bestStep, cached: false };
}
