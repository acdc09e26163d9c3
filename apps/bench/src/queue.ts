/**
 * What the coordinator (`pnpm bench <table> --queue URL`) and the workers (`pnpm bench worker --queue URL`) share:
 * the BullMQ queue name, the Redis connection and the shape of a queued job.
 */
import { SelmixError } from "@selmix/core";
import type { BackendChoice } from "@selmix/models";
import type { ConnectionOptions } from "bullmq";
import { Redis } from "ioredis";
import type { Job } from "./types.ts";

/** The BullMQ queue every table's jobs go to (the job id already names table, dataset, seed and config hash). */
export const QUEUE_NAME = "selmix-bench";

/** The data of a queued job: the job exactly as the coordinator built it. */
export interface QueuedJob {
  readonly job: Job;
}

/** How `bench worker` configures the children BullMQ forks from `queue-processor.ts` (JSON in {@link PROCESSOR_ENV}). */
export interface ProcessorSettings {
  readonly cacheDir: string;
  /** Replaces the coordinator's `--data-dir` (paths differ between machines). */
  readonly dataDir?: string;
  readonly backend: BackendChoice;
  readonly workerPid: number;
}

/** The environment variable that carries {@link ProcessorSettings} to the forked children. */
export const PROCESSOR_ENV = "SELMIX_BENCH_WORKER";

/** Progress a worker reports while running a job (shown by the coordinator). */
export interface QueueProgress {
  readonly text: string;
}

/** Checks a `--queue` value: `redis://[user:password@]host[:port][/db]` or `rediss://` (TLS). */
export function parseQueueUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SelmixError("INVALID_ARGUMENT", `--queue ${value}: not a URL; expected redis://HOST:PORT/DB`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new SelmixError("INVALID_ARGUMENT", `--queue ${value}: expected redis://HOST:PORT/DB or rediss://, got ${url.protocol}`);
  }
  if (!/^\/?\d*$/.test(url.pathname)) throw new SelmixError("INVALID_ARGUMENT", `--queue ${value}: the path must be a database number, e.g. /0`);
  return url;
}

/** The URL without its password, for logs and run records. */
export function redactedQueueUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password !== "") copy.password = "***";
  return copy.href;
}

/** BullMQ connection options for a queue URL (BullMQ hands `url` to its ioredis client; blocking calls need no retry limit). */
export function queueConnection(url: URL): ConnectionOptions {
  return { url: url.href, maxRetriesPerRequest: null };
}

/**
 * Fails fast with one line when no Redis answers at the URL, instead of BullMQ's endless reconnecting (which is
 * what a long-running coordinator or worker wants once it is connected).
 */
export async function checkRedis(url: URL, timeoutMs = 5000): Promise<void> {
  const client = new Redis(url.href, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: Error | undefined; // the socket's error (ECONNREFUSED, ...) says more than the rejected connect()
  client.on("error", (error: Error) => {
    cause ??= error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const reason = (cause ?? (error instanceof Error ? error : new Error(String(error)))).message.split("\n")[0];
    throw new SelmixError("NOT_FOUND", `--queue ${redactedQueueUrl(url)}: no Redis answers there (${reason})`);
  } finally {
    client.disconnect();
  }
}

/** `CODE: message` of a failed job (what the worker put into BullMQ's failed reason), split again. */
export function parseFailedReason(reason: string): { readonly code: string; readonly message: string } {
  const m = /^([A-Z][A-Z_]+): (.*)$/s.exec(reason);
  return m === null ? { code: "INTERNAL_ERROR", message: reason } : { code: m[1]!, message: m[2]! };
}
