import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MetricReport } from "@selmix/metrics";
import { beforeAll, describe, expect, test } from "vitest";
import { runCli } from "../../test/run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-train-"));
const pre = join(dir, "pre");
const ft = join(dir, "ft");
// A small long-tailed MNIST (N1 = 400, rho = 20, 60 validation images per class) keeps every run to seconds.
const small = ["--n1", "400", "--rho", "20", "--val-per-class", "60", "--backend", "wasm"];
const pretrainArgs = ["pretrain", "--out", pre, ...small, "--steps", "60", "--eval-every", "30", "--json"];
const finetuneArgs = ["finetune", "--from", pre, "--out", ft, "--objective", "min-recall", "--mode", "head-only", "--steps", "100"];
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8"));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const expectOneLineError = (result: { stderr: string; exitCode: number }, code: string, mention: string): void => {
  expect(result.exitCode).toBe(1);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(new RegExp(`^selmix: ${code}: `));
  expect(result.stderr).toContain(mention);
};

interface PretrainJson {
  readonly backend: string;
  readonly manifestId: string;
  readonly bestStep: number;
  readonly test: MetricReport;
}
interface FinetuneJson {
  readonly selectedStep: number;
  readonly before: MetricReport;
  readonly after: MetricReport;
}
let pretrainJson: PretrainJson;
let finetuneJson: FinetuneJson;

beforeAll(async () => {
  const a = await runCli(pretrainArgs);
  expect(a.stderr).toBe("");
  expect(a.exitCode).toBe(0);
  pretrainJson = JSON.parse(a.stdout);
  const b = await runCli([...finetuneArgs, "--backend", "wasm", "--lr", "0.01", "--json"]);
  expect(b.stderr).toBe("");
  expect(b.exitCode).toBe(0);
  finetuneJson = JSON.parse(b.stdout);
});

describe("selmix pretrain", () => {
  test("--json reports the run and writes config, manifest, checkpoints and metrics", () => {
    for (const name of ["config.json", "manifest.json", "best.ckpt", "last.ckpt", "metrics.json"]) expect(existsSync(join(pre, name))).toBe(true);
    expect(pretrainJson.backend).toBe("wasm");
    expect(pretrainJson.bestStep).toBeGreaterThan(0);
    expect(pretrainJson.test.recall).toHaveLength(10);
    const config = readJson(join(pre, "config.json"));
    expect(config).toMatchObject({ command: "pretrain", source: "mnist", profile: "supervised", n1: 400, rhoL: 20, model: "mlp", method: "la", steps: 60 });
    expect(readJson(join(pre, "manifest.json")).id).toBe(pretrainJson.manifestId);
    expect(readJson(join(pre, "metrics.json")).test).toEqual(pretrainJson.test);
  });

  test("repeating the command resumes the finished run with the same numbers", async () => {
    const again = await runCli(pretrainArgs);
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout).test).toEqual(pretrainJson.test);
  });

  test("the written config.json is a valid --config file; flags override the file", async () => {
    const out = join(dir, "pre-config");
    const config = file("pre-config.json", JSON.stringify({ ...readJson(join(pre, "config.json")), steps: 1000, evalEvery: 20 }));
    const { stdout, exitCode } = await runCli(["pretrain", "--config", config, "--steps", "20", "--out", out, "--backend", "wasm", "--json"]);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout).config).toMatchObject({ steps: 20, evalEvery: 20, n1: 400 });
    expect(readJson(join(out, "config.json")).steps).toBe(20);
  });

  test("resuming into a directory that holds another run is a MISMATCH", async () => {
    expectOneLineError(await runCli(["pretrain", "--out", pre, ...small, "--steps", "60", "--eval-every", "30", "--seed", "1"]), "MISMATCH", pre);
  });

  test.each([
    ["an unknown key", '{"steps": 10, "stepz": 3}', "INVALID_ARGUMENT", '"stepz"'],
    ["a wrong type", '{"steps": "ten"}', "INVALID_ARGUMENT", "steps"],
    ["an unknown model", '{"model": "vit"}', "INVALID_ARGUMENT", "model"],
    ["broken JSON", '{"steps": 10', "PARSE_ERROR", "broken JSON.json"],
  ])("a config file with %s exits 1 with one line naming it", async (name, content, code, mention) => {
    const path = file(`${name}.json`, content);
    expectOneLineError(await runCli(["pretrain", "--out", join(dir, "never"), "--config", path]), code, mention);
    expect(existsSync(join(dir, "never"))).toBe(false);
  });

  test("a bad flag value names the flag", async () => {
    expectOneLineError(await runCli(["pretrain", "--out", join(dir, "never"), "--method", "adam"]), "INVALID_ARGUMENT", "--method");
  });

  test("--workers 2 trains on gradient workers, is recorded, and a resume with another count is a MISMATCH", async () => {
    const out = join(dir, "pre-workers");
    const args = ["pretrain", "--out", out, ...small, "--steps", "10", "--eval-every", "10"];
    const r = await runCli([...args, "--workers", "2"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("backend wasm, 2 gradient workers");
    expect(readJson(join(out, "config.json")).workers).toBe(2);
    expect(readJson(join(pre, "config.json")).workers).toBeUndefined(); // the MLP's default, 1, is not recorded
    expectOneLineError(await runCli([...args, "--workers", "1"]), "MISMATCH", "workers");
  });
});

describe("selmix finetune", () => {
  test("--json reports before/after and the run directory holds every artefact", () => {
    for (const name of ["config.json", "manifest.json", "best.ckpt", "last.ckpt", "diagnostics.jsonl", "metrics.json", "report.svg"]) {
      expect(existsSync(join(ft, name))).toBe(true);
    }
    expect(finetuneJson.before).toEqual(pretrainJson.test); // the start is the pre-trained best.ckpt
    expect(finetuneJson.after.recall).toHaveLength(10);
    const metrics = readJson(join(ft, "metrics.json"));
    expect(metrics).toMatchObject({ objective: "min-recall", selectedStep: finetuneJson.selectedStep, before: finetuneJson.before, after: finetuneJson.after });
    expect(readFileSync(join(ft, "diagnostics.jsonl"), "utf8").trim().split("\n")).toHaveLength(3); // steps 0, 50, 100
    expect(readFileSync(join(ft, "report.svg"), "utf8")).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(readJson(join(ft, "manifest.json")).id).toBe(pretrainJson.manifestId);
    expect(readJson(join(ft, "config.json"))).toMatchObject({ command: "finetune", from: pre, objective: "min-recall", mode: "head-only", lr: 0.01 });
  });

  test("--no-select-best keeps the last weights and still writes best.ckpt", async () => {
    const out = join(dir, "ft-last");
    const { stdout, exitCode } = await runCli([...finetuneArgs.slice(0, 4), out, ...finetuneArgs.slice(5), "--steps", "50", "--no-select-best", "--backend", "wasm", "--json"]);
    expect(exitCode).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.config.selectBest).toBe(false);
    expect(json.selectedStep).toBe(50);
    expect(existsSync(join(out, "best.ckpt"))).toBe(true);
  });

  test("--from a missing directory is NOT_FOUND naming it", async () => {
    const missing = join(dir, "no-such-run");
    expectOneLineError(await runCli(["finetune", "--from", missing, "--out", join(dir, "x"), "--objective", "min-recall"]), "NOT_FOUND", missing);
  });

  test("an unknown objective and a missing one are INVALID_ARGUMENT", async () => {
    expectOneLineError(await runCli(["finetune", "--from", pre, "--out", join(dir, "x"), "--objective", "max-recall"]), "INVALID_ARGUMENT", "--objective");
    expectOneLineError(await runCli(["finetune", "--from", pre, "--out", join(dir, "x"), "--backend", "wasm"]), "INVALID_ARGUMENT", "--objective");
  });

  test("a finetune config file rejects pretrain keys", async () => {
    const path = file("ft-bad.json", JSON.stringify({ objective: "min-recall", method: "la" }));
    expectOneLineError(await runCli(["finetune", "--from", pre, "--out", join(dir, "x"), "--config", path]), "INVALID_ARGUMENT", '"method"');
  });
});

describe("selmix eval", () => {
  test("--json prints the MetricReport of the run's best checkpoint on the test set", async () => {
    const { stdout, exitCode } = await runCli(["eval", "--run", ft, "--backend", "wasm", "--json"]);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual(finetuneJson.after);
  });

  test("the table lists every metric and class; --split validation uses the validation set", async () => {
    const { stdout, exitCode } = await runCli(["eval", "--run", pre, "--split", "validation", "--backend", "wasm"]);
    expect(exitCode).toBe(0);
    for (const metric of ["accuracy", "mean recall", "min recall", "H-mean", "G-mean", "min head/tail recall", "min coverage"]) expect(stdout).toContain(metric);
    expect(stdout).toContain("validation split (600 images)");
    expect(stdout.split("\n").filter((l) => /^\d\s/.test(l))).toHaveLength(10);
  });

  test("a missing run or checkpoint is NOT_FOUND", async () => {
    expectOneLineError(await runCli(["eval", "--run", join(dir, "nope")]), "NOT_FOUND", "nope");
    expectOneLineError(await runCli(["eval", "--run", pre, "--checkpoint", "other.ckpt"]), "NOT_FOUND", "other.ckpt");
  });
});

describe("selmix finetune --objective-module", () => {
  test("optimises a metric written in a plain JavaScript module", async () => {
    const module = file(
      "tail-recall.mjs",
      [
        'export const name = "tail-recall";',
        "// mean recall of classes 7, 8, 9: cm.values is the joint confusion matrix, row-major, rows = true class",
        "export function psi(cm) {",
        "  const k = cm.numClasses;",
        "  const recall = (c) => { let row = 0; for (let j = 0; j < k; j++) row += cm.values[c * k + j]; return cm.values[c * k + c] / row; };",
        "  return (recall(7) + recall(8) + recall(9)) / 3;",
        "}",
      ].join("\n"),
    );
    const out = join(dir, "ft-module");
    const r = await runCli(["finetune", "--from", pre, "--out", out, "--objective-module", module, "--mode", "head-only", "--steps", "100", "--backend", "wasm", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).objective).toBe("tail-recall");
    expect(readJson(join(out, "metrics.json")).objective).toBe("tail-recall");
    expect(readJson(join(out, "config.json")).objectiveModule).toBe(module);
  });

  test.each([
    ["missing.mjs", undefined, "NOT_FOUND"],
    ["no-psi.mjs", "export const x = 1;", "INVALID_ARGUMENT"],
    ["broken.mjs", "export function psi( {", "PARSE_ERROR"],
  ])("%s is a one-line %s error", async (name, content, code) => {
    const path = content === undefined ? join(dir, name) : file(name, content);
    const r = await runCli(["finetune", "--from", pre, "--out", join(dir, `ft-${name}`), "--objective-module", path, "--backend", "wasm"]);
    expectOneLineError(r, code, name);
  });

  test("--objective and --objective-module together are refused", async () => {
    const r = await runCli(["finetune", "--from", pre, "--out", join(dir, "ft-both"), "--objective", "min-recall", "--objective-module", "x.mjs"]);
    expectOneLineError(r, "INVALID_ARGUMENT", "exactly one of --objective");
  });
});
