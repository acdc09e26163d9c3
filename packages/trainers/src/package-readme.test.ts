import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
//#region readme
import { createManifest, loadSource, resolveProfile, splitsFromManifest } from "@selmix/datasets";
import { createModel, initBackend } from "@selmix/models";
import { DEFAULT_PRETRAIN_CONFIG, defaultFinetuneConfig, evaluate, finetune, pretrain } from "@selmix/trainers";
//#endregion readme
import { afterAll, beforeAll, expect, test } from "vitest";
import { expectReadmeExample } from "../../../test-support/readme-example.ts";

// The example writes runs/la and runs/selmix relative to the working directory: run it in a scratch one.
const home = process.cwd();
const scratch = mkdtempSync(join(tmpdir(), "selmix-trainers-readme-"));
beforeAll(() => process.chdir(scratch));
afterAll(() => {
  process.chdir(home);
  rmSync(scratch, { recursive: true, force: true });
});

test("the README example runs: a tiny MNIST-LT run, LA pre-training then SelMix head-only", async () => {
  //#region readme
  await initBackend({ name: "wasm" }); // or initBackend(): the first backend that starts
  const source = await loadSource("mnist");
  const profile = resolveProfile("supervised", { n1: 200, rho: 10, valPerClass: 20 }); // a small MNIST-LT
  const splits = splitsFromManifest(source, createManifest(source, profile, 0));
  const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const pre = await pretrain(model, splits.labeled, splits.validation, {
    ...DEFAULT_PRETRAIN_CONFIG, method: "la", steps: 50, evalEvery: 50,
  }, { checkpointDir: "runs/la" });
  const result = await finetune(model, { labeled: splits.labeled, validation: splits.validation }, {
    ...defaultFinetuneConfig("min-recall", "head-only"), steps: 100, lr: 0.01, temperatureScale: "spread", temperature: 0.5,
  }, { checkpointDir: "runs/selmix", diagnosticsPath: "runs/selmix/diagnostics.jsonl" });
  const onTest = await evaluate(model, splits.test.dataset, splits.test.indices);
  //#endregion readme

  expect(pre.bestStep).toBe(50);
  expect(pre.history.map((h) => h.step)).toEqual([50]);
  expect(result.stepsRun).toBe(100);
  // selection on the validation set never keeps weights worse than the pre-trained start
  expect(result.selectedObjective).toBeGreaterThanOrEqual(pre.bestValidation.minRecall - 1e-12);
  expect(result.diagnostics.length).toBeGreaterThanOrEqual(2);
  expect(result.lastDistribution.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  for (const file of ["la/best.ckpt", "la/last.ckpt", "selmix/best.ckpt", "selmix/last.ckpt"]) {
    expect(existsSync(join(scratch, "runs", file)), file).toBe(true);
  }
  const lines = readFileSync(join(scratch, "runs/selmix/diagnostics.jsonl"), "utf8").trim().split("\n");
  expect(lines).toHaveLength(result.diagnostics.length);
  const { metrics } = onTest;
  expect(metrics.recall).toHaveLength(10);
  expect(metrics.minRecall).toBeLessThanOrEqual(metrics.meanRecall);
  expect(metrics.meanRecall).toBeGreaterThan(0.5); // 50 steps already learn most digits
});

test("the README example is the tested code", () => {
  expectReadmeExample(new URL("../", import.meta.url));
});
