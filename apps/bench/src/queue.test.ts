import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { isSelmixError } from "@selmix/core";
import { activeBackend } from "@selmix/models";
import { Queue, Worker } from "bullmq";
import { afterAll, describe, expect, it, vi } from "vitest";
import { action } from "./program.ts";
import { checkRedis, parseFailedReason, parseQueueUrl, QUEUE_NAME, queueConnection, redactedQueueUrl } from "./queue.ts";
import { jobResultPath } from "./run-job.ts";
import { runTable } from "./table-command.ts";
import { shrinkJobs } from "./testing/shrink-jobs.ts";
import type { Job, JobResult } from "./types.ts";

const hasRedis = spawnSync("redis-server", ["--version"]).status === 0;
if (!hasRedis) console.warn("skipping the queue tests: redis-server is missing (apt-get install -y redis-server)");
const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

const dir = mkdtempSync(join(tmpdir(), "selmix-queue-"));
const children: ChildProcess[] = [];
afterAll(async () => {
  // Workers run in their own process groups (with their sandboxed children); redis-server last.
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) kill(c, "SIGKILL");
  await Promise.all(children.map((c) => exited(c, 5000)));
  rmSync(dir, { recursive: true, force: true });
});

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(child.spawnargs[0] === "redis-server" ? child.pid! : -child.pid!, signal);
  } catch {
    // already gone
  }
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Whether a process has ended (a zombie nobody reaped yet counts as ended). Linux: reads /proc. */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return /^\S+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return true;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A throw-away redis-server on loopback: no persistence, its files in a temp folder, stopped by afterAll. */
async function startRedis(): Promise<URL> {
  const port = await freePort();
  const data = mkdtempSync(join(dir, "redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", data];
  const redis = spawn("redis-server", args, { stdio: "ignore" });
  children.push(redis);
  const url = parseQueueUrl(`redis://127.0.0.1:${port}/0`);
  await until("redis-server to answer", 10_000, () => checkRedis(url, 500).then(() => true, () => undefined));
  return url;
}

/** A `bench worker` process with its output lines collected; detached, so a kill of its group takes its children. */
function startWorker(url: URL, out: string, backend: string): { child: ChildProcess; lines: string[] } {
  const args = [main, "worker", "--queue", url.href, "--out", out, "--backend", backend, "--lock-seconds", "4"];
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", "ignore", "pipe"] });
  children.push(child);
  const lines: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (l) => lines.push(l));
  return { child, lines };
}

/** The rows kept: both pre-trained rows, a baseline fine-tune and one SelMix fine-tune. */
const ROWS = new Set(["erm", "la", "la+uniform", "la+selmix:min-recall"]);

/**
 * The quick profile's supervised jobs, shrunk like the smoke test, but with 200 pre-training steps validated (and
 * checkpointed) every 20, so that a worker can be killed while a `last.ckpt` exists.
 */
const shrink = (jobs: Job[]): Job[] =>
  shrinkJobs(jobs, { split: { n1: 500, rho: 10, valPerClass: 50 }, pretrainSteps: 200, evalEvery: 20, finetuneSteps: 40, refreshEvery: 20, rows: ROWS });

/** Timing, provenance and run-record fields: everything else must be equal. */
const EXCLUDED = new Set(["command", "date", "wallSeconds", "computeSeconds", "workers", "runs", "seconds", "cached", "finishedAt", "ranBy"]);

function withoutExcluded(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutExcluded);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !EXCLUDED.has(k)).map(([k, v]) => [k, withoutExcluded(v)]));
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, "utf8"));

describe.skipIf(!hasRedis)("bench jobs on a Redis queue (BullMQ), two worker processes", () => {
  it("gives the in-process table after a worker is killed mid-job; fails a coded error once; refuses other splits", async () => {
    expect(existsSync(main), `${main} is missing: build @selmix/bench first`).toBe(true);
    const base = { table: "supervised", profile: "quick", sources: ["mnist"], workers: 0, command: "test", transformJobs: shrink, log: () => {} } as const;
    const local = join(dir, "local");
    await runTable({ ...base, out: local });
    const backend = activeBackend()!;

    const url = await startRedis();
    const out = join(dir, "queue");
    const a = startWorker(url, out, backend);
    const b = startWorker(url, out, backend);
    const log: string[] = [];
    const table = runTable({ ...base, out, queue: url, log: (m) => log.push(m) });
    table.catch(() => {}); // awaited below

    // The worker that takes the LA job (pre-training, then two fine-tuned rows) is killed with SIGKILL once the job
    // is mid-way: during pre-training with a last.ckpt on disk, or, if pre-training was too quick to catch, during
    // the fine-tunes. Its training child must stop by itself, and the other worker has to finish the job.
    const preLine = /^ {2}(\S+-la-\S+): pre-training .* \(([0-9a-f]{12})\)$/;
    const [victim, survivor, killedJob, hash] = await until("a worker to start pre-training the LA job", 60_000, () => {
      for (const [w, other] of [[a, b], [b, a]] as const) {
        const m = w.lines.map((l) => preLine.exec(l)).find((x) => x !== null);
        if (m) return [w, other, m[1]!, m[2]!] as const;
      }
      return undefined;
    });
    const cache = join(out, "cache");
    const when = await until("the LA job mid-way", 60_000, () => {
      const run = existsSync(cache) ? readdirSync(cache).find((f) => f.startsWith(`pretrain-${hash}`) && f.endsWith(".run")) : undefined;
      if (run !== undefined && existsSync(join(cache, run, "last.ckpt"))) return "pre-training, last.ckpt written";
      if (victim.lines.some((l) => l.startsWith(`  ${killedJob}: `) && l.includes(": validation "))) return "fine-tuning";
      return undefined;
    });
    const trainer = Number(victim.lines.map((l) => new RegExp(`^ {2}${killedJob}: running on \\S+ pid (\\d+) `).exec(l)?.[1]).find((p) => p !== undefined));
    expect(trainer).toBeGreaterThan(0);
    process.kill(victim.child.pid!, "SIGKILL");
    expect(await exited(victim.child, 5000)).toBe(true);
    await until(`the killed worker's training child ${trainer} to stop`, 10_000, () => (gone(trainer) ? true : undefined));
    console.log(`killed worker pid ${victim.child.pid} with job ${killedJob} during ${when}`);

    const doc = await table;
    expect(doc.failed).toEqual([]);
    expect(log.some((l) => l.includes(`${killedJob}: its worker stopped answering`))).toBe(true);

    // Same table and job results as in-process, except timing and provenance.
    expect(withoutExcluded(readJson(join(out, "quick", "supervised.json")))).toEqual(withoutExcluded(readJson(join(local, "quick", "supervised.json"))));
    const jobs = readdirSync(join(local, "quick", "supervised", "jobs"));
    expect(readdirSync(join(out, "quick", "supervised", "jobs")).sort()).toEqual(jobs.sort());
    for (const f of jobs) {
      expect(withoutExcluded(readJson(join(out, "quick", "supervised", "jobs", f)))).toEqual(withoutExcluded(readJson(join(local, "quick", "supervised", "jobs", f))));
    }
    // Nothing lost, nothing run twice: each job written once, finished by a live worker, and gone from Redis.
    for (const f of jobs) expect(log.filter((l) => l.startsWith(`  done ${f.replace(/\.json$/, "")} `))).toHaveLength(1);
    const killed = readJson(join(out, "quick", "supervised", "jobs", `${killedJob}.json`)) as JobResult;
    expect(killed.ranBy?.workerPid).toBe(survivor.child.pid);
    expect(killed.ranBy?.backend).toBe(backend);
    const queue = new Queue(QUEUE_NAME, { connection: queueConnection(url) });
    try {
      expect(await queue.getJobCountByTypes("wait", "active", "delayed", "completed", "failed")).toBe(0);

      // A coded SelmixError fails the table with its code and message, after one attempt.
      const broken = (jobs: Job[]): Job[] => {
        const j = shrink(jobs)[0]!;
        return [{ ...j, id: `${j.id}-broken`, pretrain: { ...j.pretrain, config: { ...j.pretrain.config, lr: -1 } } } as Job];
      };
      const error = await runTable({ ...base, out, queue: url, transformJobs: broken }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isSelmixError(error, "INVALID_VALUE")).toBe(true);
      expect((error as Error).message).toMatch(/^job \S+-broken failed: lr must be > 0, got -1$/);
      // ... which the command prints as its one line.
      const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
      const exitCode = process.exitCode;
      await action(() => Promise.reject(error))();
      process.exitCode = exitCode;
      expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual([`bench: INVALID_VALUE: ${(error as Error).message}\n`]);
      stderr.mockRestore();
      const failed = await queue.getFailed();
      expect(failed.map((j) => [j.id?.endsWith("-broken"), j.attemptsMade])).toEqual([[true, 1]]);
      await until("the worker to log the failure", 10_000, () => (survivor.lines.some((l) => l.startsWith("FAILED ")) ? true : undefined));
      expect(survivor.lines.filter((l) => l.startsWith("FAILED "))).toHaveLength(1);
      expect(existsSync(jobResultPath(out, failed[0]!.data.job as Job))).toBe(false);

      // A re-run retries the failed job (with fresh attempts), which fails the same way, once more.
      const retryLog: string[] = [];
      const again = await runTable({ ...base, out, queue: url, transformJobs: broken, log: (m) => retryLog.push(m) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect([isSelmixError(again, "INVALID_VALUE"), (again as Error).message]).toEqual([true, (error as Error).message]);
      expect(retryLog.some((l) => /-broken: failed before \(INVALID_VALUE: lr must be > 0, got -1\); retrying$/.test(l))).toBe(true);
      expect((await queue.getFailed()).map((j) => j.attemptsMade)).toEqual([1]);

      // A result drawn from other splits (another machine's data or code) is refused and dropped from Redis. The
      // live worker stops first; a BullMQ worker in this process plays the odd machine.
      kill(survivor.child, "SIGTERM");
      expect(await exited(survivor.child, 30_000)).toBe(true);
      const real = readJson(join(out, "quick", "supervised", "jobs", `${killedJob}.json`)) as JobResult;
      const odd = new Worker<{ job: Job }, JobResult>(QUEUE_NAME, async (j) => ({ ...real, job: j.data.job, manifestId: "0".repeat(64) }), { connection: queueConnection(url) });
      try {
        const other = (jobs: Job[]): Job[] => shrink(jobs).slice(0, 1).map((j) => ({ ...j, id: `${j.id}-odd` }));
        const refused = await runTable({ ...base, out, queue: url, transformJobs: other }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isSelmixError(refused, "MISMATCH")).toBe(true);
        expect((refused as Error).message).toMatch(/^job \S+-odd: \S+ pid \d+ drew other splits \(manifest 0{64}, here [0-9a-f]{64}\): other data files or another commit there$/);
        expect(await queue.getJobCountByTypes("wait", "active", "completed")).toBe(0);
      } finally {
        await odd.close();
      }
    } finally {
      await queue.close();
    }
  }, 180_000);

  it("rejects a --queue that is not a Redis URL, and an unreachable Redis, in one line", async () => {
    const bad = spawnSync(process.execPath, [main, "worker", "--queue", "http://127.0.0.1:1/0"], { encoding: "utf8", timeout: 30_000 });
    expect([bad.status, bad.stderr]).toEqual([1, "bench: INVALID_ARGUMENT: --queue http://127.0.0.1:1/0: expected redis://HOST:PORT/DB or rediss://, got http:\n"]);
    const port = await freePort();
    const down = spawnSync(process.execPath, [main, "supervised", "--queue", `redis://127.0.0.1:${port}/0`, "--out", join(dir, "down")], { encoding: "utf8", timeout: 60_000 });
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`^bench: NOT_FOUND: --queue redis://127.0.0.1:${port}/0: no Redis answers there \\([^\\n]*\\)\\n$`));
  });
});

describe("queue helpers", () => {
  it("accepts redis:// and rediss:// URLs with a database number, and hides the password", () => {
    expect(parseQueueUrl("redis://10.0.0.5:6379/2").port).toBe("6379");
    expect(redactedQueueUrl(parseQueueUrl("rediss://:secret@host:6380/0"))).toBe("rediss://:***@host:6380/0");
    expect(() => parseQueueUrl("redis://host/x")).toThrow(/the path must be a database number/);
    expect(() => parseQueueUrl("host:6379")).toThrow(/expected redis:\/\/HOST:PORT\/DB/);
  });

  it("splits a failed job's reason into code and message", () => {
    expect(parseFailedReason("INVALID_VALUE: lr must be > 0, got -1")).toEqual({ code: "INVALID_VALUE", message: "lr must be > 0, got -1" });
    expect(parseFailedReason("job stalled more than allowable limit")).toEqual({ code: "INTERNAL_ERROR", message: "job stalled more than allowable limit" });
  });
});
