import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createModel, initBackend } from "@selmix/models";
import { DEFAULT_FIXMATCH_CONFIG, DEFAULT_PRETRAIN_CONFIG, type FixMatchConfig } from "@selmix/trainers";
import { afterAll, beforeAll, expect, test } from "vitest";
import { pretrainCached, pretrainDataId } from "./pretrain-cache.ts";
import { jobSplits } from "./run-job.ts";
import type { Job } from "./types.ts";

const cache = mkdtempSync(join(tmpdir(), "selmix-bench-cache-"));
afterAll(() => rmSync(cache, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ name: "wasm" });
});

const warmStart = { ...DEFAULT_PRETRAIN_CONFIG, method: "la" as const, steps: 10, evalEvery: 10 };
const job: Job = {
  id: "warm",
  table: "semi-supervised",
  profile: "quick",
  dataset: { id: "mnist-tiny", label: "tiny", source: "mnist", profile: "semi-supervised", options: { n1: 50, rho: 10, m1: 100, rhoU: 10, valPerClass: 10 } },
  seed: 0,
  model: "mlp",
  pretrain: { kind: "fixmatch", config: { ...DEFAULT_FIXMATCH_CONFIG, steps: 5, evalEvery: 5, batchSize: 16, mu: 1, padding: 0 }, warmStart },
  rows: [{ id: "fixmatch-la", label: "FixMatch-LA" }],
};

test("a warm-started FixMatch job trains (and caches) its labelled-only start first, and reuses it", async () => {
  const splits = await jobSplits(job);
  const fresh = () => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const model = fresh();
  const logs: string[] = [];
  const first = await pretrainCached(job, splits, model, cache, (m) => logs.push(m));
  model.dispose();
  expect(first.cached).toBe(false);
  expect(logs).toEqual([expect.stringMatching(/^pre-training la 10 steps/), expect.stringMatching(/^pre-training fixmatch-la 5 steps/)]);
  expect(readdirSync(cache).filter((f) => f.endsWith(".ckpt"))).toHaveLength(2); // the start and the FixMatch model
  // The LA (labelled only) job of the same table finds the start in the cache.
  const la: Job = { ...job, id: "la", pretrain: { kind: "supervised", config: warmStart }, rows: [{ id: "la-labelled", label: "LA (labelled only)" }] };
  const again = fresh();
  const start = await pretrainCached(la, splits, again, cache, (m) => logs.push(m));
  again.dispose();
  expect(start.cached).toBe(true);
  expect(first.seconds).toBeGreaterThanOrEqual(start.seconds); // the warm start's time is part of FixMatch's
});

test("two processes needing one entry: the second waits for the lock and loads what the first trained", async () => {
  const splits = await jobSplits(job);
  const la: Job = { ...job, id: "la-twice", pretrain: { kind: "supervised", config: { ...warmStart, seed: 7 } }, rows: [{ id: "la-labelled", label: "LA (labelled only)" }] };
  const logs: string[] = [];
  const models = [0, 1].map(() => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 }));
  const [a, b] = await Promise.all(models.map((m) => pretrainCached(la, splits, m, cache, (line) => logs.push(line))));
  for (const m of models) m.dispose();
  expect([a!.cached, b!.cached].sort()).toEqual([false, true]);
  expect(logs.filter((l) => l.startsWith("pre-training"))).toHaveLength(1);
  expect(logs.some((l) => l.startsWith("waiting for another bench process"))).toBe(true);
  expect(readdirSync(cache).some((f) => f.endsWith(".lock"))).toBe(false);
});

test("the labelled-only runs of one seed share their data id across unlabelled settings; FixMatch runs do not", async () => {
  const la: Job = { ...job, id: "la", pretrain: { kind: "supervised", config: warmStart } };
  const inverted = { ...job.dataset, id: "mnist-tiny-inverted", options: { ...job.dataset.options, m1: 2, rhoU: 0.1 } };
  const [a, b] = await Promise.all([jobSplits(la), jobSplits({ ...la, dataset: inverted })]);
  expect(a.manifest.id).not.toBe(b.manifest.id);
  expect(pretrainDataId(la, a.manifest)).toBe(pretrainDataId(la, b.manifest));
  expect(pretrainDataId(job, a.manifest)).toBe(a.manifest.id);
  expect(pretrainDataId(job, b.manifest)).not.toBe(pretrainDataId(job, a.manifest));
  const otherSeed = await jobSplits({ ...la, seed: 1 });
  expect(pretrainDataId(la, otherSeed.manifest)).not.toBe(pretrainDataId(la, a.manifest));
  const supervisedTable: Job = { ...la, table: "supervised" };
  expect(pretrainDataId(supervisedTable, a.manifest)).toBe(a.manifest.id); // the supervised tables' cache keys are unchanged
  // trained for one setting, found in the cache for the other
  const trained = { ...la, pretrain: { kind: "supervised" as const, config: { ...warmStart, seed: 3 } } };
  const models = [0, 1].map(() => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 }));
  const first = await pretrainCached(trained, a, models[0]!, cache, () => {});
  const second = await pretrainCached({ ...trained, dataset: inverted }, b, models[1]!, cache, () => {});
  for (const m of models) m.dispose();
  expect([first.cached, second.cached, second.hash]).toEqual([false, true, first.hash]);
});

test("a FixMatch start with alternatives trains each as its own entry and keeps the best on validation", async () => {
  const splits = await jobSplits(job);
  const base = { ...DEFAULT_FIXMATCH_CONFIG, steps: 5, evalEvery: 5, batchSize: 16, mu: 1, padding: 0, method: "fixmatch-la" as const, unlabeledPrior: "estimated" as const, seed: 5 };
  const alternatives: FixMatchConfig[] = [
    { ...base, unlabeledPrior: "uniform" },
    { ...base, unlabeledPrior: "uniform", distributionAlignment: true },
  ];
  const withAlternatives: Job = { ...job, id: "alternatives", pretrain: { kind: "fixmatch", config: base, warmStart, alternatives } };
  const logs: string[] = [];
  const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const chosen = await pretrainCached(withAlternatives, splits, model, cache, (m) => logs.push(m));
  const choice = chosen.choice!;
  expect(choice.candidates.map(({ validation: _, ...variant }) => variant)).toEqual([
    { unlabeledPrior: "estimated" },
    { unlabeledPrior: "uniform" },
    { unlabeledPrior: "uniform", distributionAlignment: true },
  ]);
  const scores = choice.candidates.map((c) => c.validation);
  expect(scores[choice.chosen]).toBe(Math.max(...scores));
  // The model left behind is the chosen candidate, which is also what each single-config job finds in the cache.
  const single: Job = { ...withAlternatives, pretrain: { kind: "fixmatch", config: [base, ...alternatives][choice.chosen]!, warmStart } };
  const again = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const alone = await pretrainCached(single, splits, again, cache, () => {});
  expect([alone.cached, alone.hash]).toEqual([true, chosen.hash]);
  const weights = (m: typeof model): number[] => m.getWeights().flatMap((w) => Array.from(w.values));
  expect(weights(model)).toEqual(weights(again));
  model.dispose();
  again.dispose();
  expect(logs.filter((l) => l.startsWith("FixMatch candidate"))).toHaveLength(3);
});
