import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRng } from "@selmix/core";
import { createManifest, loadSource, resolveProfile, type Splits, splitsFromManifest } from "@selmix/datasets";
import { createModel, initBackend, type Model, type NamedArray } from "@selmix/models";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, test } from "vitest";
import { smallMnist } from "../test/mnist-small.ts";
import { defaultFinetuneConfig, type FinetuneConfig, finetune } from "./finetune.ts";
import { type FeatureData, finetuneFeatures } from "./finetune-features.ts";
import { DEFAULT_FIXMATCH_CONFIG, type FixMatchConfig, pretrainFixMatch } from "./fixmatch.ts";
import { DEFAULT_PRETRAIN_CONFIG, pretrain } from "./pretrain.ts";
import type { ProgressEvent, ProgressListener } from "./progress.ts";

// A kill -9 ends a run between any two statements; the files on disk are then whatever was last renamed into place.
// Throwing from the progress listener stops the run exactly there without any clean-up write, at a step, at a
// refresh (after diagnostics.jsonl, before best.ckpt) or at an evaluation (after best.ckpt, before last.ckpt).

class Killed extends Error {}
type KillPoint = readonly [ProgressEvent["kind"], number];

const killAt =
  ([kind, step]: KillPoint): ProgressListener =>
  (e) => {
    if (e.kind === kind && e.step === step) throw new Killed(`killed at ${kind} ${step}`);
  };

/** Runs `attempt` once per kill point (each killed there, leaking no tensor), then once to the end. */
async function runWithKills<T>(points: readonly KillPoint[], attempt: (onProgress: ProgressListener | undefined) => Promise<T>): Promise<T> {
  for (const point of points) {
    const before = tf.memory().numTensors;
    await expect(attempt(killAt(point))).rejects.toBeInstanceOf(Killed);
    expect(tf.memory().numTensors).toBe(before);
  }
  return attempt(undefined);
}

/** The SHA-256 of every file of a directory, by name. */
const filesOf = (dir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(dir).map((name) => [name, createHash("sha256").update(readFileSync(join(dir, name))).digest("hex")]));
const bits = (weights: readonly NamedArray[]): string[] => weights.map((w) => Buffer.from(w.values.buffer, w.values.byteOffset, w.values.byteLength).toString("hex"));
const tempDir = (): string => mkdtempSync(join(tmpdir(), "selmix-kill-"));
const mlp = (): Model => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });

/**
 * Runs `run` to the end in a fresh folder, then in a second folder killed at each point and resumed: the same result
 * and byte-identical files.
 */
async function expectExactResume<T>(points: readonly KillPoint[], run: (dir: string, onProgress: ProgressListener | undefined) => Promise<T>): Promise<void> {
  const reference = tempDir();
  const expected = await run(reference, undefined);
  const dir = tempDir();
  const resumed = await runWithKills(points, (onProgress) => run(dir, onProgress));
  expect(resumed).toEqual(expected);
  expect(filesOf(dir)).toEqual(filesOf(reference));
}

beforeAll(async () => {
  await initBackend({ name: "wasm" });
});

describe("finetune killed at several points", () => {
  let data: Splits;
  let start: NamedArray[];
  beforeAll(async () => {
    data = await smallMnist();
    const model = mlp();
    await pretrain(model, data.labeled, data.validation, { ...DEFAULT_PRETRAIN_CONFIG, steps: 100, evalEvery: 50 });
    start = model.getWeights();
    model.dispose();
  });

  // full network: CutMix boxes and a second λ draw per step, weak views, soft labels; all must replay exactly
  const configs: [string, FinetuneConfig][] = [
    ["head-only", { ...defaultFinetuneConfig("min-recall", "head-only"), steps: 200, lr: 0.01, temperatureScale: "spread", temperature: 0.5 }],
    [
      "full network, feature+cutmix mixing, weighted label",
      { ...defaultFinetuneConfig("min-recall", "full"), steps: 200, lr: 0.01, temperatureScale: "spread", temperature: 0.5, mixing: "feature+cutmix", mixLabel: "weighted" },
    ],
  ];
  test.each(configs)("%s: resumes to byte-identical last.ckpt, best.ckpt and diagnostics.jsonl", async (_name, config) => {
    const run = async (dir: string, onProgress: ProgressListener | undefined): Promise<string[]> => {
      const model = mlp();
      model.setWeights(start); // the CLI, too, starts every attempt from the pre-trained best.ckpt
      try {
        await finetune(model, { labeled: data.labeled, validation: data.validation }, config, {
          checkpointDir: dir,
          diagnosticsPath: join(dir, "diagnostics.jsonl"),
          ...(onProgress === undefined ? {} : { onProgress }),
        });
        return bits(model.getWeights());
      } finally {
        model.dispose();
      }
    };
    await expectExactResume(
      [
        ["step", 30],
        ["refresh", 100],
        ["step", 151],
        ["refresh", 200],
      ],
      run,
    );
  });
});

describe("finetuneFeatures killed at several points", () => {
  const K = 5;
  const D = 16;
  function clusters(counts: readonly number[], seed: number): { features: Float32Array; labels: Int32Array } {
    const rng = createRng(seed);
    const labels = Int32Array.from(counts.flatMap((n, c) => Array.from({ length: n }, () => c)));
    const features = Float32Array.from({ length: labels.length * D }, (_, j) => (j % D === labels[Math.floor(j / D)] ? 2 : 0) + rng.normal());
    return { features, labels };
  }
  const data: FeatureData = { numClasses: K, dim: D, labeled: clusters([200, 100, 50, 20, 8], 1), validation: clusters([40, 40, 40, 40, 40], 2) };
  const head = { weight: new Float32Array(K * D), bias: new Float32Array(K) };
  const config: FinetuneConfig = { ...defaultFinetuneConfig("min-recall", "head-only"), steps: 300, lr: 0.05, temperature: 0.5, temperatureScale: "spread" };

  test("resumes to byte-identical state, diagnostics and head", async () => {
    const run = async (dir: string, onProgress: ProgressListener | undefined): Promise<string[]> => {
      const out = await finetuneFeatures(data, head, config, {
        statePath: join(dir, "last-state.json"),
        diagnosticsPath: join(dir, "diagnostics.jsonl"),
        ...(onProgress === undefined ? {} : { onProgress }),
      });
      return [out.head.weight, out.head.bias].map((a) => Buffer.from(a.buffer).toString("hex"));
    };
    await expectExactResume(
      [
        ["step", 1],
        ["refresh", 50],
        ["step", 77],
        ["step", 77],
        ["refresh", 300],
      ],
      run,
    );
  });

  test("a state file of other data or settings is a MISMATCH naming the file and what differs", async () => {
    const dir = tempDir();
    const statePath = join(dir, "last-state.json");
    await expect(finetuneFeatures(data, head, config, { statePath, onProgress: killAt(["step", 60]) })).rejects.toBeInstanceOf(Killed);
    await expect(finetuneFeatures(data, head, { ...config, seed: 1 }, { statePath })).rejects.toThrow(
      new RegExp(`^${statePath} was written with other settings \\(config hash [0-9a-f]{16}, this run [0-9a-f]{16}\\)`),
    );
    const other = { ...data, validation: clusters([40, 40, 40, 40, 40], 9) };
    await expect(finetuneFeatures(other, head, config, { statePath })).rejects.toMatchObject({ code: "MISMATCH", message: expect.stringMatching(/belongs to dataset [0-9a-f]{12}, this run uses/) });
    await expect(finetuneFeatures(data, head, config, { statePath, resume: false })).resolves.toBeDefined();
  });
});

describe("FixMatch pre-training killed at several points", () => {
  let data: Splits;
  beforeAll(async () => {
    const source = await loadSource("mnist");
    const params = resolveProfile("semi-supervised", { n1: 100, rhoL: 10, m1: 200, rhoU: 10, valPerClass: 30 });
    data = splitsFromManifest(source, createManifest(source, params, 0));
  });
  const config: FixMatchConfig = { ...DEFAULT_FIXMATCH_CONFIG, steps: 30, batchSize: 16, evalEvery: 10, threshold: 0.6, lr: 0.05, ema: 0.9 };

  test("resumes to byte-identical last.ckpt and best.ckpt", async () => {
    const run = async (dir: string, onProgress: ProgressListener | undefined): Promise<string[]> => {
      const model = mlp();
      try {
        await pretrainFixMatch(model, data.labeled, data.unlabeled, data.validation, config, {
          checkpointDir: dir,
          datasetManifestId: data.manifest.id,
          ...(onProgress === undefined ? {} : { onProgress }),
        });
        return bits(model.getWeights());
      } finally {
        model.dispose();
      }
    };
    await expectExactResume(
      [
        ["step", 7],
        ["eval", 20],
        ["step", 25],
        ["eval", 30],
      ],
      run,
    );
  });

  test("resuming another run's last.ckpt is a MISMATCH naming what differs", async () => {
    const dir = tempDir();
    const model = mlp();
    const io = { checkpointDir: dir, datasetManifestId: data.manifest.id };
    await pretrainFixMatch(model, data.labeled, data.unlabeled, data.validation, { ...config, steps: 10 }, io);
    await expect(pretrainFixMatch(model, data.labeled, data.unlabeled, data.validation, { ...config, steps: 10, seed: 1 }, io)).rejects.toThrow(/was written with other settings/);
    await expect(pretrainFixMatch(model, data.labeled, data.unlabeled, data.validation, { ...config, steps: 10 }, { ...io, datasetManifestId: "f".repeat(64) })).rejects.toThrow(
      /belongs to dataset [0-9a-f]{12}, this run uses ffffffffffff/,
    );
    const { stopAfterStep: _s, ...pretrainDefaults } = { ...DEFAULT_PRETRAIN_CONFIG, steps: 10, evalEvery: 10, stopAfterStep: 0 };
    await expect(pretrain(model, data.labeled, data.validation, pretrainDefaults, io)).rejects.toThrow(/was written by a fixmatch run, this is a pretrain run/);
    model.dispose();
  });
});
