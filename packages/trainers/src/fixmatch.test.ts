import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManifest, type Dataset, loadSource, resolveProfile, type Splits, splitsFromManifest, type Subset } from "@selmix/datasets";
import { createModel, initBackend, type Model, type NamedArray } from "@selmix/models";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_FIXMATCH_CONFIG, type FixMatchConfig, type FixMatchIo, type FixMatchResult, fixMatchLoss, pretrainFixMatch } from "./fixmatch.ts";

let data: Splits;
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "selmix-fixmatch-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const mlp = (): Model => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
/**
 * Small and fast: a lower threshold so that the unlabelled branch is active within a few dozen steps, and a short
 * EMA (0.999 barely leaves the initial weights in 30 steps).
 */
const config: FixMatchConfig = { ...DEFAULT_FIXMATCH_CONFIG, steps: 30, batchSize: 16, mu: 2, evalEvery: 10, threshold: 0.6, lr: 0.05, ema: 0.9 };
const sameWeights = (a: readonly NamedArray[], b: readonly NamedArray[]): boolean =>
  a.length === b.length && a.every((w, i) => w.name === b[i]!.name && w.values.every((v, j) => Object.is(v, b[i]!.values[j])));

async function run(unlabeled: Subset, c: FixMatchConfig = config, io: FixMatchIo = {}, model: Model = mlp()): Promise<{ result: FixMatchResult; weights: NamedArray[] }> {
  const result = await pretrainFixMatch(model, data.labeled, unlabeled, data.validation, c, io);
  const weights = model.getWeights();
  model.dispose();
  return { result, weights };
}

/** A copy of the unlabelled pool's dataset whose `labels` throw on any access. */
function labelsThrow(d: Dataset): Dataset {
  return {
    images: d.images,
    height: d.height,
    width: d.width,
    channels: d.channels,
    numClasses: d.numClasses,
    get labels(): Uint8Array {
      throw new Error("the true labels of unlabelled data were read");
    },
  };
}

beforeAll(async () => {
  await initBackend({ name: "wasm" });
  const source = await loadSource("mnist");
  // Semi-supervised long tail, scaled down: ~380 labelled, ~760 unlabelled, 300 validation images.
  const params = resolveProfile("semi-supervised", { n1: 100, rhoL: 10, m1: 200, rhoU: 10, valPerClass: 30 });
  data = splitsFromManifest(source, createManifest(source, params, 0));
});

describe("fixMatchLoss", () => {
  test("pseudo-labels are the weak view's argmax above the threshold, and the weak branch gets no gradient", () => {
    const b = 1;
    const u = 3;
    // Rows: labelled (class 0) | weak ×3 | strong ×3. Weak rows: confident class 2, confident class 1, unsure.
    const rows = [
      [2, 0, 0],
      [0, 0, 8],
      [0, 9, 0],
      [0.1, 0, 0.2],
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const before = tf.memory().numTensors;
    const logits = tf.tensor2d(rows);
    const labels = tf.tensor1d([0], "int32");
    const adjustment = tf.tensor1d([0, Math.log(0.5), Math.log(0.25)]);
    const g = tf.grad((x: tf.Tensor) => fixMatchLoss(x as tf.Tensor2D, labels, b, u, 0.95, 2, adjustment)[0]);
    const gradient = g(logits);
    const grad = gradient.arraySync() as number[][];
    gradient.dispose();
    const outputs = tf.tidy(() => fixMatchLoss(logits, labels, b, u, 0.95, 2, adjustment));
    const [total, sup, unsup, mask] = outputs.map((t) => t.arraySync() as number);
    tf.dispose(outputs);
    const lse = (r: number[]): number => Math.log(r.reduce((a, v) => a + Math.exp(v), 0));
    const strong = rows.slice(4);
    const expectedSup = lse([2, Math.log(0.5), 0.2 + Math.log(0.25) - 0.2]) - 2; // logits + adjustment
    const expectedUnsup = (lse(strong[0]!) - strong[0]![2]! + (lse(strong[1]!) - strong[1]![1]!) + 0) / 3;
    expect(sup).toBeCloseTo(expectedSup, 5);
    expect(unsup).toBeCloseTo(expectedUnsup, 5);
    expect(mask).toBeCloseTo(2 / 3, 6);
    expect(total).toBeCloseTo(expectedSup + 2 * expectedUnsup, 5);
    for (const r of [1, 2, 3]) expect(grad[r]).toEqual([0, 0, 0]); // stop-gradient on the weak view
    expect(grad[6]!.every((v) => v === 0)).toBe(true); // masked-out strong view
    expect(grad[4]!.some((v) => v !== 0) && grad[5]!.some((v) => v !== 0)).toBe(true);
    tf.dispose([logits, labels, adjustment]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("fixMatchLoss with an unlabelled prior", () => {
  test("adds the adjustment to the weak and strong logits only: pseudo-label, mask and CE see the adjusted logits", () => {
    const before = tf.memory().numTensors;
    const rows = [
      [1, 0, 0],
      [2, 2.5, 0], // weak: argmax 1 unadjusted, 0 after + log prior
      [0, 0, 0],
    ];
    const adjust = [0, Math.log(0.25), Math.log(0.25)];
    const shifted = rows.map((r, i) => (i === 0 ? r : r.map((v, c) => v + adjust[c]!)));
    const out = tf.tidy(() => {
      const labels = tf.tensor1d([0], "int32");
      const a = fixMatchLoss(tf.tensor2d(rows), labels, 1, 1, 0.5, 1, undefined, tf.tensor1d(adjust));
      const b = fixMatchLoss(tf.tensor2d(shifted), labels, 1, 1, 0.5, 1, undefined);
      return [...a, ...b];
    });
    const v = out.map((t) => t.arraySync() as number);
    tf.dispose(out);
    for (let i = 0; i < 4; i++) expect(v[i]).toBeCloseTo(v[i + 4]!, 6);
    expect(v[3]).toBe(1); // softmax(2, 2.5 - 1.39, -1.39) max ≈ 0.66 ≥ 0.5
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("fixMatchLoss with distribution alignment", () => {
  test("the alignment moves the pseudo-label and its mask, not the strong view's logits", () => {
    const before = tf.memory().numTensors;
    // labelled | weak ×2 | strong ×2; weak row 0 favours class 0 (0.73), row 1 is sure of class 2
    const rows = [
      [1, 0, 0],
      [1, 0, -9],
      [0, 0, 9],
      [0.5, 0.2, 0],
      [0, 0.3, 0.1],
    ];
    // the model over-predicts class 0: log(target / marginal) with marginal (0.8, 0.1, 0.1), target uniform
    const alignment = [Math.log(1 / 3 / 0.8), Math.log(1 / 3 / 0.1), Math.log(1 / 3 / 0.1)];
    const v = tf.tidy(() => {
      const labels = tf.tensor1d([0], "int32");
      const plain = fixMatchLoss(tf.tensor2d(rows), labels, 1, 2, 0.7, 1, undefined);
      const aligned = fixMatchLoss(tf.tensor2d(rows), labels, 1, 2, 0.7, 1, undefined, undefined, undefined, tf.tensor1d(alignment));
      return [...plain, ...aligned];
    }).map((t) => {
      const x = t.arraySync() as number;
      t.dispose();
      return x;
    });
    const lse = (r: number[]): number => Math.log(r.reduce((a, x) => a + Math.exp(x), 0));
    const ce = (r: number[], y: number): number => lse(r) - r[y]!;
    // plain: row 0 -> class 0 at 0.73 ≥ 0.7, row 1 -> class 2; aligned: row 0 -> class 1 at 0.96, row 1 still class 2
    expect(v[3]).toBe(1);
    expect(v[2]).toBeCloseTo((ce(rows[3]!, 0) + ce(rows[4]!, 2)) / 2, 5);
    expect(v[7]).toBe(1);
    expect(v[6]).toBeCloseTo((ce(rows[3]!, 1) + ce(rows[4]!, 2)) / 2, 5);
    expect(v[5]).toBeCloseTo(v[1]!, 6); // the labelled loss is untouched
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("pretrainFixMatch", () => {
  test("runs with finite losses, an active unlabelled branch, no tensor leak, and keeps the best EMA weights", async () => {
    const counts: number[] = [];
    let before = 0;
    const model = mlp();
    before = tf.memory().numTensors;
    const result = await pretrainFixMatch(model, data.labeled, data.unlabeled, data.validation, config, {
      onProgress: (e) => {
        if (e.kind === "step") counts.push(tf.memory().numTensors);
      },
    });
    expect(counts).toHaveLength(30);
    expect(new Set(counts).size).toBe(1); // flat across steps
    expect(tf.memory().numTensors).toBe(before);
    expect(result.completed).toBe(true);
    expect(result.history.map((h) => h.step)).toEqual([10, 20, 30]);
    for (const h of result.history) {
      expect(Number.isFinite(h.loss) && Number.isFinite(h.supervisedLoss) && Number.isFinite(h.unsupervisedLoss)).toBe(true);
      expect(h.maskRate).toBeGreaterThanOrEqual(0);
      expect(h.maskRate).toBeLessThanOrEqual(1);
    }
    expect(result.history.at(-1)!.maskRate).toBeGreaterThan(0);
    expect(result.history.at(-1)!.unsupervisedLoss).toBeGreaterThan(0);
    expect(result.bestValidation.meanRecall).toBeGreaterThan(0.3);
    expect(result.bestValidation.meanRecall).toBe(Math.max(...result.history.map((h) => h.validation.meanRecall)));
    model.dispose();
  });

  test("is deterministic per seed; another seed gives other weights", async () => {
    const a = await run(data.unlabeled);
    const b = await run(data.unlabeled);
    expect(sameWeights(a.weights, b.weights)).toBe(true);
    expect(b.result.history).toEqual(a.result.history);
    const c = await run(data.unlabeled, { ...config, seed: 1 });
    expect(sameWeights(a.weights, c.weights)).toBe(false);
  });

  test("never reads the true labels of unlabelled data: throwing or poisoned labels change nothing", async () => {
    const base = await run(data.unlabeled, { ...config, steps: 20 });
    expect(() => labelsThrow(data.unlabeled.dataset).labels).toThrow(/were read/); // the trap is live
    const throwing = await run({ dataset: labelsThrow(data.unlabeled.dataset), indices: data.unlabeled.indices }, { ...config, steps: 20 });
    expect(sameWeights(throwing.weights, base.weights)).toBe(true);
    expect(throwing.result.history).toEqual(base.result.history);
    const poisoned = Int32Array.from(data.unlabeled.dataset.labels, (y, i) => (y + 1 + (i % 7)) % 10);
    const poison = await run({ dataset: { ...data.unlabeled.dataset, labels: poisoned }, indices: data.unlabeled.indices }, { ...config, steps: 20 });
    expect(sameWeights(poison.weights, base.weights)).toBe(true);
    expect(poison.result.history).toEqual(base.result.history);
  });

  test.each([
    ["uniform", false],
    ["estimated", false],
    ["uniform", true],
  ] as const)("a run killed mid-way resumes from last.ckpt and ends with the same weights and history (unlabelled prior %s, distribution alignment %s)", async (prior, align) => {
    const c = { ...config, unlabeledPrior: prior, ...(align ? { distributionAlignment: true } : {}) };
    const full = await run(data.unlabeled, c, { checkpointDir: tempDir() });
    const dir = tempDir();
    const stopped = await run(data.unlabeled, c, { checkpointDir: dir, stopAfterStep: 15 });
    expect(stopped.result.completed).toBe(false);
    expect(stopped.result.stepsRun).toBe(15);
    const events: string[] = [];
    const resumed = await run(data.unlabeled, c, { checkpointDir: dir, onProgress: (e) => e.kind === "resume" && events.push(`resume@${e.step}`) });
    expect(events).toEqual(["resume@15"]);
    expect(resumed.result.completed).toBe(true);
    expect(sameWeights(resumed.weights, full.weights)).toBe(true);
    expect(resumed.result.history).toEqual(full.result.history);
    expect(resumed.result.bestStep).toBe(full.result.bestStep);
    if (prior === "estimated") {
      const estimate = full.result.history.at(-1)!.unlabeledPrior!;
      expect(estimate).toHaveLength(10);
      expect(estimate.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
      expect(Math.max(...estimate)).toBeGreaterThan(0.1 + 1e-3); // moved away from uniform
    }
    if (align) {
      const marginal = full.result.history.at(-1)!.weakMarginal!;
      expect(marginal.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
      expect(Math.max(...marginal)).toBeGreaterThan(0.1 + 1e-3);
      const plain = await run(data.unlabeled, { ...c, distributionAlignment: false });
      expect(sameWeights(plain.weights, full.weights)).toBe(false); // the alignment changed the pseudo-labels
    }
  });

  test("rejects bad settings", async () => {
    const model = mlp();
    for (const bad of [{ mu: 0 }, { threshold: 1.5 }, { steps: 0 }, { ema: 1 }, { lambdaU: -1 }, { unlabeledPrior: "skewed" as "uniform" }, { unlabeledPrior: "estimated" as const, distributionAlignment: true }]) {
      await expect(pretrainFixMatch(model, data.labeled, data.unlabeled, data.validation, { ...config, ...bad })).rejects.toMatchObject({ code: "INVALID_VALUE" });
    }
    await expect(
      pretrainFixMatch(model, data.labeled, { dataset: data.unlabeled.dataset, indices: new Int32Array(0) }, data.validation, config),
    ).rejects.toMatchObject({ code: "EMPTY_CLASS" });
    model.dispose();
  });
});
