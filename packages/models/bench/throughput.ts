/**
 * Training throughput (images/s) of each @selmix/models backbone per backend, plus PyTorch CPU for the small CNN
 * and the MLP when `import torch` works, printed as a ratio.
 *
 *   pnpm --filter @selmix/models bench [-- --backends wasm,cpu --models cnn,mlp --batch 64 --seconds 2 --reps 3]
 *
 * Every (backend, model) pair runs in its own child process: the wasm heap never shrinks, and WRN-28-2 needs
 * 2.6 GiB of it at batch 64.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { type BackendName, createModel, initBackend, type ModelArch } from "../src/index.ts";

interface Job {
  backend: BackendName;
  arch: ModelArch;
  inputShape: [number, number, number];
  batch: number;
  seconds: number;
  reps: number;
}

interface Result {
  job: Job;
  median: number;
  min: number;
  max: number;
  stepsPerRep: number[];
  error?: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function child(job: Job): Promise<Result> {
  await initBackend({ name: job.backend });
  const [h, w, c] = job.inputShape;
  const model = createModel({ arch: job.arch, inputShape: job.inputShape, numClasses: 10, seed: 0 });
  const x = tf.randomNormal([job.batch, h, w, c], 0, 1, "float32", 1) as tf.Tensor4D;
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([job.batch], 0, 10, "int32", 2), 10));
  const optimizer = tf.train.momentum(0.01, 0.9);
  const step = (): void => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.logits(x, true)) as tf.Scalar,
      true,
      model.trainableVariables(),
    );
    loss!.dataSync();
    loss!.dispose();
  };
  step();
  step();
  const rates: number[] = [];
  const stepsPerRep: number[] = [];
  for (let r = 0; r < job.reps; r++) {
    let n = 0;
    const t0 = performance.now();
    let dt = 0;
    do {
      step();
      n++;
      dt = (performance.now() - t0) / 1000;
    } while (dt < job.seconds);
    rates.push((n * job.batch) / dt);
    stepsPerRep.push(n);
  }
  return { job, median: median(rates), min: Math.min(...rates), max: Math.max(...rates), stepsPerRep };
}

function runChild(job: Job): Result {
  const self = fileURLToPath(import.meta.url);
  const out = spawnSync(process.execPath, [self, "--child", JSON.stringify(job)], { encoding: "utf8", maxBuffer: 1 << 24 });
  const line = out.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (out.status !== 0 || line === undefined) {
    const why = (out.stderr || out.stdout || `exit ${out.status}`).trim().split("\n").slice(-1)[0] ?? "";
    return { job, median: Number.NaN, min: Number.NaN, max: Number.NaN, stepsPerRep: [], error: why };
  }
  return JSON.parse(line.slice(7)) as Result;
}

interface TorchResult {
  model: string;
  inputShape: number[];
  batch: number;
  threads: number;
  median: number;
  min: number;
  max: number;
}

function findTorchPython(): string | undefined {
  for (const py of ["python3", "/usr/bin/python3"]) {
    const r = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
    if (r.status === 0) return py;
  }
  return undefined;
}

function runTorch(py: string, specs: string[], batch: number, seconds: number, reps: number, threads: number): TorchResult[] {
  const script = fileURLToPath(new URL("../../../../bench/torch_throughput.py", import.meta.url));
  const r = spawnSync(
    py,
    [script, "--batch", String(batch), "--seconds", String(seconds), "--reps", String(reps), "--threads", String(threads), "--models", specs.join(",")],
    { encoding: "utf8" },
  );
  if (r.status !== 0) {
    console.error(`PyTorch run failed: ${r.stderr.trim().split("\n").slice(-1)[0]}`);
    return [];
  }
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as TorchResult);
}

const fmt = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toPrecision(3)) : "—");
const shapeKey = (s: readonly number[]): string => s.join("x");

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf("--child");
  if (childIndex >= 0) {
    const result = await child(JSON.parse(process.argv[childIndex + 1]!) as Job);
    console.log(`RESULT ${JSON.stringify(result)}`);
    return;
  }
  const backends = arg("backends", "wasm,cpu").split(",") as BackendName[];
  const models = arg("models", "cnn,mlp,resnet32,wrn-28-2").split(",") as ModelArch[];
  const batch = Number(arg("batch", "64"));
  const seconds = Number(arg("seconds", "2"));
  const reps = Number(arg("reps", "3"));
  const shapes: Record<ModelArch, [number, number, number][]> = {
    mlp: [[28, 28, 1]],
    cnn: [
      [32, 32, 3],
      [28, 28, 1],
    ],
    resnet32: [[32, 32, 3]],
    "wrn-28-2": [[32, 32, 3]],
  };
  const results: Result[] = [];
  for (const backend of backends) {
    for (const arch of models) {
      for (const inputShape of shapes[arch]) {
        // tfjs-cpu trains conv nets at < 1 img/s: one short rep at batch 8 only, and only for the small CNN.
        if (backend === "cpu" && arch !== "mlp" && arch !== "cnn") continue;
        const slowCpu = backend === "cpu" && arch === "cnn";
        const job: Job = { backend, arch, inputShape, batch: slowCpu ? 8 : batch, seconds: slowCpu ? 0 : seconds, reps: slowCpu ? 1 : reps };
        const r = runChild(job);
        results.push(r);
        console.error(`${backend} ${arch} ${shapeKey(inputShape)} batch ${job.batch}: ${r.error ?? `${fmt(r.median)} img/s`}`);
      }
    }
  }
  const py = arg("torch", "auto") === "off" ? undefined : findTorchPython();
  const torchThreads = Number(arg("torch-threads", "2"));
  const torch = py === undefined ? [] : runTorch(py, ["cnn:32x32x3", "cnn:28x28x1", "mlp:28x28x1"], batch, seconds, reps, torchThreads);
  console.log(`\nTraining throughput, images/s (median [min–max] of ${reps} reps of >= ${seconds} s, after 2 warm-up steps; SGD momentum, softmax CE)`);
  console.log(`node ${process.version}, ${process.platform}-${process.arch}, tfjs 4.22.0\n`);
  console.log("| backend | model | input | batch | img/s | PyTorch CPU img/s | ratio |");
  console.log("|---|---|---|---:|---:|---:|---:|");
  for (const r of results) {
    const t = torch.find((p) => p.model === r.job.arch && shapeKey(p.inputShape) === shapeKey(r.job.inputShape) && p.batch === r.job.batch);
    const range = Number.isFinite(r.min) && r.job.reps > 1 ? ` [${fmt(r.min)}–${fmt(r.max)}]` : "";
    const cell = r.error === undefined ? `${fmt(r.median)}${range}` : `failed: ${r.error}`;
    const tcell = t === undefined ? "" : `${fmt(t.median)} [${fmt(t.min)}–${fmt(t.max)}] (${t.threads} thr)`;
    const ratio = t === undefined || r.error !== undefined ? "" : `${(r.median / t.median).toFixed(2)}×`;
    console.log(`| ${r.job.backend} | ${r.job.arch} | ${shapeKey(r.job.inputShape)} | ${r.job.batch} | ${cell} | ${tcell} | ${ratio} |`);
  }
  if (py === undefined) console.log("\nPyTorch: not available (`python3 -c 'import torch'` failed; Debian: apt-get install python3-torch).");
}

await main();
