import { existsSync } from "node:fs";
import { type SelmixErrorCode, SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import { createManifest, resolveProfile } from "@selmix/datasets";
import { Job as QueueJob, Queue, QueueEvents } from "bullmq";
import { checkRedis, parseFailedReason, QUEUE_NAME, type QueuedJob, type QueueProgress, queueConnection, redactedQueueUrl } from "./queue.ts";
import { jobResultPath, sourceOnce } from "./run-job.ts";
import type { Job, JobResult } from "./types.ts";

/** Options of {@link runJobsOnQueue}. */
export interface QueueRunOptions {
  readonly url: URL;
  readonly outDir: string;
  readonly log: (message: string) => void;
}

/** What {@link runJobsOnQueue} did. */
export interface QueueRunSummary {
  /** Jobs whose result file already existed (not enqueued). */
  readonly skipped: number;
  /** Results received from the queue and written. */
  readonly done: number;
}

/**
 * A non-coded error fails after this many attempts. A coded `SelmixError` fails at once (the processor makes it an
 * `UnrecoverableError`), and a job whose worker died is taken back by BullMQ's stall check without using an attempt.
 */
const ATTEMPTS = 2;
/** A failed job stays this long in Redis (a re-run within it retries the same job; after it, the job is added anew). */
const FAILED_KEPT_SECONDS = 7 * 24 * 3600;

/** The manifest id of a job's splits on this machine's data: a worker whose data differ reports another one. */
async function expectedManifestId(job: Job): Promise<string> {
  const source = await sourceOnce(job.dataset.source, job.dataDir, job.strictCounts ?? true);
  return createManifest(source, resolveProfile(job.dataset.profile, job.dataset.options), job.seed).id;
}

function failure(jobId: string, reason: string): Error {
  const { code, message } = parseFailedReason(reason);
  const text = `job ${jobId} failed: ${message}`;
  // The worker's own code when it is one of ours; anything else is printed as INTERNAL_ERROR.
  return code === "INTERNAL_ERROR" ? new Error(text) : new SelmixError(code as SelmixErrorCode, text);
}

/**
 * Puts the jobs without a result file on the Redis queue (job id = the job's config-hash id, so a job already
 * queued, running or finished there is not added twice; a failed one is retried), then waits for them. Each result
 * comes back through the queue and is written atomically where a local run writes it; the job is then removed from
 * Redis. Progress from the workers (start, pre-training, each fine-tune, stalls) is logged per job. The first job
 * that fails for good fails the call with its one-line `CODE: message`; the other jobs go on running on the
 * workers, and a re-run collects them.
 */
export async function runJobsOnQueue(jobs: readonly Job[], o: QueueRunOptions): Promise<QueueRunSummary> {
  const pending = jobs.filter((j) => !existsSync(jobResultPath(o.outDir, j)));
  const skipped = jobs.length - pending.length;
  if (pending.length === 0) return { skipped, done: 0 };
  await checkRedis(o.url);
  const connection = queueConnection(o.url);
  const queue = new Queue<QueuedJob, JobResult>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const byId = new Map(pending.map((j) => [j.id, j]));
  const total = pending.length;
  let done = 0;
  const started = new Set<string>();
  // Redis going away for a while is survived (BullMQ reconnects); say so instead of staying silent.
  const onError = (error: Error): void => o.log(`queue error (reconnecting): ${error.message.split("\n")[0]}`);
  queue.on("error", onError);
  events.on("error", onError);
  events.on("active", ({ jobId }) => {
    if (!byId.has(jobId)) return;
    if (started.has(jobId)) o.log(`  ${jobId}: started again`);
    else o.log(`[${started.add(jobId).size}/${total}] started ${jobId}`);
  });
  events.on("progress", ({ jobId, data }) => {
    if (byId.has(jobId)) o.log(`  ${jobId}: ${(data as QueueProgress).text}`);
  });
  events.on("stalled", ({ jobId }) => {
    if (byId.has(jobId)) o.log(`  ${jobId}: its worker stopped answering; back in the queue for another worker`);
  });
  events.on("retries-exhausted", ({ jobId, attemptsMade }) => {
    if (byId.has(jobId)) o.log(`  ${jobId}: failed after ${attemptsMade} attempts`);
  });
  try {
    await events.waitUntilReady();
    o.log(`queue ${redactedQueueUrl(o.url)} (${QUEUE_NAME}): ${total} jobs to run, ${skipped} already done`);
    const settle = async (job: Job): Promise<void> => {
      let queued = await QueueJob.fromId<QueuedJob, JobResult>(queue, job.id);
      if (queued === undefined) queued = await queue.add(job.table, { job }, { jobId: job.id, attempts: ATTEMPTS, backoff: { type: "fixed", delay: 5000 }, removeOnFail: { age: FAILED_KEPT_SECONDS } });
      else {
        const state = await queued.getState();
        if (state === "failed") {
          o.log(`  ${job.id}: failed before (${queued.failedReason}); retrying`);
          await queued.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
        } else {
          o.log(`  ${job.id}: already in the queue (${state})`);
        }
      }
      let result: JobResult;
      try {
        result = await queued.waitUntilFinished(events);
      } catch (error) {
        throw failure(job.id, error instanceof Error ? error.message : String(error));
      }
      if (result?.format !== "selmix-bench-job" || result.job?.id !== job.id) {
        throw new SelmixError("MISMATCH", `job ${job.id}: the queue returned something that is not its result`);
      }
      const expected = await expectedManifestId(job);
      if (result.manifestId !== expected) {
        await queued.remove().catch(() => {}); // a re-run, after the fix, enqueues it again
        const by = result.ranBy === undefined ? "its worker" : `${result.ranBy.hostname} pid ${result.ranBy.pid}`;
        throw new SelmixError("MISMATCH", `job ${job.id}: ${by} drew other splits (manifest ${result.manifestId}, here ${expected}): other data files or another commit there`);
      }
      writeFileAtomic(jobResultPath(o.outDir, job), `${JSON.stringify({ ...result, job }, null, 1)}\n`);
      // Written: Redis need not keep it. A job already removed (another coordinator of the same table) is fine.
      await queued.remove().catch(() => {});
      done++;
      const by = result.ranBy === undefined ? "" : ` on ${result.ranBy.hostname} pid ${result.ranBy.pid} (${result.ranBy.backend})`;
      o.log(`  done ${job.id} in ${result.seconds.toFixed(0)} s${by} [${done}/${total}]`);
    };
    await Promise.all(pending.map(settle));
  } finally {
    await events.close();
    await queue.close();
  }
  return { skipped, done };
}
