import type { BackendName } from "@selmix/models";
import type { Job } from "./types.ts";

/** How a table's jobs share the cores: `processes` jobs at a time, each training on `gradientWorkers` threads. */
export interface CoreSplit {
  readonly processes: number;
  readonly gradientWorkers: number;
  /** One line for the log and the table header. */
  readonly reason: string;
}

/**
 * Speed-up of one CNN training run on w gradient workers, assumed 1 + (w − 1)·e. `pnpm bench speed` bounds it from
 * CPU time (2 x CPU per image with 1 worker / with 2: 1.7-1.9x for the CNN at batch 64-128); 0.7 sits below that
 * bound because the two cores rarely deliver twice one core's speed (PyTorch gets 1.2x from its second thread
 * here). MLP steps are too short to gain anything.
 */
const CONV_EFFICIENCY = 0.7;

/**
 * The split of `cores` that finishes a whole table soonest, for jobs of about equal length: for every w, ⌊cores/w⌋
 * processes run ⌈jobs/processes⌉ rounds of jobs sped up by w workers; the shortest estimate wins, ties go to fewer
 * workers (no messaging). Decided from the table's whole job list (not the pending part), so a resumed bench makes
 * the same choice and finds its finished jobs. On the native backends (tfjs-node) a job never gets workers.
 */
export function chooseSplit(cores: number, jobs: readonly Job[], backend: BackendName | undefined = "wasm", gradientWorkers?: number): CoreSplit {
  const n = Math.max(1, jobs.length);
  if (gradientWorkers !== undefined) {
    // Fixed by the caller (`--gradient-workers`): a table resumed with another job count keeps its job ids.
    const processes = Math.max(1, Math.min(Math.floor(cores / gradientWorkers), n));
    return { processes, gradientWorkers, reason: splitReason(processes, gradientWorkers, n, cores, "--gradient-workers") };
  }
  const native = backend === "tensorflow" || backend === "tensorflow-gpu";
  const conv = !native && jobs.some((j) => j.model !== "mlp" && j.model !== "text-bag");
  let best = { processes: Math.min(cores, n), gradientWorkers: 1, cost: Math.ceil(n / Math.min(cores, n)) };
  for (let w = 2; conv && w <= cores; w++) {
    const processes = Math.min(Math.floor(cores / w), n);
    const cost = Math.ceil(n / processes) / (1 + (w - 1) * CONV_EFFICIENCY);
    if (cost < best.cost - 1e-9) best = { processes, gradientWorkers: w, cost };
  }
  const why = native ? `${backend} uses every core itself` : conv ? `estimated ${best.cost.toFixed(2)} job-lengths of wall time` : "MLP or text-bag jobs: one job per core";
  return { processes: best.processes, gradientWorkers: best.gradientWorkers, reason: splitReason(best.processes, best.gradientWorkers, n, cores, why) };
}

function splitReason(processes: number, gradientWorkers: number, jobs: number, cores: number, why: string): string {
  const plural = (k: number, one: string, many: string): string => `${k} ${k === 1 ? one : many}`;
  return `${plural(processes, "job process", "job processes")} x ${plural(gradientWorkers, "gradient worker", "gradient workers")} for ${jobs} jobs on ${cores} cores (${why})`;
}
