import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommandLine } from "@selmix/core/node";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { AggregatedRow, Cell } from "./aggregate.ts";
import { COLUMNS } from "./columns.ts";
import { competitorChecks, describeCompetitors } from "./competitors.ts";
import { describeMixing, mixingChecks } from "./mixing-checks.ts";
import { buildProgram } from "./program.ts";
import type { TableDocument } from "./document.ts";
import { canonicalJson } from "./hash.ts";
import { TABLE_OBJECTIVES } from "./profiles.ts";
import { updateReadme } from "./readme.ts";
import { std } from "./stats.ts";
import { runTable } from "./table-command.ts";
import { SUPERVISED_ROW_IDS } from "./testing/row-ids.ts";
import { shrinkJobs } from "./testing/shrink-jobs.ts";
import type { Job } from "./types.ts";

const out = mkdtempSync(join(tmpdir(), "selmix-bench-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The quick profile's jobs, shrunk: 500 labelled images of class 0, 50 validation images per class, 40 steps. */
const shrink = (jobs: Job[]): Job[] => shrinkJobs(jobs, { split: { n1: 500, rho: 10, valPerClass: 50 }, pretrainSteps: 40, finetuneSteps: 40, refreshEvery: 20 });

describe("bench supervised, quick profile (structure, not numbers)", () => {
  it("runs the jobs in-process and writes the table as Markdown, JSON and SVG", async () => {
    const doc = await runTable({
      table: "supervised",
      profile: "quick",
      sources: ["mnist"],
      out,
      workers: 0,
      command: "test",
      transformJobs: shrink,
      log: () => {},
    });
    expect(doc.datasets).toHaveLength(1);
    const t = doc.datasets[0]!;
    const ids = t.rows.map((r) => r.id);
    expect(ids).toEqual(SUPERVISED_ROW_IDS);
    for (const r of t.rows) {
      expect(r.seeds).toEqual([0]);
      expect(r.perSeed[0]!.model).toBe("mlp");
      expect(r.perSeed[0]!.configHash).toMatch(/^[0-9a-f]{16}$/);
      for (const c of COLUMNS) expect(r.cells[c.key].values).toHaveLength(1);
    }
    expect(t.wins.map((w) => w.objective)).toEqual([...TABLE_OBJECTIVES]);
    // Post-hoc rows never lower the validation objective of the model they adjust.
    const rowOf = (id: string) => t.rows.find((r) => r.id === id)!.perSeed[0]!;
    for (const o of TABLE_OBJECTIVES) {
      const posthoc = rowOf(`la+posthoc:${o}`).posthoc!;
      expect(posthoc.validationAfter).toBeGreaterThanOrEqual(posthoc.validationBefore);
      const after = rowOf(`la+selmix+posthoc:${o}`);
      expect(after.posthoc!.from).toBe(`la+selmix:${o}`);
      // The SelMix model's validation objective is where the combination starts.
      expect(after.posthoc!.validationBefore).toBeCloseTo(rowOf(`la+selmix:${o}`).validationObjective!, 12);
      expect(rowOf(`la+resampling:${o}`).chosen!.policy).toBe("resampling");
    }
    expect(t.competitors.map((c) => c.objective)).toEqual([...TABLE_OBJECTIVES]);
    expect(t.competitors.every((c) => c.entries.map((e) => e.kind).join() === "selmix,posthoc,resampling,selmix+posthoc")).toBe(true);

    const dir = join(out, "quick");
    const json = JSON.parse(readFileSync(join(dir, "supervised.json"), "utf8")) as TableDocument;
    expect(json.datasets[0]!.rows[3]!.perSeed[0]!.seed).toBe(0);
    const md = readFileSync(join(dir, "supervised.md"), "utf8");
    expect(md).toContain(`| Method | ${COLUMNS.map((c) => c.header).join(" | ")} | Model · steps · seeds |`);
    expect(md.split("\n").filter((l) => l.startsWith("| LA + SelMix ("))).toHaveLength(TABLE_OBJECTIVES.length);
    expect(md.split("\n").filter((l) => l.startsWith("| LA + post-hoc ("))).toHaveLength(TABLE_OBJECTIVES.length);
    expect(md.split("\n").filter((l) => l.startsWith("| LA + resampling ("))).toHaveLength(TABLE_OBJECTIVES.length);
    expect(md.split("\n").filter((l) => l.startsWith("| LA + SelMix + post-hoc ("))).toHaveLength(TABLE_OBJECTIVES.length);
    expect(md).toContain("- min recall (Min rec.), from la: SelMix ");
    expect(readFileSync(join(dir, "supervised-mnist-lt.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    expect(readdirSync(join(dir, "supervised", "jobs"))).toHaveLength(2);

    // A second run finds every job done and only re-aggregates.
    const again = await runTable({ table: "supervised", profile: "quick", sources: ["mnist"], out, workers: 0, command: "test", transformJobs: shrink, log: () => {} });
    expect(again.computeSeconds).toBe(doc.computeSeconds);
  });
});

describe("helpers", () => {
  it("canonical JSON sorts keys at every level", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}');
  });

  it("rewrites only the marked README section", () => {
    const path = join(out, "README.md");
    writeFileSync(path, "top\n<!-- bench:x:start -->\nold\n<!-- bench:x:end -->\nbottom\n");
    updateReadme(path, "x", "new table\n");
    expect(readFileSync(path, "utf8")).toBe("top\n<!-- bench:x:start -->\nnew table\n<!-- bench:x:end -->\nbottom\n");
    expect(() => updateReadme(path, "y", "z")).toThrow(/markers/);
  });
});

describe("competitor verdicts", () => {
  const cell = (values: number[]): Cell => ({ mean: values.reduce((a, b) => a + b, 0) / values.length, std: std(values), values, seeds: values.map((_, i) => i) });
  // the objective is the part after ":" of a `la+...:<objective>` id, the part before it of an ablation row's id
  const row = (id: string, minRecall: number[], minCoverage = [9, 9, 9]): AggregatedRow =>
    ({
      id,
      label: id,
      objective: (id.startsWith("la+") ? (id.split(":")[1] ?? "min-recall") : id.split(":")[0]) as AggregatedRow["objective"],
      cells: Object.fromEntries(COLUMNS.map((c) => [c.key, cell(c.key === "minCoverage" ? minCoverage : c.key === "minRecall" ? minRecall : [80, 80, 80])])),
    }) as unknown as AggregatedRow;

  it("compares SelMix with post-hoc and resampling, saying when a gap is within noise (seed by seed)", () => {
    const rows = [
      row("la+selmix:min-recall", [70, 72, 74]),
      row("la+posthoc:min-recall", [60, 61, 62]),
      // one point above SelMix on every seed: real, though the stds overlap
      row("la+resampling:min-recall", [71, 73, 75]),
      // +4, −1, +3 over SelMix: a mean of +2 that the per-seed spread (2.65) does not support
      row("la+selmix+posthoc:min-recall", [74, 71, 77]),
    ];
    const [check] = competitorChecks(rows, 10);
    expect(describeCompetitors(check!)).toBe(
      "min recall (Min rec.), from la: SelMix 72.00 ± 2.00, post-hoc 61.00 ± 1.00, resampling 73.00 ± 2.00, SelMix + post-hoc 74.00 ± 3.00. " +
        "SelMix vs post-hoc: better by 11.00 (a real gap); SelMix vs resampling: worse by 1.00 (a real gap); post-hoc after SelMix: better by 2.00 (within noise).",
    );
    // without seeds to pair by, the stds decide: one point is within them
    const withoutSeeds = ({ seeds: _seeds, ...c }: Cell): Cell => c;
    const unpaired = rows.map((r) => ({ ...r, cells: Object.fromEntries(Object.entries(r.cells).map(([k, c]) => [k, withoutSeeds(c)])) }) as unknown as AggregatedRow);
    expect(describeCompetitors(competitorChecks(unpaired, 10)[0]!)).toContain("SelMix vs resampling: worse by 1.00 (within noise)");
  });

  it("mixing: each input mode vs feature mixup, SelMix pairs vs uniform pairs", () => {
    const rows = [
      row("min-recall:mixing-feature", [60, 61, 62]),
      row("min-recall:mixing-feature-uniform", [55, 56, 57]),
      row("min-recall:mixing-cutmix", [63, 64, 65]),
      row("min-recall:mixing-cutmix-uniform", [62, 64, 66]),
    ];
    expect(mixingChecks(rows).map(describeMixing)).toEqual([
      "Feature mixup (min recall), SelMix pairs 61.00 ± 1.00; vs uniform pairs 56.00 ± 1.00: +5.00 points (a real gap), SelMix's pairs pay off: yes",
      "CutMix (min recall), SelMix pairs 64.00 ± 1.00; vs feature mixup 61.00 ± 1.00: +3.00 points (a real gap), helps: yes; vs uniform pairs 64.00 ± 2.00: +0.00 points (within noise), SelMix's pairs pay off: not beyond noise",
    ]);
  });

  it("a row that meets the coverage target beats one that does not", () => {
    const rows = [row("la+selmix:mean-recall-min-coverage", [0], [10, 10, 10]), row("la+posthoc:mean-recall-min-coverage", [0], [5, 5, 5])];
    expect(describeCompetitors(competitorChecks(rows, 10)[0]!)).toContain("SelMix vs post-hoc: better (only it meets the coverage target)");
  });
});

describe("bench command line errors", () => {
  it("are one coded line: USAGE with exit code 2 for a malformed flag or an unknown command before --help", async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    const previous = process.exitCode;
    try {
      await runCommandLine(buildProgram(), ["supervised", "--workers", "two"]);
      expect(process.exitCode).toBe(2);
      await runCommandLine(buildProgram(), ["supervize", "--help"]);
      expect(process.exitCode).toBe(2);
    } finally {
      process.exitCode = previous;
    }
    expect(lines).toEqual([
      "bench: USAGE: option '--workers <n>' argument 'two' is invalid. not a non-negative integer. (see --help)\n",
      "bench: USAGE: unknown command 'supervize' for 'bench' (commands: supervised, semi-supervised, ablations, text, speed, gain-fidelity, worker)\n",
    ]);
  });
});
