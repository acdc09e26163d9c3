import { fc, test as property } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { arbConfusion, centralDifference, expectClose } from "../test/support.ts";
import { type ConfusionMatrix, clip, confusionMatrix, coverages, normalize, recalls } from "./confusion.ts";
import { metric } from "./metric.ts";
import { CONFUSION_CLIP } from "./objective.ts";
import { coverageMultipliers, createObjective, OBJECTIVE_NAMES } from "./objectives.ts";
import { pluginObjective } from "./plugin-objective.ts";
import { hMeanRecall, meanRecall } from "./recall-metrics.ts";

const code = (c: string) => expect.objectContaining({ code: c });
const balanced = confusionMatrix([
  [80, 10, 10],
  [30, 60, 10],
  [20, 20, 60],
]);

describe("min-recall multipliers", () => {
  test("default (beta = 0, omega = 50) is softmax(-50 * recall), no memory", () => {
    const { derivative, state, normalizer } = createObjective("min-recall").linearize(balanced);
    const r = recalls(balanced);
    const e = r.map((x) => Math.exp(-50 * x));
    const s = e.reduce((a, b) => a + b, 0);
    expectClose(state.multipliers!, e.map((x) => x / s));
    // D_ii = K * lambda_i, off-diagonal 0
    expectClose([derivative[0]!, derivative[4]!, derivative[1]!], [3 * state.multipliers![0]!, 3 * state.multipliers![1]!, 0]);
    expect(normalizer).toBe(1);
    // without memory the previous state changes nothing
    const again = createObjective("min-recall").linearize(balanced, { multipliers: Float64Array.of(0.9, 0.05, 0.05) });
    expectClose(again.state.multipliers!, state.multipliers!);
  });

  test("with memory the previous multipliers carry over", () => {
    const o = createObjective("min-recall", { memory: 1, rate: 1 });
    const first = o.linearize(balanced).state;
    const second = o.linearize(balanced, first).state;
    const r = recalls(balanced);
    const w = r.map((x) => Math.exp(-2 * x));
    const s = w.reduce((a, b) => a + b, 0);
    expectClose(second.multipliers!, w.map((x) => x / s), 1e-12, 1e-9);
  });

  test("rejects multipliers of the wrong length", () => {
    expect(() => createObjective("min-recall").linearize(balanced, { multipliers: new Float64Array(2) })).toThrow(code("INVALID_SHAPE"));
  });
});

describe("min-head-tail-recall", () => {
  test("spreads (lambda_h, lambda_t) over each group", () => {
    const o = createObjective("min-head-tail-recall", { split: { head: [0, 1], tail: [2] } });
    const { state } = o.linearize(balanced);
    const r = recalls(balanced);
    const head = (r[0]! + r[1]!) / 2;
    const tail = r[2]!;
    const lh = 1 / (1 + Math.exp(-50 * (tail - head)));
    expectClose(state.multipliers!, [lh / 2, lh / 2, 1 - lh]);
  });
});

describe("coverage multipliers", () => {
  test("saturating rule: deficit 0.005 gives about 39, 0.01 about 63, none when met", () => {
    const k = 10;
    const target = 0.95 / k;
    // Build a joint matrix whose column sums are target - 0.005, target - 0.01 and the rest equal.
    const cols = [target - 0.005, target - 0.01];
    const rest = (1 - cols[0]! - cols[1]!) / 8;
    const values = new Float64Array(k * k);
    const all = [...cols, ...Array(8).fill(rest)];
    for (let j = 0; j < k; j++) values[j * k + j] = all[j]!;
    const lambdas = coverageMultipliers({ numClasses: k, values }, 0.95, 0.01, 100);
    expect(lambdas[0]).toBeCloseTo(100 * (1 - Math.exp(-0.5)), 10); // 39.3
    expect(lambdas[1]).toBeCloseTo(100 * (1 - Math.exp(-1)), 10); // 63.2
    expect(lambdas[5]).toBe(0);
  });

  test("D = I + lambda_l per column and normaliser max(lambda) + 1", () => {
    const skewed = confusionMatrix([
      [90, 10, 0],
      [40, 60, 0],
      [45, 45, 10],
    ]);
    const { derivative, normalizer, state } = createObjective("mean-recall-min-coverage").linearize(skewed);
    const l = state.multipliers!;
    expect(l[2]).toBeGreaterThan(0);
    expect(normalizer).toBeCloseTo(Math.max(...l) + 1, 12);
    expectClose([derivative[0]!, derivative[1]!, derivative[2]!, derivative[8]!], [1 + l[0]!, l[1]!, l[2]!, 1 + l[2]!]);
  });
});

describe("reference derivative forms equal the analytic gradients", () => {
  property.prop([arbConfusion({ minCount: 1, maxClasses: 6 })])("h-mean and g-mean", (cm) => {
    const joint = normalize(cm);
    const at = clip(joint, CONFUSION_CLIP); // all entries >= 1 count, so clipping changes nothing
    for (const name of ["h-mean", "g-mean"] as const) {
      const d = createObjective(name).linearize(cm).derivative;
      expectClose(d, metric(name).gradient(at), 1e-9, 1e-7);
    }
  });
});

/** ψ with this refresh's multipliers frozen: what D must be the derivative of. */
function frozenPsi(name: (typeof OBJECTIVE_NAMES)[number], multipliers: Float64Array | null): (cm: ConfusionMatrix) => number {
  const weighted = (cm: ConfusionMatrix): number => recalls(cm).reduce((a, r, i) => a + multipliers![i]! * r, 0);
  const covered = (base: (cm: ConfusionMatrix) => number) => (cm: ConfusionMatrix) =>
    base(cm) + coverages(cm).reduce((a, c, j) => a + multipliers![j]! * c, 0);
  if (name === "min-recall" || name === "min-head-tail-recall") return weighted;
  if (name === "mean-recall-min-coverage") return covered(meanRecall);
  if (name === "h-mean-min-coverage") return covered(hMeanRecall);
  return createObjective(name).value;
}

/** D and the exact gradient may differ by a constant per row: the gain rate cancels exactly that when it uses the same prior. */
function expectEqualUpToRowConstants(d: Float64Array, exact: Float64Array, k: number): void {
  const scale = Math.max(...exact.map(Math.abs));
  for (let i = 0; i < k; i++) {
    const offset = d[i * k]! - exact[i * k]!;
    const row = Array.from({ length: k }, (_, j) => d[i * k + j]! - offset);
    expectClose(row, exact.subarray(i * k, (i + 1) * k), 1e-6 * scale, 1e-5);
  }
}

describe("prior-aware derivatives on imbalanced validation sets", () => {
  const imbalanced = confusionMatrix([
    [50, 3, 2],
    [4, 20, 1],
    [1, 1, 3],
  ]);

  test("mean recall: D = diag(1/(K pi_i)) under the validation prior, I under the uniform one", () => {
    const joint = normalize(imbalanced);
    const pi = [55 / 85, 25 / 85, 5 / 85];
    const d = createObjective("mean-recall").linearize(imbalanced, undefined, { prior: "validation" }).derivative;
    expectClose([d[0]!, d[4]!, d[8]!, d[1]!], [1 / (3 * pi[0]!), 1 / (3 * pi[1]!), 1 / (3 * pi[2]!), 0]);
    expect(Array.from(createObjective("mean-recall").linearize(joint).derivative)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });

  test("min recall: D_ii = lambda_i / pi_i", () => {
    const { derivative: d, state } = createObjective("min-recall").linearize(imbalanced, undefined, { prior: "validation" });
    const l = state.multipliers!;
    expectClose([d[0]!, d[4]!, d[8]!], [(l[0]! * 85) / 55, (l[1]! * 85) / 25, (l[2]! * 85) / 5]);
  });

  test("a class without validation samples has no prior", () => {
    const empty = confusionMatrix([
      [5, 0],
      [0, 0],
    ]);
    expect(() => createObjective("mean-recall").linearize(empty, undefined, { prior: "validation" })).toThrow(code("EMPTY_CLASS"));
  });

  property.prop([arbConfusion({ minCount: 1, maxClasses: 6 }), fc.constantFrom(...OBJECTIVE_NAMES)])(
    "every built-in D equals the finite-difference gradient of psi up to row constants",
    (cm, name) => {
      const joint = normalize(cm);
      const lin = createObjective(name).linearize(joint, undefined, { prior: "validation" });
      const psi = frozenPsi(name, lin.state.multipliers);
      const minEntry = Math.min(...joint.values);
      expectEqualUpToRowConstants(lin.derivative, centralDifference(psi, joint, 1e-4 * minEntry), cm.numClasses);
    },
  );
});

describe("plug-in objectives", () => {
  property.prop([arbConfusion({ minCount: 1, maxClasses: 6 })])("numeric derivative equals the analytic gradient", (cm) => {
    for (const name of ["mean-recall", "h-mean", "g-mean", "accuracy", "macro-f1"] as const) {
      const m = metric(name);
      const d = pluginObjective({ name, psi: m.value }).linearize(cm).derivative;
      const g = m.gradient(normalize(cm));
      const s = Math.max(...g.map(Math.abs));
      expectClose(d, g, 1e-8 * s, 1e-6);
    }
  });

  test("value is psi of the joint matrix", () => {
    const o = pluginObjective({ name: "hm", psi: hMeanRecall });
    expect(o.value(balanced)).toBeCloseTo(hMeanRecall(balanced), 14);
  });

  test("a psi that is not finite is a coded error", () => {
    const o = pluginObjective({ name: "bad", psi: () => Number.NaN });
    expect(() => o.linearize(balanced)).toThrow(code("INVALID_VALUE"));
  });
});

describe("validation", () => {
  test("unknown objective", () => {
    expect(() => createObjective("max-recall" as never)).toThrow(code("INVALID_ARGUMENT"));
  });
  test.each([{ rate: -1 }, { memory: 2 }, { coverageTau: 0 }, { lambdaMax: Number.NaN }, { coverageAlpha: 1.5 }])("bad option %j", (opt) => {
    expect(() => createObjective("min-recall", opt)).toThrow(code("INVALID_VALUE"));
  });
  test("every built-in objective yields a K x K finite derivative and a normaliser >= 1", () => {
    for (const name of OBJECTIVE_NAMES) {
      const lin = createObjective(name).linearize(balanced);
      expect(lin.derivative).toHaveLength(9);
      expect(lin.derivative.every(Number.isFinite)).toBe(true);
      expect(lin.normalizer).toBeGreaterThanOrEqual(1);
    }
  });
  test("value of the coverage objective equals mean recall when every constraint holds", () => {
    const covered = confusionMatrix([[80, 10, 10], [10, 80, 10], [10, 10, 80]]);
    expect(createObjective("mean-recall-min-coverage").value(covered)).toBeCloseTo(meanRecall(covered), 14);
    expect(createObjective("mean-recall-min-coverage").value(balanced)).toBeLessThan(meanRecall(balanced));
  });
});

property.prop([arbConfusion({ maxClasses: 5 }), fc.constantFrom(...OBJECTIVE_NAMES)])("linearize never returns NaN", (cm, name) => {
  const lin = createObjective(name).linearize(cm);
  expect(lin.derivative.every(Number.isFinite)).toBe(true);
});
