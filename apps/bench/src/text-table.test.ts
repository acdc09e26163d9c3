import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEBIAN_WORDNET_DIR } from "@selmix/datasets";
import { afterAll, describe, expect, it } from "vitest";
import { TABLE_OBJECTIVES } from "./profiles.ts";
import { runTable } from "./table-command.ts";
import { SUPERVISED_ROW_IDS } from "./testing/row-ids.ts";
import { shrinkJobs } from "./testing/shrink-jobs.ts";
import type { Job } from "./types.ts";

const out = mkdtempSync(join(tmpdir(), "selmix-bench-text-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The quick text jobs, shrunk: at most 60 labelled glosses per category, 5 for validation, 20 steps. */
const shrink = (jobs: Job[]): Job[] => shrinkJobs(jobs, { split: { n1: 60, valPerClass: 5 }, pretrainSteps: 20, finetuneSteps: 20, refreshEvery: 10 });

const real = existsSync(join(DEBIAN_WORDNET_DIR, "data.noun"));
if (!real) console.warn(`skipping the text table test: ${DEBIAN_WORDNET_DIR}/data.noun is missing (apt-get install -y wordnet-base)`);

describe.skipIf(!real)("bench text, quick profile (structure, not numbers)", () => {
  it("trains text-bag on WordNet glosses without augmentation and writes the supervised table's rows and verdicts", async () => {
    const doc = await runTable({ table: "text", profile: "quick", out, workers: 0, command: "test", transformJobs: shrink, log: () => {} });
    expect(doc.datasets).toHaveLength(1);
    const t = doc.datasets[0]!;
    expect(t.dataset.id).toBe("wordnet-nouns");
    expect(t.numClasses).toBe(26);
    expect(t.rows.map((r) => r.id)).toEqual(SUPERVISED_ROW_IDS);
    for (const r of t.rows) {
      expect(r.perSeed[0]!.model).toBe("text-bag");
      expect(r.perSeed[0]!.test.recall).toHaveLength(26);
    }
    // 15 test glosses per category: every recall is a multiple of 1/15.
    const recall = t.rows[0]!.perSeed[0]!.test.recall;
    expect(recall.every((v) => Math.abs(v * 15 - Math.round(v * 15)) < 1e-9)).toBe(true);
    expect(t.wins.map((w) => w.objective)).toEqual([...TABLE_OBJECTIVES]);
    const md = readFileSync(join(out, "quick", "text.md"), "utf8");
    expect(md).toMatch(/^## Text \(WordNet nouns\) \(profile quick\)/);
    expect(md).toContain("- SelMix (min recall): ");
  });
});
