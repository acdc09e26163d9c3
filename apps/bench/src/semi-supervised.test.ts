import { describe, expect, it } from "vitest";
import { aggregate, describeUnlabelled } from "./aggregate.ts";
import { semiSupervisedDatasets } from "./datasets.ts";
import { buildJobs } from "./jobs.ts";
import { fixMatchVariantLabel } from "./labels.ts";
import { renderMarkdown } from "./markdown.ts";
import { profileSettings } from "./profiles.ts";
import type { JobResult, RowResult } from "./types.ts";

describe("semi-supervised jobs", () => {
  it("add ERM and LA (labelled only) on the same split, backbone and selection, for a budget the description states", () => {
    for (const profile of ["quick", "full", "paper"] as const) {
      const settings = profileSettings(profile);
      const jobs = buildJobs({ table: "semi-supervised", settings, seeds: 1, sources: ["fashion-mnist"] });
      const fixmatch = jobs.find((j) => j.rows.some((r) => r.id === "fixmatch-la"))!;
      for (const [method, id, label] of [
        ["erm", "erm-labelled", "ERM (labelled only)"],
        ["la", "la-labelled", "LA (labelled only)"],
      ] as const) {
        const per = jobs.filter((j) => j.rows.some((r) => r.id === id));
        expect(per).toHaveLength(semiSupervisedDatasets("fashion-mnist").length); // one per setting
        const job = per.find((j) => j.dataset.id === fixmatch.dataset.id)!;
        expect(job.rows).toEqual([{ id, label }]);
        expect(job.pretrain.kind).toBe("supervised");
        expect(job.pretrain.config.method).toBe(method);
        expect(job.dataset).toEqual(fixmatch.dataset);
        expect(job.model).toBe(fixmatch.model);
        expect(settings.description).toContain(`${job.pretrain.config.steps} steps`);
        expect(job.pretrain.config.selectBy).toBe(fixmatch.pretrain.config.selectBy);
        expect(job.pretrain.config.evalEvery).toBe(fixmatch.pretrain.config.evalEvery);
      }
    }
  });

  it("warm-start FixMatch-LA from the LA (labelled only) model of the same table when the profile says so", () => {
    const jobs = buildJobs({ table: "semi-supervised", settings: profileSettings("full"), seeds: 1, sources: ["fashion-mnist"] });
    const fixmatchLa = jobs.find((j) => j.rows.some((r) => r.id === "fixmatch-la"))!;
    const laLabelled = jobs.find((j) => j.dataset.id === fixmatchLa.dataset.id && j.rows.some((r) => r.id === "la-labelled"))!;
    expect(fixmatchLa.pretrain.kind === "fixmatch" && fixmatchLa.pretrain.warmStart).toEqual(laLabelled.pretrain.config); // one cache entry
    const fixmatchPadding = fixmatchLa.pretrain.kind === "fixmatch" ? fixmatchLa.pretrain.config.padding : undefined;
    expect(fixmatchPadding).toBe(1); // the partner pool's weak view is FixMatch's: a ±1-pixel shift on 28x28 images
    expect(fixmatchLa.rows.filter((r) => r.candidates !== undefined).every((r) => r.candidates!.every((c) => c.partnerView === "weak" && c.padding === fixmatchPadding))).toBe(true);
    // --max-steps caps the warm start like the row it equals
    const limited = buildJobs({ table: "semi-supervised", settings: profileSettings("full"), seeds: 1, sources: ["fashion-mnist"], limits: { maxSteps: 7 } });
    const limitedFm = limited.find((j) => j.rows.some((r) => r.id === "fixmatch-la"))!;
    const limitedLa = limited.find((j) => j.dataset.id === limitedFm.dataset.id && j.rows.some((r) => r.id === "la-labelled"))!;
    expect(limitedFm.pretrain.kind === "fixmatch" && limitedFm.pretrain.warmStart).toEqual(limitedLa.pretrain.config);
    expect(limitedLa.pretrain.config.steps).toBe(7);
    expect(limitedFm.pretrain.kind === "fixmatch" && limitedFm.pretrain.alternatives!.map((a) => a.steps)).toEqual([7, 7]); // and its alternatives
    const paper = buildJobs({ table: "semi-supervised", settings: profileSettings("paper"), seeds: 1, sources: ["cifar10"] });
    expect(paper.every((j) => j.pretrain.kind !== "fixmatch" || j.pretrain.warmStart === undefined)).toBe(true);
  });

  it("try x1 from the labelled split and from labelled + unlabelled in the semi-supervised SelMix and resampling rows (CPU profiles only)", () => {
    const pools = (r: { candidates?: readonly { firstPool?: string }[] }): string[] => (r.candidates ?? []).map((c) => c.firstPool ?? "labeled");
    for (const profile of ["quick", "full"] as const) {
      const semi = buildJobs({ table: "semi-supervised", settings: profileSettings(profile), seeds: 1, sources: ["fashion-mnist"] });
      const rows = semi.flatMap((j) => j.rows).filter((r) => /\+(selmix|resampling):/.test(r.id));
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(pools(r)).toEqual(["labeled", "labeled+unlabeled"]);
      const supervised = buildJobs({ table: "supervised", settings: profileSettings(profile), seeds: 1, sources: ["fashion-mnist"] });
      for (const r of supervised.flatMap((j) => j.rows)) expect(pools(r).every((p) => p === "labeled")).toBe(true);
    }
    const paper = buildJobs({ table: "semi-supervised", settings: profileSettings("paper"), seeds: 1, sources: ["cifar10"] });
    for (const r of paper.flatMap((j) => j.rows)) expect(pools(r).every((p) => p === "labeled")).toBe(true); // the reference's
  });

  it("try the uniform prior, plain and aligned, beside the estimated one for FixMatch-LA in the full profile (plain FixMatch has no prior)", () => {
    const jobs = buildJobs({ table: "semi-supervised", settings: profileSettings("full"), seeds: 1, sources: ["fashion-mnist"] });
    const starts = (id: string) => jobs.filter((j) => j.rows[0]!.id === id).map((j) => j.pretrain);
    for (const p of starts("fixmatch-la")) {
      if (p.kind !== "fixmatch") throw new Error("a FixMatch start");
      expect([p.config, ...(p.alternatives ?? [])].map(fixMatchVariantLabel)).toEqual(["estimated", "uniform", "uniform + alignment"]);
      // the alternatives differ in the prior and the alignment only
      for (const a of p.alternatives!) expect({ ...a, unlabeledPrior: p.config.unlabeledPrior, distributionAlignment: undefined }).toEqual({ ...p.config, distributionAlignment: undefined });
    }
    expect(starts("fixmatch").every((p) => p.kind === "fixmatch" && p.alternatives === undefined)).toBe(true);
    const quick = buildJobs({ table: "semi-supervised", settings: profileSettings("quick"), seeds: 1, sources: ["mnist"] });
    expect(quick.every((j) => j.pretrain.kind !== "fixmatch" || j.pretrain.alternatives === undefined)).toBe(true); // CI time
  });
});

describe("semi-supervised settings", () => {
  it("are the paper's three for every source, and on Fashion-MNIST also the scarcer-label (N1, M1) = (500, 4000)", () => {
    const ids = (source: Parameters<typeof semiSupervisedDatasets>[0]) => semiSupervisedDatasets(source).map((d) => d.id);
    expect(ids("mnist")).toEqual(["mnist-lt-u100", "mnist-lt-u1", "mnist-lt-u0.01"]);
    expect(ids("fashion-mnist")).toEqual([
      "fashion-mnist-lt-u100",
      "fashion-mnist-lt-u1",
      "fashion-mnist-lt-u0.01",
      "fashion-mnist-lt-n500-u100",
      "fashion-mnist-lt-n500-u1",
      "fashion-mnist-lt-n500-u0.01",
    ]);
    const scarce = semiSupervisedDatasets("fashion-mnist").slice(3).map((d) => d.options);
    expect(scarce).toEqual([
      { n1: 500, rho: 100, m1: 4000, rhoU: 100 },
      { n1: 500, rho: 100, m1: 4000, rhoU: 1 },
      { n1: 500, rho: 100, m1: 40, rhoU: 0.01 },
    ]);
  });
});

function row(id: string, label: string, seed: number, meanRecall: number, minRecall: number, objective?: RowResult["objective"]): RowResult {
  const recall = Array.from({ length: 10 }, (_, k) => (k === 0 ? minRecall : meanRecall));
  return {
    row: id,
    label,
    ...(objective === undefined ? {} : { objective }),
    dataset: "fashion-mnist-lt-u100",
    seed,
    model: "mlp",
    pretrainSteps: 1000,
    finetuneSteps: objective === undefined ? null : 100,
    stepsRun: null,
    pretrainHash: "0".repeat(16),
    configHash: "0".repeat(16),
    test: { accuracy: meanRecall, meanRecall, minRecall, hMean: meanRecall, gMean: meanRecall, minHeadTailRecall: minRecall, minCoverage: 0.1, recall },
    validationObjective: null,
    seconds: 1,
    cached: false,
    chosen: null,
    effectivePairs: null,
  };
}

describe("semi-supervised verdicts", () => {
  const dataset = semiSupervisedDatasets("fashion-mnist")[0]!;
  // `luck[seed]` shifts both rows of a seed alike (its labelled split), `fixmatchLuck[seed]` FixMatch-LA alone.
  const results = (fixmatchLa: number, selmixMin: number, luck = [0, 0], fixmatchLuck = [0, 0]): JobResult[] =>
    [0, 1].map((seed) => {
      const job = buildJobs({ table: "semi-supervised", settings: profileSettings("quick"), seeds: 1, sources: ["fashion-mnist"] })[0]!;
      return {
        format: "selmix-bench-job",
        version: 1,
        job: { ...job, dataset, seed },
        manifestId: "m",
        backend: "cpu",
        seconds: 1,
        finishedAt: "2026-01-01T00:00:00.000Z",
        rows: [
          row("la-labelled", "LA (labelled only)", seed, 0.8 + luck[seed]!, 0.4),
          row("erm-labelled", "ERM (labelled only)", seed, 0.7, 0.1),
          row("fixmatch-la", "FixMatch-LA", seed, fixmatchLa + luck[seed]! + fixmatchLuck[seed]!, 0.3),
          row("fixmatch-la+selmix:min-recall", "FixMatch-LA + SelMix (Min recall)", seed, 0.79, selmixMin, "min-recall"),
        ],
      };
    });

  it("says whether FixMatch-LA beats LA (labelled only) on mean recall", () => {
    const [win] = aggregate("semi-supervised", [dataset], results(0.83, 0.5));
    expect(win!.unlabelled).toMatchObject({ beats: true, withinNoise: false });
    expect(win!.unlabelled!.gain).toBeCloseTo(3, 9);
    expect(describeUnlabelled(win!.unlabelled!)).toBe(
      "FixMatch-LA vs LA (labelled only), test mean recall: 83.00 ± 0.00 vs 80.00 ± 0.00, +3.00 points (per seed, same labelled split: +3.00, +3.00; std 0.00); the unlabelled data pays off: yes",
    );
    const [loss] = aggregate("semi-supervised", [dataset], results(0.78, 0.5));
    expect(loss!.unlabelled!.beats).toBe(false);
    expect(describeUnlabelled(loss!.unlabelled!)).toContain("−2.00 points (per seed, same labelled split: −2.00, −2.00; std 0.00); the unlabelled data pays off: no");
  });

  it("pairs the seeds: a split's luck moves both rows and is not noise; a gain that changes sign with the seed is", () => {
    // Seed 1's labelled split is 6 points harder for both: the rows' stds are large, the per-seed gains equal.
    const [lucky] = aggregate("semi-supervised", [dataset], results(0.82, 0.5, [0, -0.06]));
    expect(lucky!.unlabelled).toMatchObject({ beats: true, withinNoise: false });
    expect(lucky!.unlabelled!.perSeed.map((g) => +g.toFixed(9))).toEqual([2, 2]);
    expect(lucky!.unlabelled!.semiSupervised.std + lucky!.unlabelled!.labelledOnly.std).toBeGreaterThan(2); // unpaired, this was noise
    // +4 on seed 0, -2 on seed 1: mean +1, spread 4.24.
    const [mixed] = aggregate("semi-supervised", [dataset], results(0.81, 0.5, [0, 0], [0.03, -0.03]));
    expect(mixed!.unlabelled!.withinNoise).toBe(true);
    expect(describeUnlabelled(mixed!.unlabelled!)).toContain("+4.00, −2.00; std 4.24); the unlabelled data pays off: not beyond noise (a paired t-test over the seeds)");
  });

  it("judges each SelMix row against every row, the labelled-only ones included", () => {
    const [lost] = aggregate("semi-supervised", [dataset], results(0.83, 0.35));
    expect(lost!.wins).toHaveLength(1);
    expect(lost!.wins[0]).toMatchObject({ wins: false, best: { label: "LA (labelled only)" } });
    const [won] = aggregate("semi-supervised", [dataset], results(0.83, 0.45));
    expect(won!.wins[0]!.wins).toBe(true);
    const md = renderMarkdown({
      format: "selmix-bench-table",
      version: 1,
      table: "semi-supervised",
      profile: "quick",
      command: "test",
      date: "2026-01-01T00:00:00.000Z",
      wallSeconds: 1,
      computeSeconds: 1,
      workers: 0,
      runs: [],
      description: "test",
      datasets: [won!],
      skipped: [],
      failed: [],
    });
    expect(md).toContain("- FixMatch-LA vs LA (labelled only), test mean recall: 83.00 ± 0.00 vs 80.00 ± 0.00");
    expect(md).toContain("(every row, the labelled-only baselines included)");
    expect(md).toContain("| LA (labelled only) |");
  });

  it("names the x1 pool that validation chose, per seed, in the SelMix row's provenance", () => {
    const pools = ["labeled+unlabeled", "labeled"] as const;
    const chosen = results(0.83, 0.45).map((r, seed) => ({
      ...r,
      rows: r.rows.map((x) =>
        x.objective === undefined
          ? x
          : { ...x, chosen: { mode: "head-only", policy: "selmix", gainVariant: "reference", temperature: 0.5, temperatureScale: "spread", lr: 0.01, objective: "min-recall", firstPool: pools[seed] } } as RowResult,
      ),
    }));
    const [t] = aggregate("semi-supervised", [dataset], chosen);
    const selmix = t!.rows.find((r) => r.id === "fixmatch-la+selmix:min-recall")!;
    expect(selmix.firstPoolChosen).toBe("labelled + unlabelled ×1, labelled ×1");
    expect(t!.rows.find((r) => r.id === "fixmatch-la")!.firstPoolChosen).toBeNull();
  });
});
