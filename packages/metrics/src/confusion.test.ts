import { describe, expect, test } from "vitest";
import { evaluateMetrics } from "./metric.ts";
import {
  columnSums,
  confusionFromPredictions,
  confusionMatrix,
  coverages,
  fromValues,
  normalize,
  recalls,
  softConfusion,
} from "./confusion.ts";

const code = (c: string) => expect.objectContaining({ code: c });

describe("confusionMatrix", () => {
  test("rows are true classes, columns predictions", () => {
    const cm = confusionFromPredictions([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3);
    expect(Array.from(cm.values)).toEqual([1, 1, 0, 0, 1, 0, 1, 0, 2]);
  });

  test("normalize gives the joint form summing to 1", () => {
    const joint = normalize(confusionMatrix([[6, 2], [1, 1]]));
    expect(Array.from(joint.values)).toEqual([0.6, 0.2, 0.1, 0.1]);
    expect(Array.from(columnSums(joint))).toEqual([0.7, 0.30000000000000004]);
  });

  test("recall and coverage", () => {
    const cm = confusionMatrix([[8, 2], [1, 4]]);
    expect(Array.from(recalls(cm))).toEqual([0.8, 0.8]);
    expect(Array.from(coverages(cm))).toEqual([9 / 15, 6 / 15]);
  });

  test.each([
    [[[1, 2, 3], [4, 5, 6]], "INVALID_SHAPE"],
    [[[1]], "INVALID_SHAPE"],
    ["not an array", "INVALID_SHAPE"],
    [[[1, 2], [3]], "INVALID_SHAPE"],
    [[[1, Number.NaN], [3, 4]], "INVALID_VALUE"],
    [[[1, -2], [3, 4]], "INVALID_VALUE"],
    [[[1, "2"], [3, 4]], "INVALID_VALUE"],
    [[[0, 0], [0, 0]], "INVALID_VALUE"],
  ])("rejects %j with %s", (rows, c) => {
    expect(() => confusionMatrix(rows)).toThrow(code(c));
  });

  test("error messages name the argument and the entry", () => {
    expect(() => confusionMatrix([[1, Number.POSITIVE_INFINITY], [3, 4]], "val")).toThrow("val[0][1] must be finite and >= 0, got Infinity");
  });

  test("an empty class has no recall", () => {
    expect(() => recalls(confusionMatrix([[0, 0], [1, 1]]))).toThrow(code("EMPTY_CLASS"));
  });

  test("predictions outside [0, K) are rejected", () => {
    expect(() => confusionFromPredictions([0, 3], [0, 1], 3)).toThrow(code("INVALID_VALUE"));
    expect(() => confusionFromPredictions([0], [0, 1], 3)).toThrow(code("INVALID_SHAPE"));
  });

  test("soft confusion sums probabilities per true class", () => {
    const cm = softConfusion([0, 1, 1], [0.9, 0.1, 0.2, 0.8, 0.5, 0.5], 2);
    expect(Array.from(cm.values)).toEqual([0.9, 0.1, 0.7, 1.3]);
  });

  test("counts near 1e308 whose sums overflow give the same metrics as small counts", () => {
    const huge = evaluateMetrics(confusionMatrix([[1.5e308, 1e307], [1e307, 1.5e308]]));
    const small = evaluateMetrics(confusionMatrix([[15, 1], [1, 15]]));
    expect(huge.recall).toEqual(small.recall);
    expect(huge.accuracy).toBeCloseTo(15 / 16, 15);
    expect(huge.meanRecall).toBe(small.meanRecall);
    expect(huge.coverage).toEqual(small.coverage);
  });

  test("fromValues checks the length", () => {
    expect(() => fromValues(3, [1, 2, 3])).toThrow(code("INVALID_SHAPE"));
  });
});
