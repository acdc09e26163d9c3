import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@selmix/core/node";
import { loadCheckpoint, type Model, saveCheckpoint } from "@selmix/models";
import type { Job, RowResult, RowSpec } from "./types.ts";

/**
 * The finished rows of one job on disk, so a killed job resumes at its first unfinished row instead of from the
 * start. The folder is named by the job id, which hashes every row's config: a file there is always this job's.
 * A row that later rows start from (`from`) also keeps its chosen model's checkpoint.
 */
export interface RowProgress {
  /** The saved result of row `index`, or undefined when it has not finished. */
  load(index: number, row: RowSpec): RowResult | undefined;
  /** Loads row `index`'s chosen model into `model`; false when it was not saved. */
  loadModel(index: number, row: RowSpec, model: Model): boolean;
  /** Records row `index` as finished (atomically), with its chosen model when later rows need it. */
  save(index: number, row: RowSpec, result: RowResult, model?: Model): void;
  /** Removes the folder (the job's result file now holds every row). */
  clear(): void;
}

/** `<out>/<profile>/<table>/jobs/<job id>.rows/`, beside the job's result file. */
export function jobRowsDir(outDir: string, job: Job): string {
  return join(outDir, job.profile, job.table, "jobs", `${job.id}.rows`);
}

/** Progress kept in `dir`; without a folder nothing is kept (every row runs). */
export function rowProgress(dir: string | undefined): RowProgress {
  if (dir === undefined) return { load: () => undefined, loadModel: () => false, save: () => {}, clear: () => {} };
  const base = (index: number, row: RowSpec): string => join(dir, `${String(index).padStart(3, "0")}-${row.id.replace(/[^\w.-]/g, "_")}`);
  return {
    load(index, row) {
      const path = `${base(index, row)}.json`;
      if (!existsSync(path)) return undefined;
      const saved = JSON.parse(readFileSync(path, "utf8")) as RowResult;
      return saved.row === row.id ? saved : undefined;
    },
    loadModel(index, row, model) {
      const path = `${base(index, row)}.ckpt`;
      if (!existsSync(path)) return false;
      loadCheckpoint(path, model);
      return true;
    },
    save(index, row, result, model) {
      mkdirSync(dir, { recursive: true });
      if (model !== undefined) saveCheckpoint(`${base(index, row)}.ckpt`, model); // before the row counts as done
      writeFileAtomic(`${base(index, row)}.json`, `${JSON.stringify(result)}\n`);
    },
    clear() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
