import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManifest, type Dataset, loadSource, resolveProfile, type Splits, splitsFromManifest, type Subset } from "@selmix/datasets";
import { createModel, initBackend, type Model, type NamedArray } from "@selmix/models";
import type { PairBatch } from "@selmix/samplers";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { predict } from "./evaluate.ts";
import { defaultFinetuneConfig, type FinetuneConfig, type FinetuneIo, type FinetuneResult, finetune, partnerAugment } from "./finetune.ts";
import { DEFAULT_PRETRAIN_CONFIG, pretrain } from "./pretrain.ts";

let data: Splits;
let start: NamedArray[];
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "selmix-ssl-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const mlp = (): Model => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
const sameWeights = (a: readonly NamedArray[], b: readonly NamedArray[]): boolean =>
  a.length === b.length && a.every((w, i) => w.name === b[i]!.name && w.values.every((v, j) => Object.is(v, b[i]!.values[j])));
const full: FinetuneConfig = { ...defaultFinetuneConfig("min-recall", "full"), steps: 20, refreshEvery: 10, batchSize: 32, lr: 0.01 };
const headOnly: FinetuneConfig = {
  ...defaultFinetuneConfig("min-recall", "head-only"),
  steps: 60,
  refreshEvery: 20,
  batchSize: 32,
  lr: 0.01,
  temperatureScale: "spread",
  temperature: 0.5,
};

async function run(unlabeled: Subset, config: FinetuneConfig, io: FinetuneIo = {}): Promise<{ result: FinetuneResult; weights: NamedArray[] }> {
  const model = mlp();
  model.setWeights(start);
  const result = await finetune(model, { labeled: data.labeled, validation: data.validation, unlabeled }, config, io);
  const weights = model.getWeights();
  model.dispose();
  return { result, weights };
}

/** The unlabelled pool with its labels behind a proxy that only answers `length` (indexing them throws). */
function indexingThrows(d: Dataset): Subset["dataset"] {
  const labels = new Proxy(d.labels, {
    get(target, prop) {
      if (prop === "length") return target.length;
      throw new Error(`the true labels of unlabelled data were read (labels.${String(prop)})`);
    },
  });
  return { ...d, labels };
}

beforeAll(async () => {
  await initBackend({ name: "wasm" });
  const source = await loadSource("mnist");
  // Semi-supervised long tail, scaled down: ~380 labelled, ~760 unlabelled, 300 validation images.
  const params = resolveProfile("semi-supervised", { n1: 100, rhoL: 10, m1: 200, rhoU: 10, valPerClass: 30 });
  data = splitsFromManifest(source, createManifest(source, params, 0));
  const model = mlp();
  await pretrain(model, data.labeled, data.validation, { ...DEFAULT_PRETRAIN_CONFIG, steps: 60, evalEvery: 60 });
  start = model.getWeights();
  model.dispose();
});

describe("SelMix semi-supervised: the true labels of unlabelled data are never read", () => {
  const poisoned = (): Subset => ({
    dataset: { ...data.unlabeled.dataset, labels: Int32Array.from(data.unlabeled.dataset.labels, (y, i) => (y + 1 + (i % 7)) % 10) },
    indices: data.unlabeled.indices,
  });
  const throwing = (): Subset => ({ dataset: indexingThrows(data.unlabeled.dataset), indices: data.unlabeled.indices });

  for (const [mode, config] of [
    ["full", full],
    ["head-only", headOnly],
    ["full, x1 from labelled + unlabelled", { ...full, firstPool: "labeled+unlabeled" }],
    ["head-only, x1 from labelled + unlabelled", { ...headOnly, firstPool: "labeled+unlabeled" }],
  ] as const) {
    test(`${mode}: poisoned or unreadable labels give the identical run`, async () => {
      const base = await run(data.unlabeled, config);
      expect(base.result.completed).toBe(true);
      expect(() => throwing().dataset.labels[0]).toThrow(/never|were read/); // the trap is live
      for (const unlabeled of [throwing(), poisoned()]) {
        const other = await run(unlabeled, config);
        expect(sameWeights(other.weights, base.weights)).toBe(true);
        expect(other.result.diagnostics).toEqual(base.result.diagnostics);
        expect(other.result.selectedStep).toBe(base.result.selectedStep);
      }
    });
  }
});

describe("SelMix semi-supervised: partners by pseudo-label", () => {
  test.each([
    ["weak", "labeled"],
    ["plain", "labeled"],
    ["weak", "labeled+unlabeled"],
  ] as const)("partners are unlabelled-pool rows whose class is the current model's prediction (%s view, x1 from %s), refreshed at every refresh", async (view, firstPool) => {
    const model = mlp();
    model.setWeights(start);
    const batches: { step: number; pairs: PairBatch }[] = [];
    const atRefresh = new Map<number, NamedArray[]>();
    const config: FinetuneConfig = { ...full, partnerView: view, flip: true, firstPool };
    await finetune(model, { labeled: data.labeled, validation: data.validation, unlabeled: data.unlabeled }, config, {
      onPairs: (step, pairs) => {
        // full mode: the refresh has just run on exactly these live weights
        if (step % full.refreshEvery === 0) atRefresh.set(step, model.getWeights());
        batches.push({ step, pairs });
      },
    });
    model.dispose();
    expect([...atRefresh.keys()]).toEqual([0, 10]);
    const u = data.unlabeled.indices.length;
    const labeledRows = data.labeled.indices.length;
    const trueLabel = (row: number): number => data.unlabeled.dataset.labels[data.unlabeled.indices[row]!]!;
    let differFromTruth = 0;
    let viewChanged = 0;
    let firstFromPool = 0;
    const pseudoByRefresh: Int32Array[] = [];
    for (const [refreshStep, weights] of atRefresh) {
      const m = mlp();
      m.setWeights(weights);
      const { predicted } = await predict(m, data.unlabeled.dataset, data.unlabeled.indices, { augment: partnerAugment(config) });
      const plain = (await predict(m, data.unlabeled.dataset, data.unlabeled.indices)).predicted;
      viewChanged += predicted.filter((c, i) => c !== plain[i]).length;
      m.dispose();
      pseudoByRefresh.push(predicted);
      const window = batches.filter((b) => b.step >= refreshStep && b.step < refreshStep + full.refreshEvery);
      expect(window).toHaveLength(full.refreshEvery);
      for (const { pairs } of window) {
        for (let b = 0; b < pairs.partner.length; b++) {
          const row = pairs.partner[b]!;
          expect(row >= 0 && row < u).toBe(true);
          expect(pairs.partnerClass[b]).toBe(predicted[row]);
          if (trueLabel(row) !== predicted[row]) differFromTruth++;
          const first = pairs.first[b]!;
          if (first >= labeledRows) {
            // x1 from the unlabelled pool: under the same pseudo-label as the partners, never its true label
            expect(firstPool).toBe("labeled+unlabeled");
            expect(first < labeledRows + u).toBe(true);
            expect(pairs.firstClass[b]).toBe(predicted[first - labeledRows]);
            firstFromPool++;
          } else {
            expect(first >= 0).toBe(true);
            expect(pairs.firstClass[b]).toBe(data.labeled.dataset.labels[data.labeled.indices[first]!]);
          }
        }
      }
    }
    // The partner classes are pseudo-labels, not the truth: some of them are wrong, and they moved between refreshes.
    expect(differFromTruth).toBeGreaterThan(0);
    // the pool outnumbers the labelled split: most x1 come from it when it may
    if (firstPool === "labeled+unlabeled") expect(firstFromPool).toBeGreaterThan(0);
    if (view === "weak") expect(viewChanged).toBeGreaterThan(0); // the weak view (flips, crops) is not the image
    else expect(viewChanged).toBe(0);
    expect(sameWeights(atRefresh.get(0)!, atRefresh.get(10)!)).toBe(false);
    expect(pseudoByRefresh[0]!.some((c, i) => c !== pseudoByRefresh[1]![i])).toBe(true);
  });

  test.each(["labeled", "labeled+unlabeled"] as const)("a semi-supervised fine-tune (x1 from %s) killed mid-way resumes with the same weights and diagnostics", async (firstPool) => {
    const config: FinetuneConfig = { ...full, refreshEvery: 5, firstPool };
    const a = tempDir();
    const uninterrupted = await run(data.unlabeled, config, { checkpointDir: a, diagnosticsPath: join(a, "diag.jsonl") });
    const b = tempDir();
    const io = { checkpointDir: b, diagnosticsPath: join(b, "diag.jsonl") };
    const stopped = await run(data.unlabeled, config, { ...io, stopAfterStep: 12 });
    expect(stopped.result.completed).toBe(false);
    const resumed = await run(data.unlabeled, config, io);
    expect(resumed.result.completed).toBe(true);
    expect(sameWeights(resumed.weights, uninterrupted.weights)).toBe(true);
    expect(resumed.result.diagnostics).toEqual(uninterrupted.result.diagnostics);
    expect(resumed.result.selectedStep).toBe(uninterrupted.result.selectedStep);
  });
});
