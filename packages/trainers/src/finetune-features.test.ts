import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRng } from "@selmix/core";
import { confusionFromPredictions, createObjective, evaluateMetrics, type MetricReport } from "@selmix/metrics";
import { createModel, initBackend } from "@selmix/models";
import { describe, expect, test } from "vitest";
import { smallMnist } from "../test/mnist-small.ts";
import { predict } from "./evaluate.ts";
import { defaultFinetuneConfig, type FinetuneConfig, finetune } from "./finetune.ts";
import { type FeatureData, finetuneFeatures, type HeadParameters } from "./finetune-features.ts";
import { initialLoopState, runFinetuneLoop } from "./finetune-loop.ts";
import { arrayHeadLearner } from "./head-learner.ts";
import { headPredict } from "./linear-head.ts";

const K = 5;
const D = 8;
const LABELED_COUNTS = [300, 150, 60, 25, 10];

/** Gaussian class clusters: mean 3·e_c (plus a shared offset), unit noise; rows in a fixed seeded order. */
function clusters(counts: readonly number[], seed: number): { features: Float32Array; labels: Int32Array } {
  const rng = createRng(seed);
  const labels = Int32Array.from(counts.flatMap((n, c) => Array.from({ length: n }, () => c)));
  const features = new Float32Array(labels.length * D);
  labels.forEach((c, s) => {
    for (let t = 0; t < D; t++) features[s * D + t] = (t === c ? 3 : 0) + 0.5 + rng.normal();
  });
  return { features, labels };
}

const data: FeatureData = {
  numClasses: K,
  dim: D,
  labeled: clusters(LABELED_COUNTS, 1),
  validation: clusters(Array(K).fill(60), 2),
};
const test_ = clusters(Array(K).fill(200), 3);

/** The prototype classifier with a strong log-prior bias: it under-predicts the tail classes. */
function biasedHead(): HeadParameters {
  const weight = new Float32Array(K * D);
  const bias = new Float32Array(K);
  const total = LABELED_COUNTS.reduce((a, b) => a + b, 0);
  for (let c = 0; c < K; c++) {
    const mean = Array.from({ length: D }, (_, t) => (t === c ? 3 : 0) + 0.5);
    mean.forEach((m, t) => {
      weight[c * D + t] = m;
    });
    bias[c] = -0.5 * mean.reduce((a, m) => a + m * m, 0) + 3 * Math.log(LABELED_COUNTS[c]! / total);
  }
  return { weight, bias };
}

function metricsOf(head: HeadParameters, split: { features: Float32Array; labels: Int32Array }): MetricReport {
  const linear = { numClasses: K, dim: D, weight: Float64Array.from(head.weight), bias: Float64Array.from(head.bias) };
  return evaluateMetrics(confusionFromPredictions(split.labels, headPredict(linear, split.features).predicted, K));
}

const config: FinetuneConfig = {
  ...defaultFinetuneConfig("min-recall", "head-only"),
  steps: 600,
  refreshEvery: 50,
  lr: 0.05,
  temperature: 0.5,
  temperatureScale: "spread",
};

describe("finetuneFeatures", () => {
  test("min-recall fine-tuning raises the validation (and test) min recall of a tail-starved head", async () => {
    const start = biasedHead();
    const before = metricsOf(start, data.validation);
    const { head, result } = await finetuneFeatures(data, start, config);
    const after = metricsOf(head, data.validation);
    expect(before.minRecall).toBeLessThan(0.5);
    expect(after.minRecall).toBeGreaterThan(before.minRecall + 0.2);
    expect(metricsOf(head, test_).minRecall).toBeGreaterThan(metricsOf(start, test_).minRecall + 0.2);
    expect(result.selectedObjective).toBeCloseTo(after.minRecall, 12); // the returned head is the selected one
    expect(result.diagnostics[0]!.objective).toBeCloseTo(before.minRecall, 12);
    expect(result.completed).toBe(true);
    expect(result.stepsRun).toBe(600);
    expect(Array.from(start.bias)).toEqual(Array.from(biasedHead().bias)); // the input head is untouched
  });

  test("deterministic: the same seed gives the identical head; another seed another head; one diagnostics line per refresh", async () => {
    const dir = mkdtempSync(join(tmpdir(), "selmix-features-"));
    const path = join(dir, "diagnostics.jsonl");
    const a = await finetuneFeatures(data, biasedHead(), config, { diagnosticsPath: path });
    const b = await finetuneFeatures(data, biasedHead(), config);
    const c = await finetuneFeatures(data, biasedHead(), { ...config, seed: 1 });
    expect(Array.from(b.head.weight)).toEqual(Array.from(a.head.weight));
    expect(Array.from(b.head.bias)).toEqual(Array.from(a.head.bias));
    expect(b.result.diagnostics).toEqual(a.result.diagnostics);
    expect(Array.from(c.head.weight)).not.toEqual(Array.from(a.head.weight));
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines).toHaveLength(13); // steps 0, 50, ..., 550 and the final weights at 600
    expect(lines.map((l) => JSON.parse(l).step)).toEqual(a.result.diagnostics.map((d) => d.step));
  });

  test("without selection the last head is returned; an unlabelled pool supplies the partners", async () => {
    const last = await finetuneFeatures(data, biasedHead(), { ...config, selectBest: false, steps: 100 });
    expect(last.result.selectedStep).toBe(100);
    expect(metricsOf(last.head, data.validation).minRecall).toBeCloseTo(last.result.diagnostics.at(-1)!.objective, 12);
    const unlabeled = { features: clusters(Array(K).fill(40), 4).features };
    let maxPartner = -1;
    let maxFirst = -1;
    await finetuneFeatures({ ...data, unlabeled }, biasedHead(), { ...config, steps: 100 }, {
      onPairs: (_, pairs) => {
        maxPartner = Math.max(maxPartner, ...pairs.partner);
        maxFirst = Math.max(maxFirst, ...pairs.first);
      },
    });
    expect(maxPartner).toBeLessThan(200);
    expect(maxFirst).toBeGreaterThan(200); // first rows index the labelled set (545 rows)
  });

  test("x1 from labelled + unlabelled: unlabelled rows follow the labelled ones, under the head's pseudo-labels", async () => {
    const unlabeled = { features: clusters(Array(K).fill(40), 4).features };
    const n = data.labeled.labels.length;
    let fromPool = 0;
    const start = biasedHead();
    await finetuneFeatures({ ...data, unlabeled }, start, { ...config, steps: 1, firstPool: "labeled+unlabeled" }, {
      onPairs: (_, pairs) => {
        const pseudo = headPredict({ numClasses: K, dim: D, weight: Float64Array.from(start.weight), bias: Float64Array.from(start.bias) }, unlabeled.features).predicted;
        pairs.first.forEach((r, b) => {
          expect(r).toBeLessThan(n + 200);
          if (r >= n) fromPool++;
          expect(pairs.firstClass[b]).toBe(r < n ? data.labeled.labels[r] : pseudo[r - n]);
        });
      },
    });
    expect(fromPool).toBeGreaterThan(0);
  });

  const withLabels = (split: "labeled" | "validation", labels: Int32Array): FeatureData => ({ ...data, [split]: { ...data[split], labels } });
  test.each<[string, () => [FeatureData, HeadParameters, FinetuneConfig], string, string]>([
    ["full mode", () => [data, biasedHead(), { ...config, mode: "full" }], "INVALID_ARGUMENT", "head-only"],
    ["steps 0", () => [data, biasedHead(), { ...config, steps: 0 }], "INVALID_VALUE", "steps"],
    ["one class", () => [{ ...data, numClasses: 1 }, biasedHead(), config], "INVALID_VALUE", "numClasses"],
    [
      "short labelled features",
      () => [{ ...data, labeled: { ...data.labeled, features: data.labeled.features.subarray(1) } }, biasedHead(), config],
      "INVALID_SHAPE",
      "labeled.features",
    ],
    ["empty validation", () => [withLabels("validation", new Int32Array(0)), biasedHead(), config], "INVALID_SHAPE", "validation is empty"],
    ["ragged unlabelled pool", () => [{ ...data, unlabeled: { features: new Float32Array(D + 1) } }, biasedHead(), config], "INVALID_SHAPE", "unlabeled.features"],
    ["x1 from an unlabelled pool that is absent", () => [data, biasedHead(), { ...config, firstPool: "labeled+unlabeled" }], "INVALID_ARGUMENT", "needs an unlabelled split"],
    ["an unknown first pool", () => [data, biasedHead(), { ...config, firstPool: "validation" as never }], "INVALID_ARGUMENT", 'unknown first pool "validation"'],
    ["head of another width", () => [data, { ...biasedHead(), weight: new Float32Array(K * (D + 1)) }, config], "INVALID_SHAPE", "head.weight"],
    ["bias of another length", () => [data, { ...biasedHead(), bias: new Float64Array(K + 1) }, config], "INVALID_SHAPE", "head.bias"],
    [
      "a validation label >= K",
      () => [withLabels("validation", data.validation.labels.map((y, j) => (j === 7 ? K : y))), biasedHead(), config],
      "INVALID_VALUE",
      "validation.labels[7] = 5",
    ],
    ["a negative label", () => [withLabels("labeled", data.labeled.labels.map((y, j) => (j === 0 ? -1 : y))), biasedHead(), config], "INVALID_VALUE", "labeled.labels[0]"],
    [
      "a class without validation samples",
      () => [withLabels("validation", data.validation.labels.map((y) => (y === 3 ? 2 : y))), biasedHead(), config],
      "EMPTY_CLASS",
      "class 3",
    ],
    [
      "a NaN feature",
      () => [{ ...data, validation: { ...data.validation, features: data.validation.features.map((v, j) => (j === 5 ? Number.NaN : v)) } }, biasedHead(), config],
      "INVALID_VALUE",
      "validation.features[5] is NaN",
    ],
  ])("%s → %s", async (_, inputs, code, mention) => {
    const [d, h, c] = inputs();
    await expect(finetuneFeatures(d, h, c)).rejects.toMatchObject({ code, message: expect.stringContaining(mention) });
  });

  test("resampling: the x1 classes SelMix's sampler draws at each refresh, with no mixup", async () => {
    const short = { ...config, steps: 100 };
    const classesOf = async (policy: FinetuneConfig["policy"]): Promise<{ first: number[][]; distributions: string[] }> => {
      const first: number[][] = [];
      const result = await finetuneFeatures(data, biasedHead(), { ...short, policy }, { onPairs: (step, pairs) => step % 50 === 0 && first.push(Array.from(pairs.firstClass)) });
      return { first, distributions: result.result.diagnostics.map((d) => JSON.stringify(d.topProbability)) };
    };
    const selmix = await classesOf("selmix");
    const resampling = await classesOf("resampling");
    // Same pair distribution and the same sampler at the first refresh: the same x1 classes in the first batch.
    expect(resampling.distributions[0]).toBe(selmix.distributions[0]);
    expect(resampling.first[0]).toEqual(selmix.first[0]);
    // The class marginal follows the gain: tail classes (small counts) are drawn far above their share of the data.
    const drawn = resampling.first.flat();
    const tailShare = drawn.filter((c) => c >= 3).length / drawn.length;
    expect(tailShare).toBeGreaterThan((25 + 10) / 545 + 0.2);

    // No mixup: every λ the learner receives is 1 (SelMix's are drawn from U(0.6, 1)).
    const lambdasOf = async (policy: FinetuneConfig["policy"]): Promise<number[]> => {
      const head = biasedHead();
      const linear = { numClasses: K, dim: D, weight: Float64Array.from(head.weight), bias: Float64Array.from(head.bias) };
      const learner = arrayHeadLearner(linear, { labeled: data.labeled.features, validation: data.validation.features, validationLabels: data.validation.labels }, 0);
      const seen: number[] = [];
      const step = (f: Int32Array, p: Int32Array, l: Float64Array, y: Int32Array, lr: number): Promise<number> => {
        seen.push(...l);
        return learner.step(f, p, l, y, lr);
      };
      const recording = { ...learner, step };
      const rng = createRng(0);
      await runFinetuneLoop(recording, { numClasses: K, dim: D, labeledLabels: data.labeled.labels }, { ...short, policy, steps: 20 }, createObjective("min-recall"), rng, initialLoopState(rng), []);
      return seen;
    };
    expect(new Set(await lambdasOf("resampling"))).toEqual(new Set([1]));
    const mixed = await lambdasOf("selmix");
    expect(Math.min(...mixed)).toBeGreaterThanOrEqual(0.6);
    expect(Math.max(...mixed)).toBeLessThan(1);
  });
});

describe("finetuneFeatures and finetune share the loop", () => {
  test("on a model's own features, finetuneFeatures gives bit for bit the head that head-only finetune writes", async () => {
    await initBackend({ name: "wasm" });
    const splits = await smallMnist();
    const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
    const featuresOf = async (s: typeof splits.labeled): Promise<{ features: Float32Array; labels: Int32Array }> => ({
      features: (await predict(model, s.dataset, s.indices, { withFeatures: true })).features!,
      labels: Int32Array.from(s.indices, (i) => s.dataset.labels[i]!),
    });
    const arrays: FeatureData = {
      numClasses: 10,
      dim: model.featureDim,
      labeled: await featuresOf(splits.labeled),
      validation: await featuresOf(splits.validation),
    };
    const start = model.headWeights();
    const same: FinetuneConfig = { ...config, steps: 200, lr: 0.01 };
    const fromArrays = await finetuneFeatures(arrays, { weight: start.weight, bias: start.bias }, same);
    const fromModel = await finetune(model, { labeled: splits.labeled, validation: splits.validation }, same);
    expect(fromArrays.result.diagnostics).toEqual(fromModel.diagnostics);
    expect(fromArrays.result.selectedStep).toBe(fromModel.selectedStep);
    expect(Float32Array.from(fromArrays.head.weight)).toEqual(model.headWeights().weight);
    expect(Float32Array.from(fromArrays.head.bias)).toEqual(model.headWeights().bias);
    model.dispose();
  });
});

describe("the gain switches of the config reach the loop's gain", () => {
  // An imbalanced validation set: the validation prior differs from 1/K.
  const imbalanced: FeatureData = { ...data, validation: clusters([120, 60, 30, 15, 8], 4) };
  const firstGain = async (switches: Partial<FinetuneConfig>): Promise<string> => {
    const { result } = await finetuneFeatures(imbalanced, biasedHead(), { ...config, steps: 1, ...switches });
    return JSON.stringify(result.diagnostics[0]!.topGain);
  };

  test("prior, confusion and target term each change the gain; the named pair equals its two switches", async () => {
    const reference = await firstGain({});
    expect(await firstGain({ prior: "validation" })).not.toBe(reference);
    expect(await firstGain({ confusion: "soft" })).not.toBe(reference);
    expect(await firstGain({ targetTerm: "exact" })).not.toBe(reference);
    expect(await firstGain({ gainVariant: "paper" })).toBe(await firstGain({ confusion: "soft", targetTerm: "exact" }));
    expect(await firstGain({ gainVariant: "paper", targetTerm: "reference" })).toBe(await firstGain({ confusion: "soft" }));
  });
});
