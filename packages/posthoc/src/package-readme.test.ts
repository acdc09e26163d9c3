//#region readme
import { createObjective } from "@selmix/metrics";
import { adjustedPredictions, adjustmentJson, fitPosthoc, parseAdjustment } from "@selmix/posthoc";
//#endregion readme
import { expect, test } from "vitest";
import { expectReadmeExample } from "../../../test-support/readme-example.ts";

test("the README example runs and gives the documented numbers", () => {
  //#region readme
  // The validation set's logits (N×K, row-major) and labels: a head-biased model never predicts classes 1 and 2 right
  const logits = [2.0, 0.5, 0.1, 1.5, 0.2, 0.3, 1.0, 1.2, 0.1, 0.8, 0.6, 0.0, 1.1, 0.3, 0.9, 0.9, 0.1, 0.7];
  const labels = [0, 0, 1, 1, 2, 2];

  // Per-class logit offsets that maximise min recall on this set: no training, a few line searches
  const fit = fitPosthoc(createObjective("min-recall"), { scores: logits, labels, numClasses: 3 });
  // fit.fit.before = 0 (argmax), fit.fit.after = 1; fit.offsets ≈ [-0.53, 0.26, 0.26], mean 0

  // At evaluation: argmax(logit + offset) (on probabilities: argmax p·exp(offset), with space: "probabilities")
  const predicted = adjustedPredictions({ scores: logits, numClasses: 3 }, fit.offsets); // [0, 0, 1, 1, 2, 2]

  // Save and load (the CLI's adjustment.json)
  const again = parseAdjustment(adjustmentJson(fit), "adjustment.json", 3);
  //#endregion readme

  expect(fit.fit.before).toBe(0);
  expect(fit.fit.after).toBe(1);
  expect(Array.from(fit.offsets, (o) => Number(o.toFixed(2)))).toEqual([-0.53, 0.26, 0.26]);
  expect(Array.from(predicted)).toEqual([0, 0, 1, 1, 2, 2]);
  expect(Array.from(again.offsets)).toEqual(Array.from(fit.offsets));
  expect(again.fit).toEqual(fit.fit);
});

test("the README example is the tested code", () => {
  expectReadmeExample(new URL("../", import.meta.url));
});
