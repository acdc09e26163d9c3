import { createHash } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MetricReport } from "@selmix/metrics";
import { beforeAll, describe, expect, test } from "vitest";
import { runCli } from "../../test/run-cli.ts";
import { parseFinetuneInput, runFinetune } from "../training/finetune-run.ts";
import { openRunDir } from "../training/run-dir.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-train-"));
const pre = join(dir, "pre");
const ft = join(dir, "ft");
// A small long-tailed MNIST (N1 = 400, rho = 20, 60 validation images per class) keeps every run to seconds.
const small = ["--n1", "400", "--rho", "20", "--val-per-class", "60", "--backend", "wasm"];
const pretrainArgs = ["pretrain", "--out", pre, ...small, "--steps", "60", "--eval-every", "30", "--json"];
const finetuneArgs = ["finetune", "--from", pre, "--out", ft, "--objective", "min-recall", "--mode", "head-only", "--steps", "100"];
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8"));
/** The SHA-256 of every file of a directory, by name. */
const filesOf = (d: string): Record<string, string> =>
  Object.fromEntries(readdirSync(d).map((name) => [name, createHash("sha256").update(readFileSync(join(d, name))).digest("hex")]));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const expectOneLineError = (result: { stderr: string; exitCode: number }, code: string, mention: string): void => {
  expect(result.exitCode).toBe(code === "USAGE" ? 2 : 1);
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

  test("a bad flag value is a USAGE error naming the flag and the choices", async () => {
    expectOneLineError(await runCli(["pretrain", "--out", join(dir, "never"), "--method", "adam"]), "USAGE", '--method: must be one of erm, la, fixmatch, fixmatch-la (got "adam")');
  });

  test("--padding without --augment weak is an INVALID_ARGUMENT naming both flags; with it, it is recorded", async () => {
    expectOneLineError(await runCli(["pretrain", "--out", join(dir, "pad-none"), ...small, "--padding", "1", "--steps", "1"]), "INVALID_ARGUMENT", "--padding is the weak augmentation's: add --augment weak");
    const out = join(dir, "pad-weak");
    const r = await runCli(["pretrain", "--out", out, ...small, "--augment", "weak", "--padding", "1", "--steps", "2", "--eval-every", "2"]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8"))).toMatchObject({ augment: "weak", padding: 1 });
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

  test("an unknown objective and a missing one are USAGE errors", async () => {
    expectOneLineError(await runCli(["finetune", "--from", pre, "--out", join(dir, "x"), "--objective", "max-recall"]), "USAGE", "--objective");
    expectOneLineError(await runCli(["finetune", "--from", pre, "--out", join(dir, "x"), "--backend", "wasm"]), "USAGE", "--objective");
  });

  test("--mixing cutmix --mix-label weighted trains the full network and is recorded; head-only refuses it naming the flag", async () => {
    const out = join(dir, "ft-cutmix");
    const args = ["finetune", "--from", pre, "--out", out, "--objective", "min-recall", "--steps", "20", "--refresh-every", "10", "--workers", "1", "--backend", "wasm"];
    const run = await runCli([...args, "--mixing", "cutmix", "--mix-label", "weighted"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^finetune for min-recall \(full, policy selmix, cutmix mixing, weighted label\)/);
    expect(readJson(join(out, "config.json"))).toMatchObject({ mode: "full", mixing: "cutmix", mixLabel: "weighted" });
    const headOnly = join(dir, "ft-cutmix-head");
    expectOneLineError(await runCli([...args.slice(0, 4), headOnly, ...args.slice(5), "--mode", "head-only", "--mixing", "cutmix"]), "INVALID_ARGUMENT", "--mixing cutmix: head-only");
    expectOneLineError(await runCli([...args.slice(0, 4), headOnly, ...args.slice(5), "--mode", "head-only", "--mix-label", "weighted"]), "INVALID_ARGUMENT", "--mix-label weighted: head-only");
    expect(existsSync(headOnly)).toBe(false);
    expectOneLineError(await runCli([...args, "--mixing", "puzzlemix"]), "USAGE", "--mixing");
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

  test("a psi that throws is an INVALID_VALUE naming the module", async () => {
    const module = file("throws.mjs", "export function psi(cm) { return cm.values[0] / undefinedVariable; }");
    const r = await runCli(["finetune", "--from", pre, "--out", join(dir, "ft-throws"), "--objective-module", module, "--mode", "head-only", "--steps", "10", "--backend", "wasm"]);
    expectOneLineError(r, "INVALID_VALUE", `objective module ${module}: psi threw ReferenceError: undefinedVariable is not defined`);
  });

  test("--objective and --objective-module together are refused", async () => {
    const r = await runCli(["finetune", "--from", pre, "--out", join(dir, "ft-both"), "--objective", "min-recall", "--objective-module", "x.mjs"]);
    expectOneLineError(r, "USAGE", "exactly one of --objective");
  });
});

describe("run directories that cannot be corrupted", () => {
  test("--out \"\" and --from == --out (with --no-resume) are refused; the pre-training run is untouched", async () => {
    const before = filesOf(pre);
    expectOneLineError(await runCli(["pretrain", "--out", "", ...small]), "USAGE", '--out must name a directory, got ""');
    expectOneLineError(await runCli(["finetune", "--from", pre, "--out", pre, "--objective", "min-recall", "--no-resume", "--backend", "wasm"]), "USAGE", "is the --from directory");
    expect(filesOf(pre)).toEqual(before);
  });

  test("a second command into a directory in use is LOCKED and writes nothing", async () => {
    const out = join(dir, "busy");
    const release = openRunDir(out, true, "pretrain");
    try {
      expectOneLineError(await runCli(["pretrain", "--out", out, ...small, "--steps", "10", "--no-resume"]), "LOCKED", `${out} is in use by selmix pretrain`);
      expect(readdirSync(out)).toEqual([".selmix.lock"]);
    } finally {
      release();
    }
  });

  test("pretrain --no-resume into a finetune directory is a MISMATCH that leaves it as it was", async () => {
    const before = filesOf(ft);
    expectOneLineError(await runCli(["pretrain", "--out", ft, ...small, "--steps", "10", "--no-resume"]), "MISMATCH", `${ft} holds a finetune run`);
    expect(filesOf(ft)).toEqual(before);
  });

  test("a last.ckpt of another run is refused, naming what differs", async () => {
    const other = join(dir, "other-seed");
    mkdirSync(other);
    copyFileSync(join(pre, "last.ckpt"), join(other, "last.ckpt"));
    const r = await runCli(["pretrain", "--out", other, ...small, "--steps", "60", "--eval-every", "30", "--seed", "1"]);
    expectOneLineError(r, "MISMATCH", `${join(other, "last.ckpt")} belongs to dataset `);
    const foreign = join(dir, "pretrain-ckpt-in-finetune");
    mkdirSync(foreign);
    copyFileSync(join(pre, "last.ckpt"), join(foreign, "last.ckpt"));
    const f = await runCli([...finetuneArgs.slice(0, 4), foreign, ...finetuneArgs.slice(5), "--backend", "wasm"]);
    expectOneLineError(f, "MISMATCH", `${join(foreign, "last.ckpt")} was written by a pretrain run, this is a finetune run`);
  });

  test("a best.ckpt that is a folder and a garbage line in a resumed diagnostics.jsonl name the file", async () => {
    const fake = join(dir, "folder-ckpt");
    mkdirSync(join(fake, "best.ckpt"), { recursive: true });
    copyFileSync(join(pre, "manifest.json"), join(fake, "manifest.json"));
    expectOneLineError(await runCli(["eval", "--run", fake, "--backend", "wasm"]), "IO_ERROR", `checkpoint ${join(fake, "best.ckpt")} cannot be read (it is a folder)`);
    const copy = join(dir, "ft-garbage");
    cpSync(ft, copy, { recursive: true });
    const lines = readFileSync(join(copy, "diagnostics.jsonl"), "utf8").split("\n");
    lines[0] = "{not json";
    writeFileSync(join(copy, "diagnostics.jsonl"), lines.join("\n"));
    const r = await runCli([...finetuneArgs.slice(0, 4), copy, ...finetuneArgs.slice(5), "--backend", "wasm", "--lr", "0.01"]);
    expectOneLineError(r, "CORRUPT_FILE", `${join(copy, "diagnostics.jsonl")}: line 1 is not a diagnostics entry`);
  });

  test("a head-only finetune killed at several points (and mid-write) resumes to byte-identical files", async () => {
    const args = ["--objective", "min-recall", "--mode", "head-only", "--steps", "100", "--lr", "0.01", "--backend", "wasm", "--json"];
    const reference = join(dir, "ft-reference");
    expect((await runCli(["finetune", "--from", pre, "--out", reference, ...args])).exitCode).toBe(0);
    const out = join(dir, "ft-killed");
    const input = parseFinetuneInput({ from: pre, objective: "min-recall", mode: "head-only", steps: 100, lr: 0.01 }, undefined);
    for (const [kind, step] of [["step", 30], ["refresh", 50], ["step", 99]] as const) {
      const kill = { out, resume: true, json: true, backend: "wasm", label: "killed" } as const;
      await expect(
        runFinetune(input, {
          ...kill,
          onProgress: (e) => {
            if (e.kind === kind && e.step === step) throw new Error("killed");
          },
        }),
      ).rejects.toThrow("killed");
      writeFileSync(join(out, `last.ckpt.${4000 + step}.0badc0de.tmp`), "a write the kill cut short");
    }
    const resumed = await runCli(["finetune", "--from", pre, "--out", out, ...args]);
    expect(resumed.exitCode).toBe(0);
    expect(filesOf(out)).toEqual(filesOf(reference));
  });
});
