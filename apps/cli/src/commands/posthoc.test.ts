import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MetricReport } from "@selmix/metrics";
import { beforeAll, describe, expect, test } from "vitest";
import { runCli } from "../../test/run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-posthoc-"));
const pre = join(dir, "pre");
const ph = join(dir, "ph");
// A small long-tailed MNIST: the LA start under-predicts nothing badly, but the offsets still move min recall.
const small = ["--n1", "400", "--rho", "20", "--val-per-class", "60", "--backend", "wasm"];
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8"));
const expectOneLineError = (result: { stderr: string; exitCode: number }, code: string, mention: string): void => {
  expect(result.exitCode).toBe(code === "USAGE" ? 2 : 1);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(new RegExp(`^selmix: ${code}: `));
  expect(result.stderr).toContain(mention);
};

interface PosthocJson {
  readonly offsets: number[];
  readonly validation: { before: number; after: number; samples: number };
  readonly before: MetricReport;
  readonly after: MetricReport;
}
let posthoc: PosthocJson;

beforeAll(async () => {
  const a = await runCli(["pretrain", "--out", pre, ...small, "--method", "erm", "--steps", "60", "--eval-every", "60", "--json"]);
  expect(a.exitCode).toBe(0);
  const b = await runCli(["posthoc", "--from", pre, "--out", ph, "--objective", "min-recall", "--backend", "wasm", "--json"]);
  expect(b.stderr).toBe("");
  expect(b.exitCode).toBe(0);
  posthoc = JSON.parse(b.stdout);
});

describe("selmix posthoc", () => {
  test("fits offsets on the validation set and writes every artefact", () => {
    for (const name of ["config.json", "manifest.json", "best.ckpt", "adjustment.json", "metrics.json", "report.svg"]) expect(existsSync(join(ph, name))).toBe(true);
    expect(posthoc.offsets).toHaveLength(10);
    expect(posthoc.validation.samples).toBe(600);
    expect(posthoc.validation.after).toBeGreaterThan(posthoc.validation.before);
    const adjustment = readJson(join(ph, "adjustment.json"));
    expect(adjustment).toMatchObject({ format: "selmix-posthoc-adjustment", kind: "logit-offsets", objective: "min-recall", offsets: posthoc.offsets });
    expect(readJson(join(ph, "metrics.json"))).toMatchObject({ objective: "min-recall", before: posthoc.before, after: posthoc.after });
    expect(readJson(join(ph, "config.json"))).toMatchObject({ command: "posthoc", objective: "min-recall" });
    expect(readFileSync(join(ph, "report.svg"), "utf8")).toMatch(/^<svg/);
  });

  test("the same command gives the same offsets (deterministic)", async () => {
    const again = await runCli(["posthoc", "--from", pre, "--out", join(dir, "ph2"), "--objective", "min-recall", "--backend", "wasm", "--json"]);
    expect(JSON.parse(again.stdout).offsets).toEqual(posthoc.offsets);
  });

  test("selmix eval applies the run's offsets, and --no-adjustment ignores them", async () => {
    const adjusted = await runCli(["eval", "--run", ph, "--backend", "wasm", "--json"]);
    expect(adjusted.exitCode).toBe(0);
    expect(JSON.parse(adjusted.stdout)).toEqual(posthoc.after);
    const plain = await runCli(["eval", "--run", ph, "--backend", "wasm", "--no-adjustment", "--json"]);
    expect(JSON.parse(plain.stdout)).toEqual(posthoc.before);
    const table = await runCli(["eval", "--run", ph, "--backend", "wasm"]);
    expect(table.stdout).toContain("post-hoc offsets for min-recall");
  });

  test("a plug-in objective from a module", async () => {
    const module = join(dir, "recall-9.mjs");
    writeFileSync(module, "export const name = 'recall-of-9';\nexport function psi(c) { const k = c.numClasses; let row = 0; for (let j = 0; j < k; j++) row += c.values[9 * k + j]; return c.values[9 * k + 9] / row; }\n");
    const r = await runCli(["posthoc", "--from", pre, "--out", join(dir, "ph-module"), "--objective-module", module, "--backend", "wasm", "--json"]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as PosthocJson & { config: { objective: string } };
    expect(out.config.objective).toBe("recall-of-9");
    expect(out.validation.after).toBe(1); // every image predicted 9: recall of 9 is 1
  });

  test("bad input gets one-line coded errors naming the argument or file", async () => {
    expectOneLineError(await runCli(["posthoc", "--from", pre, "--out", join(dir, "x")]), "USAGE", "--objective");
    expectOneLineError(await runCli(["posthoc", "--from", pre, "--out", join(dir, "x"), "--objective", "top-1"]), "USAGE", '"top-1"');
    expectOneLineError(await runCli(["posthoc", "--out", join(dir, "x"), "--objective", "min-recall"]), "USAGE", "--from");
    expectOneLineError(await runCli(["posthoc", "--from", join(dir, "nope"), "--out", join(dir, "x"), "--objective", "min-recall"]), "NOT_FOUND", join(dir, "nope"));
    expectOneLineError(await runCli(["posthoc", "--from", pre, "--out", pre, "--objective", "min-recall"]), "USAGE", "--out must differ");
    expectOneLineError(await runCli(["posthoc", "--from", pre, "--out", join(dir, "x"), "--objective-module", join(dir, "missing.mjs")]), "NOT_FOUND", "missing.mjs");
    const broken = join(dir, "ph-broken");
    await runCli(["posthoc", "--from", pre, "--out", broken, "--objective", "g-mean", "--backend", "wasm", "--json"]);
    writeFileSync(join(broken, "adjustment.json"), '{"format": "something else"}');
    expectOneLineError(await runCli(["eval", "--run", broken, "--backend", "wasm"]), "CORRUPT_FILE", join(broken, "adjustment.json"));
  });
});
