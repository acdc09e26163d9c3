/**
 * BullMQ's sandboxed processor of `pnpm bench worker`: BullMQ forks this file into child processes (as many as
 * `--concurrency`) and reuses them across jobs. Training runs here, away from the worker process, whose event loop
 * then stays free to renew the job locks.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { isSelmixError } from "@selmix/core";
import { activeBackend, initBackend } from "@selmix/models";
import { type SandboxedJob, UnrecoverableError } from "bullmq";
import { PROCESSOR_ENV, type ProcessorSettings, type QueuedJob, type QueueProgress } from "./queue.ts";
import { rowProgress } from "./row-progress.ts";
import { runJob } from "./run-job.ts";
import type { JobResult } from "./types.ts";

// A child whose worker process died (kill -9) stops too, instead of training for nobody and writing into the
// cache a new run of its job resumes from. Training rarely yields to the event loop, so a thread watches.
if (process.send !== undefined) {
  new Worker(
    `const { workerData } = require("node:worker_threads");
     setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, "SIGKILL"); }, 500);`,
    { eval: true, workerData: process.ppid },
  ).unref();
}

let backend: Promise<unknown> | undefined;

function settings(): ProcessorSettings {
  const raw = process.env[PROCESSOR_ENV];
  if (raw === undefined) throw new Error(`${PROCESSOR_ENV} is not set: this file is forked by pnpm bench worker`);
  return JSON.parse(raw) as ProcessorSettings;
}

/**
 * Runs one queued job and returns its result, with who ran it. A coded `SelmixError` (bad config, missing data)
 * fails the same way on every attempt: it becomes BullMQ's `UnrecoverableError` (no retry), its reason
 * `CODE: message` as the coordinator prints it. Any other error (`INTERNAL_ERROR: message`) uses the job's
 * remaining attempts.
 */
export default async function processQueuedJob(queued: SandboxedJob<QueuedJob, JobResult>): Promise<JobResult> {
  const s = settings();
  const job = s.dataDir === undefined ? queued.data.job : { ...queued.data.job, dataDir: s.dataDir };
  const progress = (text: string): void => {
    void queued.updateProgress({ text } satisfies QueueProgress);
  };
  try {
    backend ??= initBackend({ name: s.backend });
    await backend;
    const ranBy = { hostname: hostname(), pid: process.pid, workerPid: s.workerPid, backend: activeBackend() ?? "unknown" };
    progress(`running on ${ranBy.hostname} pid ${ranBy.pid} (${ranBy.backend}), attempt ${queued.attemptsStarted ?? queued.attemptsMade + 1}`);
    // A retried attempt (this machine's process was killed) resumes at the first unfinished row.
    const rowsDir = join(s.cacheDir, "rows", job.id);
    const result = await runJob(job, { cacheDir: s.cacheDir, log: progress, rowsDir });
    rowProgress(rowsDir).clear();
    return { ...result, job: queued.data.job, ranBy };
  } catch (error) {
    if (process.env.SELMIX_DEBUG) console.error(error);
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
    if (isSelmixError(error)) throw new UnrecoverableError(`${error.code}: ${message}`);
    // The prefix keeps a Node error's own "ENOENT: ..." from reading as one of our codes.
    throw new Error(`INTERNAL_ERROR: ${message}`);
  }
}
