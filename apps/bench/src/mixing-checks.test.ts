import { describe, expect, it } from "vitest";
import type { AggregatedRow, Cell } from "./aggregate.ts";
import { COLUMNS } from "./columns.ts";
import { datasetsFor } from "./datasets.ts";
import { spreadPairs } from "./gain-fidelity.ts";
import { ablationRows } from "./jobs.ts";
import { describeMixing, mixingChecks } from "./mixing-checks.ts";
import { profileSettings } from "./profiles.ts";
import { spearman, std } from "./stats.ts";

const cell = (values: number[]): Cell => ({ mean: values.reduce((a, b) => a + b, 0) / values.length, std: std(values), values });
const row = (id: string, minRecall: number[]): AggregatedRow =>
  ({
    id,
    label: id,
    objective: id.split(":")[0] as AggregatedRow["objective"],
    cells: Object.fromEntries(COLUMNS.map((c) => [c.key, cell(c.key === "minRecall" ? minRecall : [80, 80, 80])])),
  }) as unknown as AggregatedRow;

describe("mixing ablation rows", () => {
  it("every mode with SelMix and uniform pairs, full network, the profile's steps", () => {
    const settings = profileSettings("full");
    const dataset = datasetsFor("ablations", ["fashion-mnist"])[0]!;
    const rows = ablationRows(settings, "min-recall", 0, dataset).filter((r) => r.id.includes(":mixing-"));
    expect(rows.map((r) => r.id)).toEqual([
      "min-recall:mixing-feature",
      "min-recall:mixing-feature-uniform",
      "min-recall:mixing-input-mixup",
      "min-recall:mixing-input-mixup-uniform",
      "min-recall:mixing-cutmix",
      "min-recall:mixing-cutmix-uniform",
      "min-recall:mixing-feature+cutmix",
      "min-recall:mixing-feature+cutmix-uniform",
    ]);
    const configs = rows.map((r) => r.candidates![0]!);
    expect(configs.every((c) => c.mode === "full" && c.steps === settings.mixing("min-recall", 0, dataset).steps)).toBe(true);
    expect(configs.map((c) => c.policy)).toEqual(["selmix", "uniform", "selmix", "uniform", "selmix", "uniform", "selmix", "uniform"]);
    expect(configs.map((c) => c.mixing ?? "feature")).toEqual(["feature", "feature", "input-mixup", "input-mixup", "cutmix", "cutmix", "feature+cutmix", "feature+cutmix"]);
    expect("mixing" in configs[0]!).toBe(false); // feature mixing keeps the config (and job hash) of before
  });
});

describe("mixing verdicts", () => {
  it("compares each input mode with feature mixup and SelMix pairs with uniform pairs", () => {
    const rows = [
      row("min-recall:mixing-feature", [60, 61, 62]),
      row("min-recall:mixing-feature-uniform", [55, 56, 57]),
      row("min-recall:mixing-cutmix", [63, 64, 65]),
      row("min-recall:mixing-cutmix-uniform", [62, 64, 66]),
    ];
    const lines = mixingChecks(rows).map(describeMixing);
    expect(lines).toEqual([
      "Feature mixup (min recall), SelMix pairs 61.00 ± 1.00; vs uniform pairs 56.00 ± 1.00: +5.00 points (a real gap), SelMix's pairs pay off: yes",
      "CutMix (min recall), SelMix pairs 64.00 ± 1.00; vs feature mixup 61.00 ± 1.00: +3.00 points (a real gap), helps: yes; vs uniform pairs 64.00 ± 2.00: +0.00 points (within one std of each other), SelMix's pairs pay off: no",
    ]);
  });
});

describe("gain fidelity helpers", () => {
  it("spearman: 1 for any increasing map, −1 reversed, ties get average ranks", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 400])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks x 1..4, y (1.5, 1.5, 3, 4): Pearson of the ranks
    expect(spearman([1, 2, 3, 4], [0, 0, 1, 2])).toBeCloseTo(4.5 / Math.sqrt(5 * 4.5), 12);
    expect(spearman([1, 2, 3], [5, 5, 5])).toBeNaN();
  });

  it("spreadPairs takes the highest, the lowest and evenly spaced ranks between", () => {
    const gain = Float64Array.of(0.5, -1, 2, 0, 1);
    expect(spreadPairs(gain, 3)).toEqual([2, 0, 1]); // ranks 0, 2, 4 of (2, 1, 0.5, 0, -1) at indices (2, 4, 0, 3, 1)
    expect(spreadPairs(gain, 9)).toEqual([2, 4, 0, 3, 1]);
  });
});
