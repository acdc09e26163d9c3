import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Splits } from "@selmix/datasets";
import { createModel, initBackend, type Model, type NamedArray } from "@selmix/models";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, test } from "vitest";
import { smallMnist } from "../test/mnist-small.ts";
import { evaluate } from "./evaluate.ts";
import { defaultFinetuneConfig, type FinetuneConfig, finetune } from "./finetune.ts";
import { MIX_LABELS, MIXING_MODES } from "./input-mixing.ts";
import { DEFAULT_PRETRAIN_CONFIG, type PretrainConfig, pretrain } from "./pretrain.ts";

let data: Splits;
let start: NamedArray[];
const mlp = (): Model => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
const pretrainConfig: PretrainConfig = { ...DEFAULT_PRETRAIN_CONFIG, steps: 150, evalEvery: 50, lr: 0.05 };
const sameWeights = (a: readonly NamedArray[], b: readonly NamedArray[]): boolean =>
  a.length === b.length && a.every((w, i) => w.name === b[i]!.name && w.values.every((v, j) => Object.is(v, b[i]!.values[j])));

beforeAll(async () => {
  await initBackend({ name: "wasm" });
  data = await smallMnist();
  const model = mlp();
  await pretrain(model, data.labeled, data.validation, pretrainConfig);
  start = model.getWeights();
  model.dispose();
});

describe("pretrain", () => {
  test("learns: validation mean recall of LA well above chance, best step chosen on validation", async () => {
    const model = mlp();
    const result = await pretrain(model, data.labeled, data.validation, pretrainConfig);
    expect(result.bestValidation.meanRecall).toBeGreaterThan(0.7);
    expect(result.history.map((h) => h.step)).toEqual([50, 100, 150]);
    const best = Math.max(...result.history.map((h) => h.validation.meanRecall));
    expect(result.bestValidation.meanRecall).toBe(best);
    const check = await evaluate(model, data.validation.dataset, data.validation.indices);
    expect(check.metrics.meanRecall).toBeCloseTo(best, 12); // the model holds the selected weights
    model.dispose();
  });

  test("no tensor leak: the count is flat across steps and back to the start at the end", async () => {
    const model = mlp();
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await pretrain(model, data.labeled, data.validation, { ...pretrainConfig, steps: 40, evalEvery: 20, ema: 0.9 }, {
      onProgress: (e) => {
        if (e.kind === "step") counts.push(tf.memory().numTensors);
      },
    });
    expect(counts).toHaveLength(40);
    expect(new Set(counts).size).toBe(1); // one leaked tensor per step would make 40 different counts
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  test("a run killed mid-way resumes from its checkpoint and ends with the same weights", async () => {
    const dir = mkdtempSync(join(tmpdir(), "selmix-pretrain-"));
    const whole = mlp();
    await pretrain(whole, data.labeled, data.validation, pretrainConfig);
    const killed = mlp();
    const first = await pretrain(killed, data.labeled, data.validation, pretrainConfig, { checkpointDir: dir, stopAfterStep: 70 });
    expect(first.completed).toBe(false);
    killed.dispose();
    const resumed = mlp();
    const events: string[] = [];
    const second = await pretrain(resumed, data.labeled, data.validation, pretrainConfig, {
      checkpointDir: dir,
      onProgress: (e) => events.push(e.kind),
    });
    expect(events[0]).toBe("resume");
    expect(second.completed).toBe(true);
    expect(sameWeights(resumed.getWeights(), whole.getWeights())).toBe(true);
    whole.dispose();
    resumed.dispose();
  });
});

describe("SelMix fine-tuning", () => {
  /** Weights of the 30-step feature-mixing run of the mixing test (the other modes must differ from it). */
  let featureWeights: NamedArray[] | undefined;
  const base = (mode: "full" | "head-only"): FinetuneConfig => ({
    ...defaultFinetuneConfig("min-recall", mode),
    steps: mode === "full" ? 100 : 600,
    refreshEvery: 50,
    lr: mode === "full" ? 0.01 : 0.003,
    temperatureScale: "spread",
    temperature: 0.5,
    selectBest: false,
  });

  test("head-only fine-tuning for min recall raises the validation min recall", async () => {
    const model = mlp();
    model.setWeights(start);
    const result = await finetune(model, { labeled: data.labeled, validation: data.validation }, base("head-only"));
    const first = result.diagnostics[0]!.objective;
    const last = result.diagnostics.at(-1)!.objective;
    expect(last).toBeGreaterThan(first);
    const val = await evaluate(model, data.validation.dataset, data.validation.indices);
    expect(val.metrics.minRecall).toBeCloseTo(last, 12); // the model holds the trained head
    model.dispose();
  });

  test("full-network fine-tuning: same seed, same numbers; no tensor leak over 500 steps", async () => {
    const runs: number[][] = [];
    for (let r = 0; r < 2; r++) {
      const model = mlp();
      model.setWeights(start);
      const before = tf.memory().numTensors;
      const result = await finetune(model, { labeled: data.labeled, validation: data.validation }, { ...base("full"), steps: r === 0 ? 500 : 100 });
      expect(tf.memory().numTensors).toBe(before);
      if (r === 1) runs.push(result.diagnostics.map((d) => d.objective));
      const again = mlp();
      again.setWeights(start);
      const repeat = await finetune(again, { labeled: data.labeled, validation: data.validation }, { ...base("full"), steps: 100 });
      runs.push(repeat.diagnostics.map((d) => d.objective));
      model.dispose();
      again.dispose();
    }
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[1]).toEqual(runs[2]);
  });

  test.each(MIXING_MODES.flatMap((mixing) => MIX_LABELS.map((mixLabel) => [mixing, mixLabel] as const)))(
    "full-network step with %s mixing, %s label: no tensor leak, the same numbers for the same seed",
    async (mixing, mixLabel) => {
      const run = async (): Promise<{ objectives: number[]; counts: number[]; weights: NamedArray[] }> => {
        const model = mlp();
        model.setWeights(start);
        const before = tf.memory().numTensors;
        const counts: number[] = [];
        const result = await finetune(model, { labeled: data.labeled, validation: data.validation }, { ...base("full"), steps: 30, refreshEvery: 10, mixing, mixLabel }, {
          onProgress: (e) => {
            if (e.kind === "step") counts.push(tf.memory().numTensors);
          },
        });
        expect(tf.memory().numTensors).toBe(before);
        const weights = model.getWeights();
        model.dispose();
        return { objectives: result.diagnostics.map((d) => d.objective), counts, weights };
      };
      const a = await run();
      expect(a.counts).toHaveLength(30);
      // steps 1-9, 11-19, 21-30 have no refresh in between: one leaked tensor per step would change the count
      expect(new Set(a.counts.slice(0, 9)).size).toBe(1);
      expect(new Set(a.counts.slice(10, 19)).size).toBe(1);
      const b = await run();
      expect(b.objectives).toEqual(a.objectives);
      expect(sameWeights(a.weights, b.weights)).toBe(true);
      if (mixing !== "feature" || mixLabel !== "first") expect(sameWeights(a.weights, featureWeights ?? [])).toBe(false);
      else featureWeights = a.weights;
    },
  );

  test("a fixed pair distribution with the uniform policy trains on exactly that pair", async () => {
    const model = mlp();
    model.setWeights(start);
    const onePair = new Float64Array(100);
    onePair[3 * 10 + 7] = 1;
    const seen = new Set<string>();
    const result = await finetune(model, { labeled: data.labeled, validation: data.validation }, { ...base("full"), policy: "uniform", steps: 4, mixing: "cutmix" }, {
      pairDistribution: onePair,
      onPairs: (_step, pairs) => {
        for (let n = 0; n < pairs.firstClass.length; n++) seen.add(`${pairs.firstClass[n]},${pairs.partnerClass[n]}`);
      },
    });
    expect([...seen]).toEqual(["3,7"]);
    expect(result.lastGain.some((g) => g !== 0)).toBe(true); // the gain is still computed
    model.dispose();
  });

  test("head-only fine-tuning refuses input mixing and the weighted label, naming the setting", async () => {
    const model = mlp();
    model.setWeights(start);
    const split = { labeled: data.labeled, validation: data.validation };
    await expect(finetune(model, split, { ...base("head-only"), mixing: "cutmix" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/^mixing "cutmix" mixes images: head-only/) });
    await expect(finetune(model, split, { ...base("head-only"), mixLabel: "weighted" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/^mix label "weighted"/) });
    await expect(finetune(model, split, { ...base("full"), mixing: "pixel" as never })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/unknown mixing "pixel"/) });
    model.dispose();
  });

  test("a fine-tune killed mid-way resumes and finishes with the same weights and diagnostics", async () => {
    const dir = mkdtempSync(join(tmpdir(), "selmix-finetune-"));
    const config = { ...base("full"), selectBest: true };
    const whole = mlp();
    whole.setWeights(start);
    const reference = await finetune(whole, { labeled: data.labeled, validation: data.validation }, config);
    const killed = mlp();
    killed.setWeights(start);
    const part = await finetune(killed, { labeled: data.labeled, validation: data.validation }, config, {
      checkpointDir: dir,
      diagnosticsPath: join(dir, "diagnostics.jsonl"),
      stopAfterStep: 70,
    });
    expect(part.completed).toBe(false);
    killed.dispose();
    const resumed = mlp(); // a fresh process would start from random weights: the checkpoint must restore them
    const result = await finetune(resumed, { labeled: data.labeled, validation: data.validation }, config, {
      checkpointDir: dir,
      diagnosticsPath: join(dir, "diagnostics.jsonl"),
    });
    expect(result.completed).toBe(true);
    expect(result.diagnostics.map((d) => d.objective)).toEqual(reference.diagnostics.map((d) => d.objective));
    expect(sameWeights(resumed.getWeights(), whole.getWeights())).toBe(true);
    whole.dispose();
    resumed.dispose();
  });
});
