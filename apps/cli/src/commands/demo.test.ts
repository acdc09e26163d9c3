import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../../test/run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-demo-"));

describe("selmix demo", () => {
  test("--quick --json: three rows with the five metrics, identical for the same seed", async () => {
    const first = await runCli(["demo", "--quick", "--json", "--backend", "wasm", "--out", join(dir, "a")]);
    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(Object.keys(out)).toEqual(["rows"]);
    expect(out.rows.map((r: { method: string }) => r.method)).toEqual(["LA", "SelMix(mean recall)", "SelMix(min recall)"]);
    for (const row of out.rows) {
      expect(Object.keys(row.metrics)).toEqual(["meanRecall", "minRecall", "hMean", "gMean", "minHeadTailRecall"]);
      for (const v of Object.values(row.metrics)) expect(v).toBeGreaterThan(0);
    }
    for (const run of ["pretrain", "finetune-min-recall", "finetune-mean-recall"]) expect(existsSync(join(dir, "a", run, "best.ckpt"))).toBe(true);
    expect(existsSync(join(dir, "a", "report.svg"))).toBe(true);

    const second = await runCli(["demo", "--quick", "--json", "--backend", "wasm", "--out", join(dir, "b")]);
    expect(second.stdout).toBe(first.stdout);
  });

  test("the table has the three rows and five columns, then the reports and the time", async () => {
    // Same --out as above: every run is finished, so this resumes instantly with the same numbers.
    const { stdout, exitCode } = await runCli(["demo", "--quick", "--backend", "wasm", "--out", join(dir, "a")]);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/method\s+mean recall \(%\)\s+min recall \(%\)\s+H-mean \(%\)\s+G-mean \(%\)\s+min head-tail recall \(%\)/);
    expect(stdout.split("\n").filter((l) => /^(LA|SelMix\((mean|min) recall\))\s+\d/.test(l))).toHaveLength(3);
    expect(stdout).toContain(join(dir, "a", "report.svg"));
    expect(stdout).toMatch(/total time \d+\.\d s/);
  });
});
