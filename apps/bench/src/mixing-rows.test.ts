import { describe, expect, it } from "vitest";
import { datasetsFor } from "./datasets.ts";
import { spreadPairs } from "./gain-fidelity.ts";
import { ablationRows, buildJobs, mixingRows } from "./jobs.ts";
import { profileSettings } from "./profiles.ts";
import { spearman } from "./stats.ts";

describe("mixing ablation rows", () => {
  it("every mode with SelMix and uniform pairs, full network, the profile's steps", () => {
    const settings = profileSettings("full");
    const dataset = datasetsFor("ablations", ["fashion-mnist"])[0]!;
    const rows = mixingRows(settings, "min-recall", 0, dataset);
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

  it("are a job of their own per seed, so the other ablation rows keep their job (and its finished result)", () => {
    const settings = profileSettings("full");
    const dataset = datasetsFor("ablations", ["fashion-mnist"])[0]!;
    const jobs = buildJobs({ table: "ablations", settings, seeds: 1, sources: ["fashion-mnist"] });
    expect(jobs).toHaveLength(2);
    const [classic, mixing] = [jobs.find((j) => j.rows.some((r) => r.id === "la"))!, jobs.find((j) => j.rows.some((r) => r.id.includes(":mixing-")))!];
    expect(classic.rows.some((r) => r.id.includes(":mixing-"))).toBe(false);
    expect(classic.rows.map((r) => r.id)).toEqual(["la", ...settings.ablationObjectives.flatMap((o) => ablationRows(settings, o, 0, dataset).map((r) => r.id))]);
    expect(mixing.pretrain).toEqual(classic.pretrain); // one cached pre-training
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
