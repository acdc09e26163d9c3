import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { workerEnv } from "./gpu-env.ts";
import type { FromWorker, ToWorker } from "./messages.ts";
import { jobResultPath } from "./run-job.ts";
import type { Job } from "./types.ts";

/** Options of {@link runJobs}. */
export interface PoolOptions {
  readonly outDir: string;
  readonly cacheDir: string;
  /** Child processes (one per core). */
  readonly workers: number;
  readonly log: (message: string) => void;
}

/** What {@link runJobs} did. */
export interface PoolSummary {
  /** Jobs whose result file already existed (a resumed bench skips them). */
  readonly skipped: number;
  readonly done: number;
  readonly failed: readonly { readonly jobId: string; readonly reason: string }[];
}

/**
 * Runs the jobs without a result file in `workers` child processes (`dist/worker.js`, each with its own wasm
 * backend). A job whose worker dies is reported as failed, and a fresh worker takes the next job.
 */
export async function runJobs(jobs: readonly Job[], options: PoolOptions): Promise<PoolSummary> {
  const pending = jobs.filter((j) => !existsSync(jobResultPath(options.outDir, j)));
  const skipped = jobs.length - pending.length;
  const failed: { jobId: string; reason: string }[] = [];
  let done = 0;
  let started = 0;
  if (pending.length === 0) return { skipped, done, failed };
  const workerPath = fileURLToPath(new URL("./worker.js", import.meta.url));
  const queue = [...pending];
  const total = pending.length;
  const startOne = (resolve: () => void, slot: number): void => {
    const job = queue.shift();
    if (job === undefined) {
      resolve();
      return;
    }
    const child: ChildProcess = fork(workerPath, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [], env: workerEnv(slot) });
    let current: Job | undefined;
    const next = (): void => {
      current = queue.shift();
      if (current === undefined) {
        child.send({ type: "exit" } satisfies ToWorker);
        return;
      }
      started++;
      options.log(`[${started}/${total}] ${current.table} ${current.id} (worker ${child.pid})`);
      child.send({ type: "job", job: current, outDir: options.outDir, cacheDir: options.cacheDir } satisfies ToWorker);
    };
    child.on("message", (m: FromWorker) => {
      if (m.type === "log") options.log(`  ${m.jobId.split("-").slice(0, -1).join("-")}: ${m.text}`);
      else if (m.type === "done") {
        done++;
        options.log(`  done ${m.jobId} in ${m.seconds.toFixed(0)} s`);
        next();
      } else {
        failed.push({ jobId: m.jobId, reason: `${m.code}: ${m.message}` });
        options.log(`  FAILED ${m.jobId}: ${m.code}: ${m.message}`);
        next();
      }
    });
    child.on("exit", (code) => {
      if (current !== undefined && !existsSync(jobResultPath(options.outDir, current)) && !failed.some((f) => f.jobId === current?.id)) {
        failed.push({ jobId: current.id, reason: `worker exited with code ${code}` });
        options.log(`  FAILED ${current.id}: worker exited with code ${code}`);
        startOne(resolve, slot);
        return;
      }
      resolve();
    });
    queue.unshift(job);
    next();
  };
  const n = Math.max(1, Math.min(options.workers, pending.length));
  await Promise.all(Array.from({ length: n }, (_, slot) => new Promise<void>((resolve) => startOne(resolve, slot))));
  return { skipped, done, failed };
}
