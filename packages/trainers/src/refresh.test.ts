import { classPrototypes, gainMatrix } from "@selmix/gain";
import { confusionFromPredictions, createObjective, recalls, softConfusion } from "@selmix/metrics";
import { describe, expect, test } from "vitest";
import { headPredict } from "./linear-head.ts";
import { type GainSwitches, refreshPolicy } from "./refresh.ts";

// An imbalanced validation set (6 / 3 / 1 samples) of K = 3 classes with 2-D features.
const head = { numClasses: 3, dim: 2, weight: Float64Array.of(1, 0, 0, 1, -0.5, -0.5), bias: Float64Array.of(0.4, 0, -0.2) };
const labels = Int32Array.of(0, 0, 0, 0, 0, 0, 1, 1, 1, 2);
const features = Float32Array.of(1, 0, 0.9, 0.2, 0.8, -0.1, 0.7, 0.3, 0.4, 0.5, 1.1, 0.1, 0.2, 0.9, 0.5, 0.6, 0.1, 1, -0.6, -0.4);
const view = { labels, features, ...headPredict(head, features) };

function refreshGain(gain: GainSwitches) {
  const settings = { policy: "selmix", lambdaMin: 0.6, temperature: 0.1, temperatureScale: "absolute", gain } as const;
  return refreshPolicy(0, view, head, 3, 2, createObjective("min-recall"), undefined, settings);
}

describe("each gain switch reaches the gain on its own", () => {
  const switches: GainSwitches[] = [];
  for (const confusion of ["argmax", "soft"] as const) {
    for (const targetTerm of ["reference", "exact"] as const) {
      for (const prior of ["uniform", "validation"] as const) switches.push({ confusion, targetTerm, prior });
    }
  }

  test.each(switches)("%j equals gainMatrix on the same confusion matrix and options", (s) => {
    const cm = s.confusion === "soft" ? softConfusion(labels, view.probabilities, 3) : confusionFromPredictions(labels, view.predicted, 3);
    const expected = gainMatrix(
      { confusion: cm, prototypes: classPrototypes(features, labels, 3, 2), weights: head.weight, bias: head.bias, dim: 2, objective: createObjective("min-recall") },
      { lambdaMin: 0.6, targetTerm: s.targetTerm, prior: s.prior },
    );
    const r = refreshGain(s);
    expect(Array.from(r.gain)).toEqual(Array.from(expected.gain));
    // the multipliers come from the matrix the gain is linearised at; the diagnostics from the arg-max one
    expect(Array.from(r.state.multipliers!)).toEqual(Array.from(expected.linearization.state.multipliers!));
    expect(r.diagnostics.recall).toEqual(Array.from(recalls(confusionFromPredictions(labels, view.predicted, 3))));
  });

  test("all eight combinations give different gains", () => {
    const gains = new Set(switches.map((s) => Array.from(refreshGain(s).gain).join(",")));
    expect(gains.size).toBe(8);
  });
});
