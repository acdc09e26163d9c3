import { describe, expect, it } from "vitest";
import { chooseSplit } from "./core-split.ts";
import { buildJobs, withGradientWorkers } from "./jobs.ts";
import { profileSettings } from "./profiles.ts";
import type { Job } from "./types.ts";

const quickJobs = buildJobs({ table: "supervised", settings: profileSettings("quick"), seeds: 1, sources: ["mnist"] });
const asCnn = (j: Job): Job => ({ ...j, model: "cnn" });

describe("chooseSplit", () => {
  it("one job per core when there are enough jobs, gradient workers when cores would idle", () => {
    const cnn = quickJobs.map(asCnn);
    expect(chooseSplit(2, [cnn[0]!, cnn[0]!, cnn[0]!, cnn[0]!])).toMatchObject({ processes: 2, gradientWorkers: 1 });
    expect(chooseSplit(2, [cnn[0]!])).toMatchObject({ processes: 1, gradientWorkers: 2 });
    // 3 jobs on 2 cores: 2 rounds of 1 job-length, or 3 rounds at 1.7x
    expect(chooseSplit(2, [cnn[0]!, cnn[0]!, cnn[0]!])).toMatchObject({ processes: 1, gradientWorkers: 2 });
    expect(chooseSplit(4, [cnn[0]!, cnn[0]!])).toMatchObject({ processes: 2, gradientWorkers: 2 });
  });

  it("jobs on tfjs-node never get gradient workers", () => {
    const cnn = quickJobs.map(asCnn);
    expect(chooseSplit(2, [cnn[0]!], "tensorflow")).toMatchObject({ processes: 1, gradientWorkers: 1 });
  });

  it("MLP jobs never get gradient workers", () => {
    const mlp = quickJobs.map((j) => ({ ...j, model: "mlp" as const }));
    const split = chooseSplit(2, [mlp[0]!]);
    expect(split).toMatchObject({ processes: 1, gradientWorkers: 1 });
    expect(split.reason).toMatch(/1 job process x 1 gradient worker for 1 jobs on 2 cores/);
    expect(withGradientWorkers(mlp[0]!, 2)).toBe(mlp[0]);
  });

  it("--gradient-workers fixes the workers per job whatever the job count (a resumed table keeps its job ids)", () => {
    const cnn = quickJobs.map(asCnn);
    expect(chooseSplit(2, [cnn[0]!, cnn[0]!, cnn[0]!], "wasm", 1)).toMatchObject({ processes: 2, gradientWorkers: 1 });
    expect(chooseSplit(2, [cnn[0]!, cnn[0]!], "wasm", 2)).toMatchObject({ processes: 1, gradientWorkers: 2, reason: expect.stringMatching(/\(--gradient-workers\)$/) });
  });
});

describe("withGradientWorkers", () => {
  it("sets the workers of the pre-training and the full-network candidates, and changes the job id", () => {
    const base = asCnn(quickJobs.find((j) => j.rows.some((r) => r.candidates !== undefined))!);
    const headOnly = base.rows.find((r) => r.candidates !== undefined)!.candidates![0]!;
    const job = { ...base, rows: [...base.rows, { id: "full", label: "full", candidates: [{ ...headOnly, mode: "full" as const }, headOnly] }] };
    const two = withGradientWorkers(job, 2);
    expect(two.id).not.toBe(job.id);
    expect(two.pretrain.config.workers).toBe(2);
    const candidates = two.rows.flatMap((r) => r.candidates ?? []);
    expect(candidates.filter((c) => c.mode === "full").every((c) => c.workers === 2)).toBe(true);
    expect(candidates.filter((c) => c.mode === "head-only").every((c) => c.workers === undefined)).toBe(true);
    expect(withGradientWorkers(job, 1)).toBe(job);
  });
});
