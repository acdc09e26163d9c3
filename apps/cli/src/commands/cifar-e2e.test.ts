import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test, vi } from "vitest";
import { buildProgram as buildBench } from "../../../bench/src/program.ts";
import { writeCifarFiles } from "../../../../packages/datasets/src/testing/fixtures.ts";
import { runCli } from "../../test/run-cli.ts";

// CIFAR-10 and CIFAR-100 files in the official binary layout with random pixels: 30 training and 10 (CIFAR-10)
// or 5 (CIFAR-100) test images per class, read with --no-strict-counts (the manifest records their hashes). The
// runs are small (N1 = 20, ρ = 10, 5 validation images per class, a few steps): this checks that the CIFAR paths
// run end to end, not numbers.
const dir = mkdtempSync(join(tmpdir(), "selmix-cifar-e2e-"));
writeCifarFiles(dir, "cifar10", { trainPerClass: 30, testPerClass: 10, seed: 1 });
writeCifarFiles(dir, "cifar100", { trainPerClass: 30, testPerClass: 5, seed: 2 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sizes = ["--n1", "20", "--rho", "10", "--val-per-class", "5"];
const data = ["--data-dir", dir, "--no-strict-counts", ...sizes];
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8"));

async function ok(args: readonly string[]): Promise<Record<string, unknown>> {
  const r = await runCli([...args, "--backend", "wasm", "--json"]);
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout);
}

/** `pnpm bench ARGS` in this process (the bench's own program), stdout and exit code. */
async function runBench(args: readonly string[]): Promise<{ stdout: string; exitCode: number }> {
  let stdout = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const log = vi.spyOn(console, "error").mockImplementation(() => {});
  const previous = process.exitCode;
  process.exitCode = 0;
  try {
    await buildBench().parseAsync(["node", "bench", ...args]);
    return { stdout, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = previous;
    out.mockRestore();
    err.mockRestore();
    log.mockRestore();
  }
}

describe("CIFAR end to end: CIFAR-format files, the small CNN", () => {
  test.each([
    ["cifar10", ["--objective", "min-recall", "--prior", "validation", "--confusion", "soft"], { mode: "full", gainVariant: "reference", confusion: "soft", targetTerm: "reference", prior: "validation" }],
    ["cifar100", ["--objective", "min-head-tail-recall", "--mode", "head-only", "--gain-variant", "paper", "--target-term", "reference"], { mode: "head-only", gainVariant: "paper", confusion: "soft", targetTerm: "reference", prior: "uniform" }],
  ] as const)("%s: selmix pretrain + finetune", { timeout: 120_000 }, async (source, flags, expected) => {
    const pre = join(dir, `pre-${source}`);
    const ft = join(dir, `ft-${source}`);
    const p = await ok(["pretrain", "--source", source, "--out", pre, "--model", "cnn", ...data, "--steps", "5", "--eval-every", "5"]);
    const k = source === "cifar10" ? 10 : 100;
    expect((p.test as { recall: number[] }).recall).toHaveLength(k);
    const f = await ok(["finetune", "--from", pre, "--out", ft, "--data-dir", dir, ...flags, "--steps", "4", "--refresh-every", "2"]);
    expect(f.stepsRun).toBe(4);
    // the reference defaults (weak crop + flip on both images, early stop) and the gain switches, each recorded
    expect(readJson(join(ft, "config.json"))).toMatchObject({ ...expected, augment: "weak", flip: true, earlyStop: true, steps: 4 });
    const diagnostics = readFileSync(join(ft, "diagnostics.jsonl"), "utf8").trim().split("\n");
    expect(diagnostics).toHaveLength(3); // refreshes at steps 0, 2 and the final weights
    expect(JSON.parse(diagnostics[0]!).recall).toHaveLength(k);
    for (const name of ["best.ckpt", "last.ckpt", "metrics.json", "report.svg"]) expect(existsSync(join(ft, name))).toBe(true);
  });

  test("pnpm bench supervised --profile quick on the CIFAR files", { timeout: 300_000 }, async () => {
    const out = join(dir, "bench");
    // --max-steps caps every training of the quick profile (300 pre-training, 200 fine-tuning steps) for this test
    const limits = ["--max-steps", "5", ...sizes, "--no-strict-counts"];
    const r = await runBench(["supervised", "--profile", "quick", "--datasets", "cifar10,cifar100", "--data-dir", dir, "--out", out, "--workers", "0", ...limits]);
    expect(r.exitCode).toBe(0);
    const doc = readJson(join(out, "quick", "supervised.json")) as { datasets: { dataset: { id: string }; rows: { id: string; perSeed: { model: string }[] }[] }[]; skipped: unknown[]; failed: unknown[] };
    expect(doc.skipped).toEqual([]);
    expect(doc.failed).toEqual([]);
    expect(doc.datasets.map((d) => d.dataset.id)).toEqual(["cifar10-lt", "cifar100-lt"]);
    for (const d of doc.datasets) {
      expect(d.rows.map((row) => row.id)).toContain("la+selmix:min-recall");
      for (const row of d.rows) expect(row.perSeed[0]!.model).toBe("cnn");
    }
    expect(r.stdout).toContain("CIFAR-100-LT");
  });
});
