import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type SelmixErrorCode, SelmixError } from "@selmix/core";
import type { BackendChoice, BackendName } from "@selmix/models";
import { Worker } from "bullmq";
import { checkRedis, PROCESSOR_ENV, type ProcessorSettings, QUEUE_NAME, type QueuedJob, type QueueProgress, queueConnection, redactedQueueUrl } from "./queue.ts";
import type { JobResult } from "./types.ts";

/** Options of {@link runQueueWorker} (the flags of `pnpm bench worker`). */
export interface QueueWorkerOptions {
  readonly url: URL;
  /** Jobs run at the same time, each in its own child process. */
  readonly concurrency: number;
  /** Without it, `SELMIX_BACKEND`, else the first that starts (`initBackend`). */
  readonly backend?: BackendChoice;
  /** Results folder of this machine: its `cache/` holds the pre-trained checkpoints and interrupted runs. */
  readonly out: string;
  /** CIFAR files on this machine (replaces the coordinator's `--data-dir`). */
  readonly dataDir?: string;
  /** Seconds without a lock renewal before another worker takes a dead worker's job back (BullMQ lock and stall check). */
  readonly lockSeconds: number;
  readonly log: (message: string) => void;
  /** Resolves when the worker should stop (default: SIGINT or SIGTERM). */
  readonly stop?: Promise<void>;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

/** The backend `initBackend` picks on this machine for the choice, found in a short-lived process (`backend-probe.js`). */
function probeBackend(choice: BackendChoice | undefined): BackendName {
  const probe = fileURLToPath(new URL("./backend-probe.js", import.meta.url));
  const run = spawnSync(process.execPath, [probe, ...(choice === undefined ? [] : [choice])], { encoding: "utf8", timeout: 120_000 });
  const line = run.stdout?.trim().split("\n").at(-1) ?? "";
  let answer: { name?: BackendName; code?: string; message?: string };
  try {
    answer = JSON.parse(line) as typeof answer;
  } catch {
    throw new Error(`backend probe exited with ${run.status ?? run.signal}: ${run.stderr?.trim().split("\n").at(-1) ?? ""}`);
  }
  if (answer.name !== undefined) return answer.name;
  const message = answer.message ?? "backend probe failed";
  throw answer.code === "INTERNAL_ERROR" ? new Error(message) : new SelmixError(answer.code as SelmixErrorCode, message);
}

/**
 * Takes jobs from the queue until stopped: BullMQ runs each in a sandboxed child process (`queue-processor.js`),
 * renews its lock while it runs, and moves the job of a worker that stopped renewing (killed, machine lost) back to
 * the queue once the lock expires. On stop, the jobs running finish first.
 */
export async function runQueueWorker(o: QueueWorkerOptions): Promise<void> {
  await checkRedis(o.url);
  // The backend is checked once now, so a machine without it fails at start instead of failing every job it takes.
  const backend = probeBackend(o.backend);
  const settings: ProcessorSettings = {
    cacheDir: join(o.out, "cache"),
    ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }),
    backend,
    workerPid: process.pid,
  };
  const processor = fileURLToPath(new URL("./queue-processor.js", import.meta.url));
  const lockDuration = o.lockSeconds * 1000;
  const worker = new Worker<QueuedJob, JobResult>(QUEUE_NAME, processor, {
    connection: queueConnection(o.url),
    name: `${hostname()}:${process.pid}`,
    concurrency: o.concurrency,
    lockDuration,
    stalledInterval: lockDuration,
    // A job whose worker died twice is failed rather than handed around forever.
    maxStalledCount: 2,
    workerForkOptions: { env: { ...process.env, [PROCESSOR_ENV]: JSON.stringify(settings) }, execArgv: [] },
  });
  worker.on("active", (job) => o.log(`started ${job.id}`));
  worker.on("progress", (job, p) => o.log(`  ${job.id}: ${(p as QueueProgress).text}`));
  worker.on("completed", (job) => o.log(`done ${job.id}`));
  worker.on("failed", (job, error) => o.log(`FAILED ${job?.id}: ${error.message.split("\n")[0]}`));
  worker.on("error", (error) => o.log(`queue error: ${error.message.split("\n")[0]}`));
  o.log(`worker ${hostname()}:${process.pid} on ${redactedQueueUrl(o.url)} (${QUEUE_NAME}), ${o.concurrency} at a time, backend ${backend}, cache ${settings.cacheDir}`);
  await worker.waitUntilReady();
  await (o.stop ?? untilSignal());
  o.log("stopping: the jobs running finish first (a second signal kills them; their jobs go back to the queue)");
  process.once("SIGINT", () => process.exit(130));
  process.once("SIGTERM", () => process.exit(143));
  await worker.close();
}
