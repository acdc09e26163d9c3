// The `@example` of every public export: each test's `//#region <name>` is what TypeDoc shows (`{@includeCode}`),
// the assertions after it check what the example computes.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createRng } from "@selmix/core";
import { createManifest, loadSource, resolveProfile, type Splits, splitsFromManifest } from "@selmix/datasets";
import { confusionFromPredictions, createObjective, evaluateMetrics } from "@selmix/metrics";
import { createModel, initBackend, type Model, type NamedArray } from "@selmix/models";
import {
  createEma,
  createSgd,
  crossEntropy,
  cutmixBox,
  DEFAULT_FIXMATCH_CONFIG,
  DEFAULT_PRETRAIN_CONFIG,
  defaultFinetuneConfig,
  defaultWorkerCount,
  encodeNpy,
  evaluate,
  type FeatureData,
  type FixMatchConfig,
  finetune,
  finetuneFeatures,
  GAIN_VARIANTS,
  gainConverged,
  gainSwitches,
  headPredict,
  headSgdStep,
  logPriorAdjustment,
  FIRST_POOLS,
  MIX_LABELS,
  MIXING_MODES,
  mixedCrossEntropy,
  mixImages,
  NPY_DTYPES,
  PAIR_POLICIES,
  type PretrainConfig,
  parseNpy,
  policyDistribution,
  policyExplores,
  policyMixes,
  predict,
  pretrain,
  pretrainFixMatch,
  readNpy,
  refreshPolicy,
  reportMetric,
  SELECTION_METRICS,
  scheduleFactor,
  startGradientWorkers,
  UNLABELED_PRIORS,
  writeNpy,
} from "@selmix/trainers";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, expect, test } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "selmix-trainers-examples-"));
let data: Splits;
let pretrained: NamedArray[];
const mlp = (): Model => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
/** An mlp pre-trained for 40 steps on the tiny split below. */
const pretrainedMlp = (): Model => {
  const model = mlp();
  model.setWeights(pretrained);
  return model;
};

beforeAll(async () => {
  await initBackend({ name: "wasm" });
  // A tiny long-tailed MNIST problem: 100 → 10 labelled images per class, 200 → 20 unlabelled, 10 validation per class.
  const source = await loadSource("mnist");
  const manifest = createManifest(source, resolveProfile("semi-supervised", { n1: 100, rho: 10, m1: 200, rhoU: 10, valPerClass: 10 }), 0);
  data = splitsFromManifest(source, manifest);
  const model = mlp();
  await pretrain(model, data.labeled, data.validation, { ...DEFAULT_PRETRAIN_CONFIG, steps: 40, evalEvery: 40, batchSize: 32 });
  pretrained = model.getWeights();
  model.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Gaussian class clusters in `dim` dimensions: mean 3·e_c, unit noise. */
function clusters(counts: readonly number[], dim: number, seed: number): { features: Float32Array; labels: Int32Array } {
  const rng = createRng(seed);
  const labels = Int32Array.from(counts.flatMap((n, c) => Array.from({ length: n }, () => c)));
  const features = Float32Array.from({ length: labels.length * dim }, (_, i) => (i % dim === labels[Math.floor(i / dim)] ? 3 : 0) + rng.normal());
  return { features, labels };
}

test("DEFAULT_PRETRAIN_CONFIG", () => {
  //#region DEFAULT_PRETRAIN_CONFIG
  // plain cross-entropy instead of the default logit adjustment, a shorter run
  const config: PretrainConfig = { ...DEFAULT_PRETRAIN_CONFIG, method: "erm", steps: 500, evalEvery: 100 };
  //#endregion DEFAULT_PRETRAIN_CONFIG
  expect(config).toMatchObject({ method: "erm", steps: 500, evalEvery: 100, lr: 0.05, schedule: "cosine", selectBy: "mean-recall" });
});

test("pretrain", async () => {
  //#region pretrain
  const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const config = { ...DEFAULT_PRETRAIN_CONFIG, steps: 40, evalEvery: 20, batchSize: 32 };
  const checkpointDir = join(dir, "pretrain"); // last.ckpt to resume a killed run, best.ckpt
  const result = await pretrain(model, data.labeled, data.validation, config, { checkpointDir });
  console.log(`best validation mean recall ${result.bestValidation.meanRecall.toFixed(3)} at step ${result.bestStep}`);
  //#endregion pretrain
  expect(result.completed).toBe(true);
  expect(result.history.map((h) => h.step)).toEqual([20, 40]);
  expect(result.bestValidation.meanRecall).toBe(Math.max(...result.history.map((h) => h.validation.meanRecall)));
  expect(result.bestValidation.meanRecall).toBeGreaterThan(0.3); // chance is 0.1
  expect(existsSync(join(checkpointDir, "last.ckpt")) && existsSync(join(checkpointDir, "best.ckpt"))).toBe(true);
  model.dispose();
});

test("DEFAULT_FIXMATCH_CONFIG", () => {
  //#region DEFAULT_FIXMATCH_CONFIG
  // FixMatch without the logit adjustment, a few hundred steps of a CNN on the wasm backend
  const config: FixMatchConfig = { ...DEFAULT_FIXMATCH_CONFIG, method: "fixmatch", steps: 300, evalEvery: 100 };
  //#endregion DEFAULT_FIXMATCH_CONFIG
  expect(config).toMatchObject({ method: "fixmatch", steps: 300, threshold: 0.95, lambdaU: 1, mu: 2, ema: 0.999 });
});

test("pretrainFixMatch", async () => {
  //#region pretrainFixMatch
  const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  // tiny run: a lower threshold and a short EMA so the unlabelled branch matters within 20 steps
  const config = { ...DEFAULT_FIXMATCH_CONFIG, steps: 20, evalEvery: 10, batchSize: 16, threshold: 0.6, ema: 0.9 };
  const result = await pretrainFixMatch(model, data.labeled, data.unlabeled, data.validation, config);
  const { maskRate, supervisedLoss, unsupervisedLoss } = result.history.at(-1)!;
  //#endregion pretrainFixMatch
  expect(result.completed).toBe(true);
  expect(result.stepsRun).toBe(20);
  expect(result.history.map((h) => h.step)).toEqual([10, 20]);
  expect(maskRate).toBeGreaterThanOrEqual(0);
  expect(maskRate).toBeLessThanOrEqual(1);
  expect(Number.isFinite(supervisedLoss) && Number.isFinite(unsupervisedLoss)).toBe(true);
  model.dispose();
});

test("defaultFinetuneConfig", () => {
  //#region defaultFinetuneConfig
  const config = { ...defaultFinetuneConfig("min-recall", "head-only"), steps: 2000, seed: 1 };
  //#endregion defaultFinetuneConfig
  expect(config).toMatchObject({ objective: "min-recall", mode: "head-only", policy: "selmix", steps: 2000, refreshEvery: 50, seed: 1 });
  // the reference: 10k steps, weak crop + flip on both images, early stop on max-gain stabilisation
  expect(defaultFinetuneConfig("mean-recall")).toMatchObject({ steps: 10_000, augment: "weak", flip: true, earlyStop: true, prior: "uniform" });
});

test("GAIN_VARIANTS", () => {
  //#region GAIN_VARIANTS
  const { confusion, targetTerm } = GAIN_VARIANTS.paper; // "soft", "exact"
  //#endregion GAIN_VARIANTS
  expect([confusion, targetTerm]).toEqual(["soft", "exact"]);
  expect(GAIN_VARIANTS.reference).toEqual({ confusion: "argmax", targetTerm: "reference" });
});

test("gainSwitches", () => {
  //#region gainSwitches
  // the reference gain, but with the exact target term and the validation set's class prior
  const switches = gainSwitches({ gainVariant: "reference", targetTerm: "exact", prior: "validation" });
  //#endregion gainSwitches
  expect(switches).toEqual({ confusion: "argmax", targetTerm: "exact", prior: "validation" });
  expect(gainSwitches({ gainVariant: "paper" })).toEqual({ confusion: "soft", targetTerm: "exact", prior: "uniform" });
});

test("finetune", async () => {
  const model = pretrainedMlp();
  //#region finetune
  // `model` is pre-trained; SelMix fine-tunes the whole network for the validation min recall
  const config = { ...defaultFinetuneConfig("min-recall"), steps: 20, refreshEvery: 10, batchSize: 32 };
  const result = await finetune(model, { labeled: data.labeled, validation: data.validation }, config);
  for (const d of result.diagnostics) console.log(`step ${d.step}: min recall ${d.objective.toFixed(3)}, max gain ${d.maxGain.toFixed(4)}`);
  //#endregion finetune
  expect(result.diagnostics.map((d) => d.step)).toEqual([0, 10, 20]);
  expect(result.stepsRun).toBe(20);
  expect(result.selectedObjective).toBeGreaterThanOrEqual(Math.max(...result.diagnostics.map((d) => d.objective)) - 1e-12);
  const check = await evaluate(model, data.validation.dataset, data.validation.indices);
  expect(check.metrics.minRecall).toBeCloseTo(result.selectedObjective, 12); // the model holds the selected weights
  model.dispose();
});

test("finetuneFeatures", async () => {
  //#region finetuneFeatures
  // features of a frozen backbone from any framework: here 3 classes in 4 dimensions, long-tailed training set
  const features: FeatureData = { numClasses: 3, dim: 4, labeled: clusters([60, 20, 5], 4, 1), validation: clusters([20, 20, 20], 4, 2) };
  const start = { weight: new Float32Array(3 * 4), bias: Float32Array.of(2, 0, -2) }; // biased to class 0
  const config = { ...defaultFinetuneConfig("min-recall", "head-only"), steps: 200, refreshEvery: 50, lr: 0.01 };
  const { head, result } = await finetuneFeatures(features, start, config);
  //#endregion finetuneFeatures
  expect(head.weight.length).toBe(12);
  expect(head.bias.length).toBe(3);
  expect(result.diagnostics.length).toBeGreaterThan(0);
  expect(result.selectedObjective).toBeGreaterThan(result.diagnostics[0]!.objective); // min recall went up
  expect(Array.from(start.bias)).toEqual([2, 0, -2]); // not modified
});

test("predict", async () => {
  const model = pretrainedMlp();
  //#region predict
  // reads images only: safe on the unlabelled pool
  const { predicted, probabilities, features } = await predict(model, data.unlabeled.dataset, data.unlabeled.indices, { withFeatures: true });
  const pseudoLabelCounts = Array.from({ length: model.numClasses }, (_, c) => predicted.filter((y) => y === c).length);
  //#endregion predict
  const n = data.unlabeled.indices.length;
  expect(predicted.length).toBe(n);
  expect(probabilities.length).toBe(n * 10);
  expect(features!.length).toBe(n * model.featureDim);
  expect(pseudoLabelCounts.reduce((a, b) => a + b, 0)).toBe(n);
  expect(probabilities.slice(0, 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  model.dispose();
});

test("evaluate", async () => {
  const model = pretrainedMlp();
  //#region evaluate
  const { confusion, metrics } = await evaluate(model, data.validation.dataset, data.validation.indices);
  console.log(`accuracy ${metrics.accuracy.toFixed(3)}, min recall ${metrics.minRecall.toFixed(3)}`);
  //#endregion evaluate
  const { predicted } = await predict(model, data.validation.dataset, data.validation.indices);
  const labels = Int32Array.from(data.validation.indices, (i) => data.validation.dataset.labels[i]!);
  expect(confusion).toEqual(confusionFromPredictions(labels, predicted, 10));
  expect(metrics.accuracy).toBeCloseTo(predicted.filter((y, i) => y === labels[i]).length / labels.length, 12);
  model.dispose();
});

test("SELECTION_METRICS", () => {
  const metrics = evaluateMetrics(confusionFromPredictions(Int32Array.of(0, 0, 1, 1), Int32Array.of(0, 0, 1, 0), 2));
  //#region SELECTION_METRICS
  const row = Object.fromEntries(SELECTION_METRICS.map((name) => [name, reportMetric(metrics, name)]));
  //#endregion SELECTION_METRICS
  expect(Object.keys(row)).toEqual(["accuracy", "mean-recall", "min-recall", "h-mean", "g-mean", "min-head-tail-recall", "min-coverage"]);
  expect(row.accuracy).toBe(0.75);
  expect(row["min-recall"]).toBe(0.5);
});

test("reportMetric", () => {
  //#region reportMetric
  const metrics = evaluateMetrics(confusionFromPredictions(Int32Array.of(0, 0, 1, 1), Int32Array.of(0, 0, 1, 0), 2));
  const score = reportMetric(metrics, "mean-recall"); // (1 + 0.5) / 2
  //#endregion reportMetric
  expect(score).toBe(0.75);
  expect(reportMetric(metrics, "min-recall")).toBe(metrics.minRecall);
});

test("UNLABELED_PRIORS", () => {
  //#region UNLABELED_PRIORS
  const config: FixMatchConfig = { ...DEFAULT_FIXMATCH_CONFIG, unlabeledPrior: "estimated" }; // EM estimate of the pool's prior
  //#endregion UNLABELED_PRIORS
  expect(UNLABELED_PRIORS).toContain(config.unlabeledPrior);
});

test("createEma", () => {
  const model = mlp();
  const before = model.getWeights();
  //#region createEma
  const ema = createEma(model, 0.9);
  // stands for one optimizer step: every weight + 1
  model.setWeights(model.getWeights().map((w) => ({ ...w, values: w.values.map((v) => v + 1) })));
  ema.update(); // after every step
  const averaged = ema.weights(); // each weight moved 10% of the way: old + 0.1
  //#endregion createEma
  let worst = 0;
  averaged.forEach((w, i) => {
    w.values.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - (before[i]!.values[j]! + 0.1)));
    });
  });
  expect(worst).toBeLessThan(1e-5);
  expect(ema.state()[0]!.name).toBe(`ema/${before[0]!.name}`);
  ema.dispose();
  model.dispose();
});

test("createSgd", () => {
  //#region createSgd
  const w = tf.variable(tf.tensor2d([[1, -2]]), true, "w");
  const sgd = createSgd([{ variables: [w], lrFactor: 1, weightDecay: 0 }], 0.9, true);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w)) as tf.Scalar, [w]);
  sgd.step(grads, 0.1); // Nesterov: w ← w − 0.1·(g + 0.9·g), g = 2w
  //#endregion createSgd
  const expected = [1 - 0.1 * 1.9 * 2, -2 + 0.1 * 1.9 * 4];
  expect(Array.from(w.dataSync())).toEqual(expected.map((v) => expect.closeTo(v, 6)));
  expect(sgd.state()).toHaveLength(1);
  expect(value.dataSync()[0]).toBe(5);
  sgd.dispose();
  tf.dispose([w, value]);
});

test("scheduleFactor", () => {
  //#region scheduleFactor
  const lr = 0.05 * scheduleFactor("cosine", 250, 1000); // 0.05 · ½(1 + cos(π/4))
  //#endregion scheduleFactor
  expect(lr).toBeCloseTo(0.05 * 0.5 * (1 + Math.cos(Math.PI / 4)), 12);
  expect(scheduleFactor("constant", 999, 1000)).toBe(1);
  expect(scheduleFactor("cosine", 1000, 1000)).toBeCloseTo(0, 12);
});

test("crossEntropy", () => {
  //#region crossEntropy
  const logits = tf.tensor2d([[2, 0], [0, 2]]);
  const labels = tf.tensor1d([0, 1], "int32");
  const loss = crossEntropy(logits, labels); // log(1 + e⁻²) ≈ 0.127
  const prior = tf.tensor1d(logPriorAdjustment([900, 100], 1)); // training set: 90% class 0
  const laLoss = crossEntropy(logits, labels, prior); // logit-adjusted: the tail class costs more
  //#endregion crossEntropy
  expect(loss.dataSync()[0]).toBeCloseTo(Math.log(1 + Math.exp(-2)), 5);
  expect(laLoss.dataSync()[0]).toBeGreaterThan(loss.dataSync()[0]!);
  tf.dispose([logits, labels, loss, prior, laLoss]);
});

test("mixedCrossEntropy", () => {
  //#region mixedCrossEntropy
  const logits = tf.tensor2d([[2, 0], [0, 2]]);
  const first = tf.tensor1d([0, 1], "int32");
  const partner = tf.tensor1d([1, 0], "int32");
  const share = tf.tensor2d([[0.7], [1]]); // row 0: 70% of x₁ (class 0), 30% of x₂ (class 1)
  const loss = crossEntropy(logits, first); // x₁'s label only, as SelMix
  const soft = mixedCrossEntropy(logits, first, partner, share); // the CutMix / mixup label
  //#endregion mixedCrossEntropy
  const l0 = Math.log(1 + Math.exp(-2));
  expect(soft.dataSync()[0]).toBeCloseTo((0.7 * l0 + 0.3 * (2 + l0) + l0) / 2, 5);
  expect(soft.dataSync()[0]).toBeGreaterThan(loss.dataSync()[0]!);
  tf.dispose([logits, first, partner, share, loss, soft]);
});

test("MIXING_MODES", () => {
  //#region MIXING_MODES
  const inputModes = MIXING_MODES.filter((m) => m !== "feature"); // need full-network fine-tuning
  //#endregion MIXING_MODES
  expect(inputModes).toEqual(["input-mixup", "cutmix", "feature+cutmix"]);
});

test("FIRST_POOLS", () => {
  //#region FIRST_POOLS
  // semi-supervised: x1 also from the unlabelled pool, under the pseudo-labels its partners are drawn by
  const config = { ...defaultFinetuneConfig("min-recall", "head-only"), firstPool: FIRST_POOLS[1] } as const;
  //#endregion FIRST_POOLS
  expect(config.firstPool).toBe("labeled+unlabeled");
});

test("MIX_LABELS", () => {
  //#region MIX_LABELS
  const config = { ...defaultFinetuneConfig("min-recall", "full"), mixing: "cutmix", mixLabel: MIX_LABELS[1] } as const; // weighted
  //#endregion MIX_LABELS
  expect(config.mixLabel).toBe("weighted");
});

test("cutmixBox", () => {
  //#region cutmixBox
  const { box, lambda } = cutmixBox(28, 28, 0.75, createRng(0)); // a 14x14 box, fewer pixels when clipped at a border
  const pasted = (box.bottom - box.top) * (box.right - box.left);
  //#endregion cutmixBox
  expect(lambda).toBeCloseTo(1 - pasted / (28 * 28), 12);
  expect(lambda).toBeGreaterThanOrEqual(0.75);
});

test("mixImages", () => {
  //#region mixImages
  const x1 = new Float32Array(2 * 4 * 4).fill(1); // two 4x4 grey images
  const x2 = new Float32Array(2 * 4 * 4); // two black ones
  const blend = mixImages("input-mixup", x1, x2, [4, 4, 1], [0.8, 0.6], createRng(0)); // pixels 0.8 and 0.6
  const cut = mixImages("cutmix", x1, x2, [4, 4, 1], [0.75, 0.75], createRng(0)); // a black box in each
  //#endregion mixImages
  expect(blend.images[0]).toBeCloseTo(0.8, 6);
  expect(blend.images[16]).toBeCloseTo(0.6, 6);
  expect(Array.from(blend.firstShare)).toEqual([0.8, 0.6]);
  for (let r = 0; r < 2; r++) expect(cut.images.subarray(r * 16, r * 16 + 16).reduce((a, b) => a + b, 0) / 16).toBeCloseTo(cut.firstShare[r]!, 12);
});

test("logPriorAdjustment", () => {
  //#region logPriorAdjustment
  const adjustment = logPriorAdjustment([900, 100, 0], 1); // τ·log(prior); an empty class gets log(1e-3 / 1000)
  //#endregion logPriorAdjustment
  expect(adjustment[0]).toBeCloseTo(Math.log(0.9), 6);
  expect(adjustment[1]).toBeCloseTo(Math.log(0.1), 6);
  expect(adjustment[2]).toBeCloseTo(Math.log(1e-6), 4);
});

test("policyDistribution", () => {
  //#region policyDistribution
  const gain = Float64Array.of(0, 0.3, 0.1, 0); // K = 2, row-major: mixing class 0 with class 1 helps most
  const p = policyDistribution("selmix", gain, null, 2, { temperature: 0.1, scale: "absolute" }); // softmax(G / T) on the pairs with G > 0
  //#endregion policyDistribution
  expect(p[1]! / p[2]!).toBeCloseTo(Math.exp(2), 4); // e^(0.3 / 0.1) : e^(0.1 / 0.1)
  expect(p[0]! + p[3]!).toBeLessThan(1e-7); // no gain: only the ε floor
  expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
});

test("PAIR_POLICIES", () => {
  const gain = Float64Array.of(0, 0.3, 0.1, 0);
  //#region PAIR_POLICIES
  // compare what each policy would sample from the same gain matrix
  const mostLikelyPair = PAIR_POLICIES.map((policy) => {
    const p = policyDistribution(policy, gain, Float64Array.of(0.9, 0.1), 2, { temperature: 0.1, scale: "absolute" });
    return [policy, p.indexOf(Math.max(...p))] as const;
  });
  //#endregion PAIR_POLICIES
  expect(Object.fromEntries(mostLikelyPair)).toEqual({ selmix: 1, uniform: 0, greedy: 1, "multipliers-only": 0, "class-balanced": 0, resampling: 1 });
});

test("policyMixes", () => {
  //#region policyMixes
  const mixing = PAIR_POLICIES.filter(policyMixes); // selmix, uniform, greedy, multipliers-only
  //#endregion policyMixes
  expect(mixing).toEqual(["selmix", "uniform", "greedy", "multipliers-only"]);
});

test("policyExplores", () => {
  //#region policyExplores
  const exploring = PAIR_POLICIES.filter(policyExplores); // selmix and resampling: the same sampler
  //#endregion policyExplores
  expect(exploring).toEqual(["selmix", "resampling"]);
});

test("refreshPolicy", () => {
  //#region refreshPolicy
  // K = 2 classes, 2-D features of 4 validation samples, a head biased towards class 0
  const head = { numClasses: 2, dim: 2, weight: Float64Array.of(1, 0, 0, 1), bias: Float64Array.of(0.5, 0) };
  const features = Float32Array.of(1, 0, 0.9, 0.1, 0.2, 0.8, 0.6, 0.4);
  const view = { labels: Int32Array.of(0, 0, 1, 1), features, ...headPredict(head, features) };
  const gain = gainSwitches({ gainVariant: "reference" }); // arg-max confusion, z_i·z_q, uniform prior
  const settings = { policy: "selmix", lambdaMin: 0.6, temperature: 0.1, temperatureScale: "absolute", gain } as const;
  const refresh = refreshPolicy(0, view, head, 2, 2, createObjective("min-recall"), undefined, settings);
  // pass refresh.state as `previous` to the next refresh; draw pairs from refresh.distribution
  //#endregion refreshPolicy
  expect(refresh.diagnostics.recall).toEqual([1, 0.5]);
  expect(refresh.diagnostics.objective).toBe(0.5);
  expect(refresh.distribution.length).toBe(4);
  expect(refresh.distribution.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  expect(refresh.diagnostics.maxGain).toBe(Math.max(...refresh.gain));
});

test("gainConverged", () => {
  //#region gainConverged
  const maxGains = [1.2, 0.95, 0.92, 0.9, 0.91, 0.9, 0.9, 0.9, 0.91, 0.9]; // the max gain of each refresh
  const stop = gainConverged(maxGains); // true: the last (0.9) is within 5% of the mean of the last 10 (0.939)
  //#endregion gainConverged
  expect(stop).toBe(true);
  expect(gainConverged([2, ...maxGains.slice(1)])).toBe(false); // mean 1.019: 0.9 is 12% below
  expect(gainConverged([1, 1, 1])).toBe(false); // fewer than 10 refreshes
});

test("headPredict", () => {
  //#region headPredict
  const head = { numClasses: 2, dim: 2, weight: Float64Array.of(1, 0, 0, 1), bias: Float64Array.of(0, 0) };
  const { predicted, probabilities } = headPredict(head, Float32Array.of(2, 0, 0, 3)); // two feature vectors
  //#endregion headPredict
  expect(Array.from(predicted)).toEqual([0, 1]);
  expect(probabilities[0]).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
  expect(probabilities[3]).toBeCloseTo(1 / (1 + Math.exp(-3)), 6);
});

test("headSgdStep", () => {
  //#region headSgdStep
  const head = { numClasses: 2, dim: 2, weight: new Float64Array(4), bias: new Float64Array(2) };
  const features = Float32Array.of(1, 0, 0, 1); // one sample of class 0, one of class 1
  // two mixup pairs: 0.8·row 0 + 0.2·row 1 labelled 0, and 0.8·row 1 + 0.2·row 0 labelled 1
  const rows = Int32Array.of(0, 1);
  const partners = Int32Array.of(1, 0);
  const loss = headSgdStep(head, features, rows, features, partners, Float64Array.of(0.8, 0.8), Int32Array.of(0, 1), 0.5, 0);
  //#endregion headSgdStep
  expect(loss).toBeCloseTo(Math.log(2), 12); // the zero head predicts ½, ½
  expect(Array.from(headPredict(head, features).predicted)).toEqual([0, 1]);
  expect(Array.from(head.weight)).toEqual([0.075, -0.075, -0.075, 0.075].map((v) => expect.closeTo(v, 12)));
});

test("NPY_DTYPES", () => {
  const bytes = encodeNpy(Float32Array.of(1, 2), [2]);
  //#region NPY_DTYPES
  const { dtype } = parseNpy(bytes, "logits.npy");
  const floating = NPY_DTYPES.filter((d) => d.startsWith("<f")); // ["<f4", "<f8"]
  const isFloat = floating.includes(dtype);
  //#endregion NPY_DTYPES
  expect(floating).toEqual(["<f4", "<f8"]);
  expect(isFloat).toBe(true);
  expect(NPY_DTYPES).toHaveLength(7);
});

test("encodeNpy", () => {
  //#region encodeNpy
  const bytes = encodeNpy(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]); // what numpy.save writes for float32 [2, 3]
  //#endregion encodeNpy
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true);
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  expect((10 + headerLength) % 64).toBe(0);
  expect(new TextDecoder().decode(bytes.subarray(10, 10 + headerLength))).toContain("'shape': (2, 3)");
  expect(bytes.length).toBe(10 + headerLength + 24);
});

test("parseNpy", () => {
  const bytes = encodeNpy(Int32Array.of(3, 1, 4, 1, 5, 9), [3, 2]);
  //#region parseNpy
  const { dtype, shape, data } = parseNpy(bytes, "labels.npy"); // the name appears in every error
  const [rows, cols] = shape; // 3, 2
  //#endregion parseNpy
  expect(dtype).toBe("<i4");
  expect([rows, cols]).toEqual([3, 2]);
  expect(data).toEqual(Int32Array.of(3, 1, 4, 1, 5, 9));
  expect(() => parseNpy(bytes.subarray(0, 20), "labels.npy")).toThrow(/labels\.npy/);
});

test("writeNpy", () => {
  //#region writeNpy
  const path = join(dir, "features.npy"); // numpy.load(path) gives a float32 array of shape (2, 2)
  writeNpy(path, Float32Array.of(0.5, -1, 2, 0), [2, 2]);
  //#endregion writeNpy
  expect(readNpy(path)).toEqual({ dtype: "<f4", shape: [2, 2], data: Float32Array.of(0.5, -1, 2, 0) });
});

test("readNpy", () => {
  writeNpy(join(dir, "val_features.npy"), Float64Array.of(1, 2, 3, 4, 5, 6), [3, 2]);
  //#region readNpy
  const { shape, data } = readNpy(join(dir, "val_features.npy")); // e.g. exported with numpy.save
  const [n, dim] = shape;
  const features = Float32Array.from(data); // finetuneFeatures takes float32
  //#endregion readNpy
  expect([n, dim]).toEqual([3, 2]);
  expect(features).toEqual(Float32Array.of(1, 2, 3, 4, 5, 6));
});

test("defaultWorkerCount", () => {
  //#region defaultWorkerCount
  // every core on wasm (single-threaded in Node); 1 on tfjs-node, which is multi-threaded already
  const config = { ...DEFAULT_PRETRAIN_CONFIG, workers: defaultWorkerCount("cnn") };
  //#endregion defaultWorkerCount
  expect(config.workers).toBe(availableParallelism());
  expect(defaultWorkerCount("mlp")).toBe(1);
});

test("startGradientWorkers", async () => {
  //#region startGradientWorkers
  const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const variables = model.trainableVariables();
  const sgd = createSgd([{ variables, lrFactor: 1, weightDecay: 0 }], 0.9);
  const workers = await startGradientWorkers({ model, workers: 2, loss: { kind: "ce" }, variables });
  const images = new Float32Array(8 * 28 * 28).fill(0.5); // 8 images: rows 0-3 go to worker 0, 4-7 to worker 1
  const labels = Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7);
  const { grads, values } = await workers.step({ x: { data: images, rows: 8 }, labels: { data: labels, rows: 8 } });
  sgd.step(grads, 0.05); // the full-batch gradient; the next step sends the new weights
  await workers.close();
  //#endregion startGradientWorkers
  expect(values[0]).toBeGreaterThan(0);
  sgd.dispose();
  model.dispose();
});
