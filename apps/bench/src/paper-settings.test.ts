import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { OBJECTIVE_NAMES } from "@selmix/metrics";
import { describe, expect, it } from "vitest";
import { datasetsFor } from "./datasets.ts";
import { buildJobs } from "./jobs.ts";
import { REFERENCE_SETTINGS, REFERENCE_SHARED, referenceTable, referenceTableMarkdown, referenceValues } from "./paper-settings.ts";
import { paperFinetune, profileSettings } from "./profiles.ts";
import { updateReadme } from "./readme.ts";
import { TABLE_NAMES } from "./types.ts";

const paper = profileSettings("paper");
/** Sections of the method notes (selmix-method.md) a source may cite. */
const SECTIONS = /§(2|3\.3|5\.1|5\.2|5\.3|5\.4|5\.5|6|10|12|13\.2)\b/;

describe("the paper profile's reference values (method notes sections 3, 5, 6)", () => {
  it.each([
    ["cifar100-lt-u10", "mean-recall", 1, 100, 3e-4],
    ["cifar100-lt-u10", "min-head-tail-recall", 0.05, 100, 3e-4],
    ["cifar10-lt-u0.01", "min-recall", 0.05, 100, 3e-4],
    ["cifar10-lt-u0.01", "mean-recall-min-coverage", 0.01, 1000, 1e-4],
    ["cifar10-lt-u0.01", "h-mean", 0.1, 100, 3e-4],
    ["cifar10-lt-u100", "min-recall", 0.1, 100, 3e-4],
    ["cifar10-lt-u1", "mean-recall-min-coverage", 0.1, 100, 3e-4],
    ["cifar10-lt", "mean-recall", 0.1, 100, 3e-4],
    ["cifar100-lt", "mean-recall", 1, 100, 3e-4],
    ["cifar100-lt-u10", "g-mean", 0.1, 100, 3e-4],
  ] as const)("%s %s: T = %d, lambda_max = %d, lr = %d", (setting, objective, temperature, lambdaMax, lr) => {
    expect(referenceValues(setting, objective)).toMatchObject({ temperature, lambdaMax, lr });
  });

  it("every value of every (setting, objective) cites a section of the method notes", () => {
    const table = referenceTable();
    expect(table).toHaveLength(REFERENCE_SETTINGS.length * OBJECTIVE_NAMES.length);
    for (const { values } of table) for (const source of Object.values(values.sources)) expect(source).toMatch(SECTIONS);
    for (const { source } of REFERENCE_SHARED) expect(source).toMatch(SECTIONS);
    for (const s of REFERENCE_SETTINGS) expect(s.basis).toMatch(SECTIONS);
  });

  it("covers exactly the CIFAR settings the paper profile runs", () => {
    const ids = new Set(TABLE_NAMES.flatMap((t) => datasetsFor(t, paper.sources[t]).map((d) => d.id)));
    expect(new Set(REFERENCE_SETTINGS.map((s) => s.id))).toEqual(ids);
  });

  it("a fine-tune config is the shared values plus its setting's T, lambda_max and lr", () => {
    for (const t of TABLE_NAMES) {
      for (const dataset of datasetsFor(t, paper.sources[t])) {
        for (const objective of OBJECTIVE_NAMES) {
          const c = paperFinetune(objective, 2, dataset);
          const v = referenceValues(dataset.id, objective);
          for (const { key, value } of REFERENCE_SHARED) expect(c[key]).toBe(value);
          expect(c).toMatchObject({ mode: "full", temperature: v.temperature, lr: v.lr, objectiveOptions: { lambdaMax: v.lambdaMax }, flip: true, seed: 2 });
        }
      }
    }
  });

  it("the jobs of the paper profile carry them into every SelMix row", () => {
    const jobs = buildJobs({ table: "semi-supervised", settings: paper, seeds: 1, sources: ["cifar10", "cifar100"] });
    const candidate = (dataset: string, row: string) => jobs.flatMap((j) => (j.dataset.id === dataset ? j.rows : [])).find((r) => r.id === row)!.candidates![0]!;
    expect(candidate("cifar10-lt-u0.01", "fixmatch-la+selmix:mean-recall-min-coverage")).toMatchObject({ temperature: 0.01, lr: 1e-4, objectiveOptions: { lambdaMax: 1000 } });
    expect(candidate("cifar100-lt-u10", "fixmatch-la+selmix:mean-recall")).toMatchObject({ temperature: 1, augment: "weak", earlyStop: true });
  });

  it("limits cap the steps and set the prior (a new job id), for smoke runs", () => {
    const quick = profileSettings("quick");
    const plain = buildJobs({ table: "supervised", settings: quick, seeds: 1, sources: ["mnist"] });
    const limited = buildJobs({ table: "supervised", settings: quick, seeds: 1, sources: ["mnist"], limits: { maxSteps: 7, n1: 300, rho: 10, valPerClass: 20, prior: "validation" } });
    expect(limited.map((j) => j.id)).not.toEqual(plain.map((j) => j.id));
    for (const j of limited) {
      expect(j.pretrain.config).toMatchObject({ steps: 7, evalEvery: 7 });
      expect(j.dataset.options).toMatchObject({ n1: 300, rho: 10, valPerClass: 20 });
      expect(j.dataset.label).toContain("[limited: N1 = 300, ρ = 10, 20 validation/class]");
      for (const c of j.rows.flatMap((r) => r.candidates ?? [])) expect(c).toMatchObject({ steps: 7, refreshEvery: 7, prior: "validation" });
    }
  });
});

describe("the bench README's reference table", () => {
  it("is generated from the table (SELMIX_UPDATE_README=1 rewrites it)", () => {
    const path = fileURLToPath(new URL("../README.md", import.meta.url));
    const body = referenceTableMarkdown();
    if (process.env.SELMIX_UPDATE_README === "1") updateReadme(path, "paper-reference", body);
    const text = readFileSync(path, "utf8");
    const start = "<!-- bench:paper-reference:start -->\n";
    const section = text.slice(text.indexOf(start) + start.length, text.indexOf("<!-- bench:paper-reference:end -->"));
    expect(section).toBe(`${body.trimEnd()}\n`);
  });
});
