import { createManifest, loadSource, resolveProfile, type Splits, splitsFromManifest } from "@selmix/datasets";
import { createModel, initBackend, type Model } from "@selmix/models";
import { beforeAll, expect, test } from "vitest";
import { DEFAULT_FIXMATCH_CONFIG, pretrainFixMatch } from "./fixmatch.ts";
import { DEFAULT_PRETRAIN_CONFIG, pretrain } from "./pretrain.ts";

let data: Splits;
const mlp = (): Model => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });

beforeAll(async () => {
  await initBackend({ name: "wasm" });
  const source = await loadSource("mnist");
  // The regime semi-supervised learning is for: 10 labelled images per class, 200 unlabelled per class.
  const params = resolveProfile("semi-supervised", { n1: 10, rhoL: 1, m1: 200, rhoU: 1, valPerClass: 30 });
  data = splitsFromManifest(source, createManifest(source, params, 0));
});

// Measured (wasm, seed 0): LA (labelled only) 73.3, FixMatch-LA 79.0, FixMatch-LA with λ_u = 0 73.3 validation mean
// recall. If the unlabelled branch stops teaching (a broken mask, pseudo-label, strong view or loss weight), the
// FixMatch-LA run falls back to the labelled-only number and this fails.
test("FixMatch-LA learns from the unlabelled data: same budget, validation mean recall 2 points above LA (labelled only)", async () => {
  const budget = { steps: 200, evalEvery: 50, lr: 0.05, schedule: "cosine" as const, seed: 0 };
  const la = mlp();
  const labelledOnly = await pretrain(la, data.labeled, data.validation, { ...DEFAULT_PRETRAIN_CONFIG, method: "la", ...budget });
  la.dispose();
  const fm = mlp();
  const semi = await pretrainFixMatch(fm, data.labeled, data.unlabeled, data.validation, {
    ...DEFAULT_FIXMATCH_CONFIG,
    method: "fixmatch-la",
    ...budget,
    threshold: 0.8,
    padding: 0,
    flip: false,
  });
  fm.dispose();
  expect(semi.history.at(-1)!.maskRate).toBeGreaterThan(0);
  expect(semi.bestValidation.meanRecall).toBeGreaterThanOrEqual(labelledOnly.bestValidation.meanRecall + 0.02);
}, 120_000);
