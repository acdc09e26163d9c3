import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRng, isSelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import { gainMatrix, gainMatrixStreaming } from "@selmix/gain";
import { createObjective, fromValues } from "@selmix/metrics";
import { createModel, initBackend } from "@selmix/models";
import { DEFAULT_PRETRAIN_CONFIG, defaultFinetuneConfig, finetune, pretrain } from "@selmix/trainers";
import type { TableDocument } from "./document.ts";
import { formatDuration } from "./markdown.ts";
import { dataParallelSection } from "./parallel-speed.ts";
import { jobSplits } from "./run-job.ts";
import { median } from "./stats.ts";
import type { BenchProfile, Job } from "./types.ts";

/** One timing of the gain matrix. */
export interface GainTiming {
  readonly k: number;
  readonly dim: number;
  readonly method: "factorised (js)" | "factorised (wasm)" | "streaming (js)";
  readonly medianMs: number | null;
  readonly reps: number;
  readonly note?: string;
}

/** Synthetic gain inputs: a diagonal-heavy joint confusion matrix, random prototypes and head. */
export function syntheticGainInputs(k: number, dim: number, seed = 0): Parameters<typeof gainMatrix>[0] {
  const rng = createRng(seed);
  const c = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) c[i * k + j] = (i === j ? 5 : 0) + rng.next();
  let s = 0;
  for (const v of c) s += v;
  for (let i = 0; i < c.length; i++) c[i] = c[i]! / s;
  const normal = (n: number, scale: number): Float64Array => Float64Array.from({ length: n }, () => scale * (rng.next() * 2 - 1));
  return {
    confusion: fromValues(k, c),
    prototypes: normal(k * dim, 1),
    weights: normal(k * dim, 1 / Math.sqrt(dim)),
    bias: normal(k, 0.1),
    dim,
    objective: createObjective("min-recall"),
  };
}

function timeIt(fn: () => void, reps: number): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Median time of the gain matrix for K ∈ {10, 100, 1000} (d = 64, 128, 512), factorised (JS, wasm) and streaming. */
export function gainTimings(sizes: readonly (readonly [number, number])[], quick: boolean): GainTiming[] {
  const out: GainTiming[] = [];
  for (const [k, dim] of sizes) {
    const inputs = syntheticGainInputs(k, dim);
    const reps = k >= 1000 ? (quick ? 1 : 5) : quick ? 3 : 20;
    for (const kernels of ["js", "wasm"] as const) {
      try {
        out.push({ k, dim, method: `factorised (${kernels})`, medianMs: timeIt(() => gainMatrix(inputs, { kernels }), reps), reps });
      } catch (error) {
        if (!isSelmixError(error)) throw error;
        out.push({ k, dim, method: `factorised (${kernels})`, medianMs: null, reps: 0, note: error.code });
      }
    }
    if (k <= 100 || !quick) {
      const sreps = k >= 1000 ? 1 : reps;
      out.push({ k, dim, method: "streaming (js)", medianMs: timeIt(() => gainMatrixStreaming(inputs), sreps), reps: sreps });
    }
  }
  return out;
}

/** Runs `packages/models/bench/throughput.ts` (through its `bench` script) and returns its Markdown output. */
export function throughputTable(args: readonly string[]): string {
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const r = spawnSync("pnpm", ["--filter", "@selmix/models", "--silent", "bench", "--", ...args], { cwd: root, encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) return `throughput benchmark failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split("\n").slice(-1)[0] ?? ""}\n`;
  return r.stdout.trim();
}

/** Fine-tuning vs pre-training time, from the supervised and ablation results when present. */
function timesFromResults(outDir: string, profile: BenchProfile): string[] | undefined {
  const sup = join(outDir, profile, "supervised.json");
  if (!existsSync(sup)) return undefined;
  const lines = [
    `From the results JSON in \`${join(outDir, profile)}\` (seconds per seed, mean; wall-clock on a shared 2-core machine):`,
    "",
    "| dataset | model | pre-training (steps) | s | fine-tuning (steps, mode) | s per run | ratio |",
    "|---|---|---|---:|---|---:|---:|",
  ];
  const docs = [sup, join(outDir, profile, "semi-supervised.json"), join(outDir, profile, "ablations.json")].filter(existsSync).map((p) => JSON.parse(readFileSync(p, "utf8")) as TableDocument);
  for (const doc of docs) {
    for (const t of doc.datasets) {
      const la = t.rows.find((r) => r.id === "la" || r.id === "fixmatch-la");
      if (la === undefined) continue;
      const modes = new Map<string, { steps: number; seconds: number[] }>();
      for (const r of t.rows) {
        for (const s of r.perSeed) {
          if (s.chosen === null || s.finetuneSteps === null) continue;
          const key = `${s.finetuneSteps} ${s.chosen.mode}`;
          const perRun = s.seconds / Math.max(1, Math.round((s.stepsRun ?? s.finetuneSteps) / s.finetuneSteps));
          const m = modes.get(key) ?? { steps: s.finetuneSteps, seconds: [] };
          m.seconds.push(perRun);
          modes.set(key, m);
        }
      }
      for (const [key, m] of modes) {
        const ft = m.seconds.reduce((a, b) => a + b, 0) / m.seconds.length;
        lines.push(`| ${t.dataset.id} (${doc.table}) | ${la.model} | ${la.label} ${la.pretrainSteps} | ${la.seconds.mean.toFixed(1)} | ${key} | ${ft.toFixed(1)} | ${(ft / la.seconds.mean).toFixed(2)} |`);
      }
    }
  }
  return lines;
}

/** Measures fine-tuning vs pre-training time on a small MNIST-LT run (when no supervised results exist). */
async function measureSmallRun(): Promise<string[]> {
  await initBackend();
  const job = {
    dataset: { id: "mnist-lt", label: "MNIST-LT", source: "mnist", profile: "supervised", options: { n1: 5000, rho: 100 } },
    seed: 0,
  } as unknown as Job;
  const splits = await jobSplits(job);
  const t = splits.source.train;
  const model = createModel({ arch: "mlp", inputShape: [t.height, t.width, t.channels], numClasses: t.numClasses, seed: 0 });
  const steps = 500;
  let t0 = performance.now();
  await pretrain(model, splits.labeled, splits.validation, { ...DEFAULT_PRETRAIN_CONFIG, steps, evalEvery: steps });
  const pre = (performance.now() - t0) / 1000;
  const data = { labeled: splits.labeled, validation: splits.validation };
  const weights = model.getWeights();
  const rows: string[] = ["| run | steps | s | s per 100 steps |", "|---|---:|---:|---:|", `| LA pre-training (mlp) | ${steps} | ${pre.toFixed(1)} | ${((100 * pre) / steps).toFixed(2)} |`];
  for (const [mode, n] of [["head-only", 1000], ["full", 100]] as const) {
    model.setWeights(weights);
    t0 = performance.now();
    // the same work as pre-training: every step run, no augmentation (digits)
    const cpu = { steps: n, lr: 0.01, temperatureScale: "spread", temperature: 0.5, earlyStop: false, augment: "none", flip: false } as const;
    await finetune(model, data, { ...defaultFinetuneConfig("min-recall", mode), ...cpu });
    const s = (performance.now() - t0) / 1000;
    rows.push(`| SelMix fine-tuning, ${mode} | ${n} | ${s.toFixed(1)} | ${((100 * s) / n).toFixed(2)} |`);
  }
  model.dispose();
  return ["Small MNIST-LT run (N1 = 5000, ρ = 100, seed 0), this machine:", "", ...rows];
}

/** Options of {@link runSpeed}. */
export interface SpeedOptions {
  /** The command line, printed under the heading. */
  readonly command: string;
  readonly profile: BenchProfile;
  readonly out: string;
  /** Arguments for the models' throughput benchmark; empty for its defaults. */
  readonly throughputArgs: readonly string[];
  readonly skipThroughput: boolean;
  /** Skip the data-parallel section (see `parallel-speed.ts`). */
  readonly skipDataParallel?: boolean;
  readonly log: (message: string) => void;
}

/** `bench speed`: gain-matrix time, training throughput, fine-tuning vs pre-training time, as Markdown. */
export async function runSpeed(o: SpeedOptions): Promise<string> {
  const quick = o.profile === "quick";
  const t0 = performance.now();
  await initBackend();
  o.log("gain matrix timings");
  const timings = gainTimings(
    [
      [10, 64],
      [100, 128],
      [1000, 512],
    ],
    quick,
  );
  const lines = [
    `## Speed (profile ${o.profile})`,
    "",
    `Produced by \`${o.command}\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, node ${process.version}, ${process.platform}-${process.arch}, ` +
      "on a 2-core machine shared with other jobs (timings are noisy).",
    "",
    "### Gain matrix (synthetic inputs, min-recall objective; median of reps after one warm-up)",
    "",
    "| K | d | method | median ms | reps |",
    "|---:|---:|---|---:|---:|",
    ...timings.map((g) => `| ${g.k} | ${g.dim} | ${g.method} | ${g.medianMs === null ? `— (${g.note})` : g.medianMs.toFixed(g.medianMs < 10 ? 3 : 1)} | ${g.reps} |`),
    "",
  ];
  lines.push("### Training throughput", "");
  if (o.skipThroughput) lines.push("(skipped: --no-throughput)");
  else {
    o.log("training throughput (packages/models/bench/throughput.ts)");
    lines.push(throughputTable(o.throughputArgs.length > 0 ? o.throughputArgs : quick ? ["--backends", "wasm", "--models", "mlp,cnn", "--seconds", "1", "--reps", "2"] : []));
  }
  if (o.skipDataParallel !== true) {
    const section = [...(await dataParallelSection(quick, o.log)), "", `Produced by \`${o.command}\`.`];
    writeFileAtomic(join(o.out, o.profile, "data-parallel.md"), `${section.join("\n")}\n`); // for packages/trainers/README.md
    lines.push("", ...section);
  }
  lines.push("", "### Fine-tuning vs pre-training time", "");
  o.log("fine-tuning vs pre-training time");
  lines.push(...(timesFromResults(o.out, o.profile) ?? (await measureSmallRun())));
  lines.push("", `Speed bench took ${formatDuration((performance.now() - t0) / 1000)}.`);
  const md = `${lines.join("\n")}\n`;
  writeFileAtomic(join(o.out, o.profile, "speed.md"), md);
  return md;
}
