import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRng } from "@selmix/core";
import type { MetricReport } from "@selmix/metrics";
import { encodeNpy, readNpy, writeNpy } from "@selmix/trainers";
import { beforeAll, describe, expect, test } from "vitest";
import { runCli } from "../../test/run-cli.ts";
import { parseFinetuneHeadInput, runFinetuneHead } from "../training/finetune-head-run.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-finetune-head-"));
const K = 4;
const D = 6;
const path = (name: string): string => join(dir, name);

/** Gaussian clusters (mean 3·e_c + 0.5, unit noise): features [N, D] float32, labels [N]. */
function clusters(counts: readonly number[], seed: number): { x: Float32Array; y: Int32Array } {
  const rng = createRng(seed);
  const y = Int32Array.from(counts.flatMap((n, c) => Array.from({ length: n }, () => c)));
  const x = Float32Array.from({ length: y.length * D }, (_, j) => (j % D === y[Math.floor(j / D)] ? 3 : 0) + 0.5 + rng.normal());
  return { x, y };
}

/** int64 labels as torch's `.numpy()` gives them: the <f8 header (same length) with descr '<i8'. */
function writeInt64Labels(file: string, labels: Int32Array): void {
  const bytes = encodeNpy(new Float64Array(labels.length), [labels.length]);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + bytes[8]! + 256 * bytes[9]!));
  const start = 10 + header.length;
  bytes.set(new TextEncoder().encode(header.replace("'<f8'", "'<i8'")), 10);
  bytes.set(new Uint8Array(BigInt64Array.from(labels, (v) => BigInt(v)).buffer), start);
  writeFileSync(file, bytes);
}

const COUNTS = [300, 100, 30, 10];
const files = {
  trainX: path("train-x.npy"),
  trainY: path("train-y.npy"),
  valX: path("val-x.npy"),
  valY: path("val-y.npy"),
  testX: path("test-x.npy"),
  testY: path("test-y.npy"),
  w: path("w.npy"),
  b: path("b.npy"),
};
const dataArgs = ["--train-features", files.trainX, "--train-labels", files.trainY, "--val-features", files.valX, "--val-labels", files.valY];
const baseArgs = (out: string): string[] => ["finetune-head", ...dataArgs, "--objective", "min-recall", "--steps", "400", "--out", out];
const expectOneLineError = (result: { stdout: string; stderr: string; exitCode: number }, code: string, mention: string): void => {
  expect(result.exitCode).toBe(code === "USAGE" ? 2 : 1);
  expect(result.stdout).toBe("");
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(new RegExp(`^selmix: ${code}: `));
  expect(result.stderr).toContain(mention);
};

interface HeadJson {
  readonly split: string;
  readonly numClasses: number;
  readonly dim: number;
  readonly selectedStep: number;
  readonly before: MetricReport;
  readonly after: MetricReport;
  readonly config: { readonly startHead: string; readonly steps: number; readonly lr: number; readonly temperatureScale: string };
}

beforeAll(() => {
  const train = clusters(COUNTS, 1);
  const val = clusters([50, 50, 50, 50], 2);
  const testSet = clusters([100, 100, 100, 100], 3);
  writeNpy(files.trainX, train.x, [train.y.length, D]);
  writeInt64Labels(files.trainY, train.y);
  writeNpy(files.valX, Float64Array.from(val.x), [val.y.length, D]); // float64 features are accepted too
  writeNpy(files.valY, val.y, [val.y.length]);
  writeNpy(files.testX, testSet.x, [testSet.y.length, D]);
  writeInt64Labels(files.testY, testSet.y);
  // A head that under-predicts the tail: class means with a strong log-prior bias.
  const w = Float32Array.from({ length: K * D }, (_, j) => (j % D === Math.floor(j / D) ? 3 : 0) + 0.5);
  const total = COUNTS.reduce((a, c) => a + c, 0);
  const b = Float32Array.from(COUNTS, (n) => -0.5 * (3.5 ** 2 + (D - 1) * 0.25) + 3 * Math.log(n / total));
  writeNpy(files.w, w, [K, D]);
  writeNpy(files.b, b, [K]);
});

describe("selmix finetune-head", () => {
  test("from a given head: raises the test min recall and writes the head, diagnostics and metrics", async () => {
    const out = path("given");
    const result = await runCli([...baseArgs(out), "--test-features", files.testX, "--test-labels", files.testY, "--head-weights", files.w, "--head-bias", files.b, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as HeadJson;
    expect(report).toMatchObject({ split: "test", numClasses: K, dim: D });
    expect(report.config).toMatchObject({ startHead: "given", steps: 400, lr: 0.01, temperatureScale: "spread" });
    expect(report.before.minRecall).toBeLessThan(0.5);
    expect(report.after.minRecall).toBeGreaterThan(report.before.minRecall + 0.2);
    const weights = readNpy(join(out, "head-weights.npy"));
    expect(weights).toMatchObject({ dtype: "<f4", shape: [K, D] });
    expect(readNpy(join(out, "head-bias.npy"))).toMatchObject({ dtype: "<f4", shape: [K] });
    expect(weights.data).not.toEqual(readNpy(files.w).data);
    const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
    expect(metrics).toMatchObject({ split: "test", before: report.before, after: report.after, selectedStep: report.selectedStep });
    expect(readFileSync(join(out, "diagnostics.jsonl"), "utf8").trim().split("\n")).toHaveLength(9); // 0, 50, ..., 350, 400
    expect(existsSync(join(out, "config.json"))).toBe(true);

    const again = path("given-again");
    await runCli([...baseArgs(again), "--head-weights", files.w, "--head-bias", files.b, "--json"]);
    expect(readFileSync(join(again, "head-weights.npy"))).toEqual(readFileSync(join(out, "head-weights.npy"))); // same seed, same bytes
  });

  test("without a head: fits a logit-adjusted start, measures on validation, prints the before/after table", async () => {
    const { stdout, stderr, exitCode } = await runCli(baseArgs(path("fitted")));
    expect(exitCode).toBe(0);
    expect(stderr.split("\n").filter((l) => l.includes("Error"))).toEqual([]);
    expect(stdout).toContain("from a fitted head (500 steps of logit-adjusted softmax regression)");
    expect(stdout).toContain("validation set, before = starting head, after = fine-tuned head");
    expect(stdout).toMatch(/min recall\s+\d+\.\d\d\s+\d+\.\d\d/);
    const metrics = JSON.parse(readFileSync(path("fitted/metrics.json"), "utf8"));
    expect(metrics.startHead).toBe("fitted");
    expect(metrics.before.meanRecall).toBeGreaterThan(0.8); // the fitted start is a sensible classifier
    expect(metrics.after.minRecall).toBeGreaterThanOrEqual(metrics.before.minRecall - 0.02);
  });

  test("--first-pool labeled+unlabeled draws x1 from --unlabeled-features too, and says so in config.json", async () => {
    const pool = clusters([100, 100, 100, 100], 4);
    writeNpy(path("pool-x.npy"), pool.x, [pool.y.length, D]);
    const out = path("pooled");
    const result = await runCli([...baseArgs(out), "--head-weights", files.w, "--head-bias", files.b, "--unlabeled-features", path("pool-x.npy"), "--first-pool", "labeled+unlabeled", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).firstPool).toBe("labeled+unlabeled");
    const labelled = await runCli([...baseArgs(path("pool-labelled")), "--head-weights", files.w, "--head-bias", files.b, "--unlabeled-features", path("pool-x.npy"), "--json"]);
    expect(JSON.parse(readFileSync(path("pool-labelled/config.json"), "utf8")).firstPool).toBeUndefined(); // the paper's pool
    expect(readFileSync(join(out, "head-weights.npy"))).not.toEqual(readFileSync(path("pool-labelled/head-weights.npy")));
    expect(labelled.exitCode).toBe(0);
  });

  test("killed at several points (and mid-write), a repeated command resumes to byte-identical files", async () => {
    const args = (out: string): string[] => [...baseArgs(out), "--head-weights", files.w, "--head-bias", files.b, "--json"];
    const reference = path("resume-reference");
    expect((await runCli(args(reference))).exitCode).toBe(0);
    const out = path("resume-killed");
    const input = parseFinetuneHeadInput({
      trainFeatures: files.trainX,
      trainLabels: files.trainY,
      valFeatures: files.valX,
      valLabels: files.valY,
      headWeights: files.w,
      headBias: files.b,
      objective: "min-recall",
      steps: 400,
    });
    for (const [kind, step] of [["step", 10], ["refresh", 100], ["step", 333], ["refresh", 400]] as const) {
      const onProgress = (e: { kind: string; step: number }): void => {
        if (e.kind === kind && e.step === step) throw new Error("killed");
      };
      await expect(runFinetuneHead(input, out, true, true, { onProgress })).rejects.toThrow("killed");
      writeFileSync(join(out, `last-state.json.${5000 + step}.0badc0de.tmp`), "a write the kill cut short");
    }
    const resumed = await runCli(args(out));
    expect(resumed.exitCode).toBe(0);
    const hashes = (d: string): Record<string, string> =>
      Object.fromEntries(readdirSync(d).map((n) => [n, createHash("sha256").update(readFileSync(join(d, n))).digest("hex")]));
    expect(hashes(out)).toEqual(hashes(reference));
    expect(Object.keys(hashes(out)).sort()).toEqual(["config.json", "diagnostics.jsonl", "head-bias.npy", "head-weights.npy", "last-state.json", "metrics.json"]);
    const other = await runCli([...args(out), "--seed", "3"]); // config.json says seed 0: another run
    expect(other.exitCode).toBe(1);
    expect(other.stderr).toMatch(/^selmix: MISMATCH: .*seed: 0 there, 3 now/);
    expect((await runCli([...args(out), "--seed", "3", "--no-resume"])).exitCode).toBe(0);
  });

  const bad = (name: string, content: Uint8Array | string): string => {
    writeFileSync(path(name), content);
    return path(name);
  };
  const withFile = (flag: string, file: string): string[] => {
    const args = baseArgs(path("bad"));
    const at = args.indexOf(flag);
    if (at >= 0) args[at + 1] = file;
    else args.push(flag, file);
    return args;
  };
  test.each<[string, () => string[], string, string]>([
    ["a CSV instead of .npy", () => withFile("--train-features", bad("x.csv.npy", "0.1,0.2\n0.3,0.4\n")), "CORRUPT_FILE", "x.csv.npy: not a .npy file"],
    ["a truncated file", () => withFile("--val-features", bad("short.npy", encodeNpy(new Float32Array(12), [2, 6]).subarray(0, 140))), "CORRUPT_FILE", "short.npy: truncated data"],
    ["a missing file", () => withFile("--val-labels", path("nope.npy")), "NOT_FOUND", "nope.npy"],
    ["float labels", () => withFile("--train-labels", bad("yf.npy", encodeNpy(new Float32Array(440), [440]))), "INVALID_ARGUMENT", "yf.npy: labels must be integers"],
    ["1-D features", () => withFile("--train-features", bad("x1.npy", encodeNpy(new Float32Array(6), [6]))), "INVALID_SHAPE", "x1.npy: features must be 2-D"],
    ["too few labels", () => withFile("--train-labels", bad("y3.npy", encodeNpy(new Int32Array(3), [3]))), "INVALID_SHAPE", "y3.npy: 3 labels but"],
    ["another feature width", () => withFile("--val-features", bad("x7.npy", encodeNpy(new Float32Array(200 * 7), [200, 7]))), "INVALID_SHAPE", "x7.npy: features have dimension 7"],
    [
      "NaN features",
      () => withFile("--val-features", bad("nan.npy", encodeNpy(Float32Array.from({ length: 200 * D }, (_, j) => (j === 13 ? Number.NaN : 0)), [200, D]))),
      "INVALID_VALUE",
      "nan.npy: value NaN at row 2, column 1",
    ],
    [
      "a label beyond the head",
      () => [...withFile("--train-labels", bad("y9.npy", encodeNpy(Int32Array.from({ length: 440 }, (_, j) => (j === 5 ? 9 : 0)), [440]))), "--head-weights", files.w, "--head-bias", files.b],
      "INVALID_VALUE",
      "y9.npy: label 9 at index 5 is outside [0, 4)",
    ],
    [
      "a class with no validation sample",
      () => withFile("--val-labels", bad("v3.npy", encodeNpy(Int32Array.from({ length: 200 }, (_, j) => (j < 150 ? j % 3 : 3) % 3), [200]))),
      "EMPTY_CLASS",
      "class 3 has no validation sample",
    ],
    ["weights without bias", () => withFile("--head-weights", files.w), "USAGE", "--head-weights and --head-bias"],
    [
      "a transposed head",
      () => [...withFile("--head-weights", bad("wt.npy", encodeNpy(new Float32Array(K * D), [D, K]))), "--head-bias", files.b],
      "INVALID_SHAPE",
      `wt.npy: head weights have shape (${D}, ${K}) but`,
    ],
    ["a head of another width", () => [...withFile("--head-weights", bad("w5.npy", encodeNpy(new Float32Array(K * 5), [K, 5]))), "--head-bias", files.b], "INVALID_SHAPE", "w5.npy: head has 5 inputs"],
    ["a bias of another length", () => [...withFile("--head-weights", files.w), "--head-bias", bad("b3.npy", encodeNpy(new Float32Array(3), [3]))], "INVALID_SHAPE", "b3.npy: bias must have shape (4,)"],
    ["no training features", () => baseArgs(path("bad")).filter((_, j, a) => a[j] !== "--train-features" && a[j - 1] !== "--train-features"), "USAGE", "--train-features is required"],
    ["an unknown policy", () => withFile("--policy", "best"), "USAGE", "--policy: must be one of selmix, "],
    ["x1 from an unlabelled pool that is not given", () => withFile("--first-pool", "labeled+unlabeled"), "INVALID_ARGUMENT", "--first-pool labeled+unlabeled draws x1 from the unlabelled split too: add --unlabeled-features"],
  ])("%s exits 1 (2 for USAGE) with one %s line", async (_, args, code, mention) => {
    expectOneLineError(await runCli(args()), code, mention);
  });
});
