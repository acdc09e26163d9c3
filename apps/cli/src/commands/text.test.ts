import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEBIAN_WORDNET_DIR } from "@selmix/datasets";
import { describe, expect, test } from "vitest";
import { runCli } from "../../test/run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-text-"));
const pre = join(dir, "pre");
// At most 40 labelled glosses per category and 5 for validation keep every run to seconds.
const small = ["--source", "wordnet-nouns", "--n1", "40", "--val-per-class", "5", "--backend", "wasm"];
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8"));
const expectOneLineError = (result: { stderr: string; exitCode: number }, code: string, mention: string): void => {
  expect(result.exitCode).toBe(1);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(new RegExp(`^selmix: ${code}: `));
  expect(result.stderr).toContain(mention);
};

const real = existsSync(join(DEBIAN_WORDNET_DIR, "data.noun"));
if (!real) console.warn(`skipping the text CLI tests: ${DEBIAN_WORDNET_DIR}/data.noun is missing (apt-get install -y wordnet-base)`);

describe.skipIf(!real)("selmix on text (wordnet-nouns)", () => {
  test("pretrain picks text-bag and the natural profile; finetune (both modes), eval and posthoc take the run", async () => {
    const a = await runCli(["pretrain", "--out", pre, ...small, "--steps", "20", "--eval-every", "10", "--json"]);
    expect(a.stderr).toBe("");
    expect(a.exitCode).toBe(0);
    expect(readJson(join(pre, "config.json"))).toMatchObject({ source: "wordnet-nouns", profile: "natural", model: "text-bag", augment: "none", flip: false });
    const manifest = readJson(join(pre, "manifest.json")) as { counts: { test: number[]; validation: number[] } };
    expect(manifest.counts.test).toEqual(new Array(26).fill(15));
    expect(manifest.counts.validation).toEqual(new Array(26).fill(5));

    const full = await runCli(["finetune", "--from", pre, "--out", join(dir, "ft"), "--objective", "min-recall", "--steps", "20", "--refresh-every", "10", "--backend", "wasm", "--json"]);
    expect(full.stderr).toBe("");
    expect(full.exitCode).toBe(0);
    expect(readJson(join(dir, "ft", "config.json"))).toMatchObject({ mode: "full", augment: "none" });
    const head = await runCli(["finetune", "--from", pre, "--out", join(dir, "ft-head"), "--objective", "h-mean", "--mode", "head-only", "--steps", "20", "--refresh-every", "10", "--backend", "wasm", "--json"]);
    expect(head.exitCode).toBe(0);
    const ev = await runCli(["eval", "--run", join(dir, "ft-head"), "--backend", "wasm", "--json"]);
    expect(ev.exitCode).toBe(0);
    const ph = await runCli(["posthoc", "--from", pre, "--out", join(dir, "ph"), "--objective", "min-recall", "--backend", "wasm", "--json"]);
    expect(ph.exitCode).toBe(0);
  });

  test("image models and augmentation on text, and text-bag on images, are one coded line", async () => {
    expectOneLineError(await runCli(["pretrain", "--out", join(dir, "x1"), ...small, "--model", "mlp", "--steps", "1"]), "INVALID_ARGUMENT", "--model mlp is for images");
    expectOneLineError(await runCli(["pretrain", "--out", join(dir, "x2"), ...small, "--augment", "weak", "--steps", "1"]), "INVALID_ARGUMENT", "--augment weak is for images");
    expectOneLineError(await runCli(["pretrain", "--out", join(dir, "x3"), "--model", "text-bag", "--n1", "100", "--rho", "10", "--val-per-class", "5", "--steps", "1"]), "INVALID_ARGUMENT", "--model text-bag is for text");
    expectOneLineError(await runCli(["pretrain", "--out", join(dir, "x4"), ...small, "--rho", "10", "--steps", "1"]), "INVALID_ARGUMENT", "rho and rhoL do not apply");
  });
});
