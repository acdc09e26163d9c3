import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend } from "@selmix/models";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildJobs } from "./jobs.ts";
import { profileSettings } from "./profiles.ts";
import { rowProgress } from "./row-progress.ts";
import { runJob } from "./run-job.ts";
import { shrinkJobs } from "./testing/shrink-jobs.ts";
import type { Job, RowResult } from "./types.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-rows-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ name: "wasm" });
});

class Killed extends Error {}

/** The quick profile's LA job on a small MNIST-LT split, 40 steps everywhere: SelMix rows and rows that start from them. */
function smallLaJob(): Job {
  const jobs = buildJobs({ table: "supervised", settings: profileSettings("quick"), seeds: 1, sources: ["mnist"] });
  const small = shrinkJobs(jobs, { split: { n1: 400, rho: 10, valPerClass: 40 }, pretrainSteps: 40, finetuneSteps: 40, refreshEvery: 20 });
  return small.find((j) => j.pretrain.config.method === "la")!;
}

/** A row's numbers and choices; time and the cache flag differ between runs. */
const numbers = ({ seconds: _s, cached: _c, ...rest }: RowResult): Omit<RowResult, "seconds" | "cached"> => rest;

describe("a bench job killed between rows", () => {
  it("resumes at its first unfinished row, with the numbers of an uninterrupted run", async () => {
    const job = smallLaJob();
    const cacheDir = join(dir, "cache");
    const reference = await runJob(job, { cacheDir, rowsDir: join(dir, "reference-rows") });
    const rowsDir = join(dir, "rows");
    // killed in the first resampling row: the SelMix rows that the SelMix + post-hoc rows start from are done
    const killAt = job.rows.findIndex((r) => r.id.startsWith("la+resampling:"));
    expect(killAt).toBeGreaterThan(0);
    expect(job.rows.slice(killAt).some((r) => r.from !== undefined)).toBe(true);
    await expect(
      runJob(job, {
        cacheDir,
        rowsDir,
        log: (m) => {
          if (m.startsWith(job.rows[killAt]!.id)) throw new Killed();
        },
      }),
    ).rejects.toBeInstanceOf(Killed);
    expect(readdirSync(rowsDir).filter((f) => f.endsWith(".json"))).toHaveLength(killAt);
    const resumedLog: string[] = [];
    const resumed = await runJob(job, { cacheDir, rowsDir, log: (m) => resumedLog.push(m) });
    expect(resumedLog.filter((m) => m.includes("finished before this run"))).toHaveLength(killAt);
    expect(resumed.rows.map(numbers)).toEqual(reference.rows.map(numbers));
    rowProgress(rowsDir).clear();
    expect(existsSync(rowsDir)).toBe(false);
  });
});
