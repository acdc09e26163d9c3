import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../../test/run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-ssl-"));
// A small semi-supervised MNIST-LT: 150 labelled / 300 unlabelled images of class 0, rho 10, 40 validation per class.
const ssl = ["--profile", "semi-supervised", "--n1", "150", "--m1", "300", "--rho-l", "10", "--rho-u", "10", "--val-per-class", "40", "--backend", "wasm"];

describe("semi-supervised runs", () => {
  test("pretrain --method fixmatch-la, then finetune --semi-supervised", async () => {
    const pre = join(dir, "fixmatch");
    const a = await runCli(["pretrain", "--out", pre, ...ssl, "--method", "fixmatch-la", "--steps", "20", "--eval-every", "10", "--mu", "1", "--json"]);
    expect(a.stderr).toBe("");
    expect(a.exitCode).toBe(0);
    const config = JSON.parse(readFileSync(join(pre, "config.json"), "utf8"));
    expect(config).toMatchObject({ method: "fixmatch-la", mu: 1, threshold: 0.95, ema: 0.999, schedule: "fixmatch-cosine", profile: "semi-supervised" });

    const ft = join(dir, "selmix");
    const b = await runCli(["finetune", "--from", pre, "--out", ft, "--objective", "min-recall", "--mode", "head-only", "--steps", "60", "--semi-supervised", "--json"]);
    expect(b.stderr).toBe("");
    expect(b.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(ft, "config.json"), "utf8")).semiSupervised).toBe(true);
    expect(existsSync(join(ft, "diagnostics.jsonl"))).toBe(true);

    // x1 from the unlabelled split too: recorded in config.json; without --semi-supervised a one-line coded error
    const pooled = join(dir, "selmix-pooled");
    const c = await runCli(["finetune", "--from", pre, "--out", pooled, "--objective", "min-recall", "--mode", "head-only", "--steps", "60", "--semi-supervised", "--first-pool", "labeled+unlabeled", "--json"]);
    expect(c.stderr).toBe("");
    expect(c.exitCode).toBe(0);
    expect(JSON.parse(c.stdout).config.firstPool).toBe("labeled+unlabeled");
    expect(JSON.parse(readFileSync(join(pooled, "config.json"), "utf8")).firstPool).toBe("labeled+unlabeled");
    const bad = await runCli(["finetune", "--from", pre, "--out", join(dir, "selmix-bad"), "--objective", "min-recall", "--first-pool", "labeled+unlabeled"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toBe("selmix: INVALID_ARGUMENT: --first-pool labeled+unlabeled draws x1 from the unlabelled split too: add --semi-supervised\n");
  });

  test("the FixMatch switches reach config.json, and --init-from warm-starts from another run's weights", async () => {
    const la = join(dir, "la");
    const a = await runCli(["pretrain", "--out", la, ...ssl, "--method", "la", "--steps", "10", "--eval-every", "10", "--json"]);
    expect(a.exitCode).toBe(0);
    const pre = join(dir, "fixmatch-switches");
    const flags = ["--padding", "0", "--fill", "mean", "--rand-augment-ops", "1", "--rand-augment-magnitude", "random", "--no-ema-warmup", "--distribution-alignment"];
    const args = ["pretrain", "--out", pre, ...ssl, "--method", "fixmatch-la", "--steps", "10", "--eval-every", "10", "--mu", "1", ...flags];
    const b = await runCli([...args, "--init-from", join(la, "best.ckpt"), "--json"]);
    expect(b.stderr).toBe("");
    expect(b.exitCode).toBe(0);
    const config = JSON.parse(readFileSync(join(pre, "config.json"), "utf8"));
    expect(config).toMatchObject({ padding: 0, fill: "mean", randAugmentOps: 1, randAugmentMagnitude: "random", emaWarmup: false, distributionAlignment: true, initFrom: join(la, "best.ckpt") });
    const metrics = JSON.parse(readFileSync(join(pre, "metrics.json"), "utf8"));
    expect(metrics.history.at(-1).weakMarginal).toHaveLength(10);
    const missing = await runCli([...args, "--no-resume", "--init-from", join(dir, "nothing.ckpt")]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/^selmix: [A-Z_]+: .*nothing\.ckpt/);
  });

  test("distribution alignment with the estimated prior is a one-line coded error", async () => {
    const r = await runCli(["pretrain", "--out", join(dir, "aligned-estimate"), ...ssl, "--method", "fixmatch-la", "--steps", "10", "--unlabeled-prior", "estimated", "--distribution-alignment"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("selmix: INVALID_VALUE: distribution alignment needs a fixed target prior (uniform or labelled); the estimated prior is already the pseudo-labels' running mean\n");
  });

  test("a FixMatch setting on a supervised run is a one-line coded error, not silently ignored", async () => {
    for (const [flags, named] of [
      [["--mu", "3"], "--mu"],
      [["--distribution-alignment"], "--distribution-alignment"],
      [["--no-ema-warmup"], "--no-ema-warmup"],
      [["--rand-augment-magnitude", "3"], "--rand-augment-magnitude"],
    ] as const) {
      const r = await runCli(["pretrain", "--out", join(dir, "stray"), ...ssl, "--method", "la", "--steps", "5", ...flags]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe(`selmix: INVALID_ARGUMENT: ${named} is a FixMatch setting: it needs --method fixmatch or fixmatch-la, not la\n`);
    }
  });

  test("FixMatch without unlabelled data is a one-line coded error", async () => {
    const r = await runCli(["pretrain", "--out", join(dir, "bad"), "--n1", "100", "--rho", "10", "--val-per-class", "20", "--method", "fixmatch", "--backend", "wasm"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^selmix: INVALID_ARGUMENT: --method fixmatch needs unlabelled data/);
  });
});
