import { createObjective } from "@selmix/metrics";
import { ADJUSTMENT_FORMAT, adjustedPredictions, adjustmentJson, fitPosthoc, logScores, PROBABILITY_FLOOR, parseAdjustment } from "@selmix/posthoc";
import { expect, test } from "vitest";

// Each region below is the `@example` of the export it is named after (pulled into the API docs with
// `{@includeCode ./examples.test.ts#name}`), so every documented example runs here.

test("fitPosthoc", () => {
  //#region fitPosthoc
  const scores = [0.9, 0.1, 0.8, 0.2, 0.6, 0.4, 0.7, 0.3]; // softmax probabilities, N×K row-major
  const labels = [0, 0, 1, 1];
  const fit = fitPosthoc(createObjective("mean-recall"), { scores, labels, numClasses: 2, space: "probabilities" });
  // fit.fit: { before: 0.5, after: 1, samples: 4 }; predict argmax(log p + fit.offsets)
  //#endregion fitPosthoc

  expect(fit.fit).toEqual({ before: 0.5, after: 1, samples: 4 });
  expect(fit.kind).toBe("logit-offsets");
  expect(fit.offsets[1]! - fit.offsets[0]!).toBeGreaterThan(Math.log(0.7 / 0.3));
  expect(fit.offsets[1]! - fit.offsets[0]!).toBeLessThan(Math.log(0.6 / 0.4) + 2);
});

test("adjustedPredictions", () => {
  //#region adjustedPredictions
  const logits = [2, 1, 0.5, 1]; // N = 2, K = 2
  const plain = adjustedPredictions({ scores: logits, numClasses: 2 }, [0, 0]); // [0, 1]
  const shifted = adjustedPredictions({ scores: logits, numClasses: 2 }, [-1, 0.5]); // [1, 1]
  //#endregion adjustedPredictions

  expect(Array.from(plain)).toEqual([0, 1]);
  expect(Array.from(shifted)).toEqual([1, 1]);
  expect(() => adjustedPredictions({ scores: logits, numClasses: 2 }, [0])).toThrow(/expected K = 2 offsets/);
});

test("logScores", () => {
  //#region logScores
  const logs = logScores({ scores: [0.5, 0.5, 1, 0], numClasses: 2, space: "probabilities" });
  // [log 0.5, log 0.5, 0, log 1e-30]
  //#endregion logScores

  expect(Array.from(logs)).toEqual([Math.log(0.5), Math.log(0.5), 0, Math.log(1e-30)]);
});

test("PROBABILITY_FLOOR", () => {
  //#region PROBABILITY_FLOOR
  const floor = PROBABILITY_FLOOR; // 1e-30: log(0) would make a sample immune to every offset
  //#endregion PROBABILITY_FLOOR

  expect(floor).toBe(1e-30);
});

test("adjustmentJson", () => {
  //#region adjustmentJson
  const fit = fitPosthoc(createObjective("min-recall"), { scores: [2, 0, 1, 0.5], labels: [0, 1], numClasses: 2 });
  const text = adjustmentJson(fit); // {"format": "selmix-posthoc-adjustment", "version": 1, "kind": "logit-offsets", ...}
  //#endregion adjustmentJson

  const parsed = JSON.parse(text) as { format: string; offsets: number[] };
  expect(parsed.format).toBe(ADJUSTMENT_FORMAT);
  expect(parsed.offsets).toEqual(Array.from(fit.offsets));
});

test("parseAdjustment", () => {
  //#region parseAdjustment
  const fit = fitPosthoc(createObjective("g-mean"), { scores: [2, 0, 1, 0.5], labels: [0, 1], numClasses: 2 });
  const loaded = parseAdjustment(adjustmentJson(fit), "run/adjustment.json", 2); // the same offsets
  //#endregion parseAdjustment

  expect(Array.from(loaded.offsets)).toEqual(Array.from(fit.offsets));
  expect(() => parseAdjustment("{", "a.json")).toThrow(expect.objectContaining({ code: "PARSE_ERROR" }));
  expect(() => parseAdjustment("{}", "a.json")).toThrow(/a.json: not a post-hoc adjustment/);
  expect(() => parseAdjustment(adjustmentJson(fit), "a.json", 3)).toThrow(expect.objectContaining({ code: "MISMATCH" }));
});

test("ADJUSTMENT_FORMAT", () => {
  //#region ADJUSTMENT_FORMAT
  const tag = ADJUSTMENT_FORMAT; // "selmix-posthoc-adjustment", the format field of adjustment.json
  //#endregion ADJUSTMENT_FORMAT

  expect(tag).toBe("selmix-posthoc-adjustment");
});
