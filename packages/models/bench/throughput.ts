/**
 * Training throughput (images/s) of each @selmix/models backbone per backend, with PyTorch CPU (all cores and one
 * thread) measured side by side in the same run as the anchor for the small CNN and the MLP, the GFLOP/s the wasm
 * step achieves, and a kernel-by-kernel profile of one CNN training step on wasm.
 *
 *   pnpm --filter @selmix/models bench [-- --backends wasm,cpu --models cnn,mlp --batch 64,128 --seconds 2 --reps 3]
 *
 * Every (backend, model, batch) runs in its own child process (the wasm heap never shrinks; WRN-28-2 needs 2.6 GiB
 * of it at batch 64), and PyTorch runs right after each wasm job, so both see the same machine load.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { type BackendName, createModel, initBackend, type ModelArch } from "../src/index.ts";

type Shape = [number, number, number];

interface Job {
  backend: BackendName;
  arch: ModelArch;
  inputShape: Shape;
  batch: number;
  seconds: number;
  reps: number;
  profile: boolean;
}

interface KernelRow {
  kernel: string;
  shapes: string;
  calls: number;
  ms: number;
}

interface Result {
  job: Job;
  median: number;
  /** Images per second of this process's CPU time (user + system): the per-core rate, less distorted by load. */
  cpuMedian: number;
  min: number;
  max: number;
  error?: string;
  /** One training step under tf.profile, summed per kernel and input shapes. */
  kernels?: KernelRow[];
  profiledStepMs?: number;
}

interface TorchResult {
  model: string;
  inputShape: number[];
  batch: number;
  threads: number;
  median: number;
  min: number;
  max: number;
  cpuMedian: number;
}

interface BlasInfo {
  torch: string;
  build: string | null;
  mapped: string[];
  alternative: string | null;
  kind: string;
  cpus: number;
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

/**
 * Multiply-adds of one forward pass per image in the convolutions and dense layers, and of a training step (forward,
 * weight gradients, input gradients of every layer but the first: the images need none), for the CNN and the MLP.
 */
export function macsPerImage(arch: ModelArch, [h, w, c]: Shape, classes: number): { forward: number; training: number } | undefined {
  const layers: number[] = [];
  if (arch === "cnn") {
    let side = [h, w];
    let cin = c;
    for (const cout of [32, 64, 128]) {
      layers.push(side[0]! * side[1]! * 9 * cin * cout);
      side = [Math.floor(side[0]! / 2), Math.floor(side[1]! / 2)];
      cin = cout;
    }
    layers.push(side[0]! * side[1]! * cin * 128, 128 * classes);
  } else if (arch === "mlp") {
    layers.push(h * w * c * 256, 256 * 128, 128 * classes);
  } else return undefined;
  const forward = layers.reduce((a, b) => a + b, 0);
  return { forward, training: 3 * forward - layers[0]! };
}

async function child(job: Job): Promise<Result> {
  await initBackend({ name: job.backend });
  const [h, w, c] = job.inputShape;
  const model = createModel({ arch: job.arch, inputShape: job.inputShape, numClasses: 10, seed: 0 });
  const x = tf.randomNormal([job.batch, h, w, c], 0, 1, "float32", 1) as tf.Tensor4D;
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([job.batch], 0, 10, "int32", 2), 10));
  const optimizer = tf.train.momentum(0.01, 0.9);
  const step = (): void => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.logits(x, true)) as tf.Scalar, true, model.trainableVariables());
    loss!.dataSync();
    loss!.dispose();
  };
  step();
  step();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let r = 0; r < job.reps; r++) {
    let n = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let dt = 0;
    do {
      step();
      n++;
      dt = (performance.now() - t0) / 1000;
    } while (dt < job.seconds);
    rates.push((n * job.batch) / dt);
    const cpu = process.cpuUsage(c0);
    cpuRates.push((n * job.batch) / Math.max((cpu.user + cpu.system) / 1e6, 1e-9));
  }
  const result: Result = { job, median: median(rates), min: Math.min(...rates), max: Math.max(...rates), cpuMedian: median(cpuRates) };
  if (job.profile) {
    tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", false); // the profiler would read every output back
    const t0 = performance.now();
    const info = await tf.profile(step);
    result.profiledStepMs = performance.now() - t0;
    const rows = new Map<string, KernelRow>();
    for (const k of info.kernels) {
      const shapes = k.inputShapes.map((s) => (s === null ? "·" : s.join("×"))).join(", ");
      const row = rows.get(`${k.name} ${shapes}`) ?? { kernel: k.name, shapes, calls: 0, ms: 0 };
      row.calls++;
      row.ms += k.kernelTimeMs as number;
      rows.set(`${k.name} ${shapes}`, row);
    }
    result.kernels = [...rows.values()].sort((a, b) => b.ms - a.ms);
  }
  return result;
}

function runChild(job: Job): Result {
  const self = fileURLToPath(import.meta.url);
  const out = spawnSync(process.execPath, [self, "--child", JSON.stringify(job)], { encoding: "utf8", maxBuffer: 1 << 24 });
  const line = out.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (out.status !== 0 || line === undefined) {
    const why = (out.stderr || out.stdout).trim().split("\n").filter(Boolean).slice(-1)[0] ?? `exit ${out.status}`;
    return { job, median: Number.NaN, min: Number.NaN, max: Number.NaN, cpuMedian: Number.NaN, error: why.slice(0, 160) };
  }
  return JSON.parse(line.slice("RESULT ".length)) as Result;
}

const TORCH_SCRIPT = fileURLToPath(new URL("../../../../bench/torch_throughput.py", import.meta.url));

/** The first python that imports torch: Debian's /usr/bin/python3 (python3-torch) first, then python3 on PATH. */
function findTorchPython(): string | undefined {
  for (const py of ["/usr/bin/python3", "python3"]) {
    if (py.startsWith("/") && !existsSync(py)) continue;
    const r = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
    if (r.status === 0) return py;
  }
  return undefined;
}

function torchInfo(py: string): BlasInfo | undefined {
  const r = spawnSync(py, [TORCH_SCRIPT, "--info"], { encoding: "utf8" });
  return r.status === 0 ? (JSON.parse(r.stdout.trim()) as BlasInfo) : undefined;
}

/**
 * One PyTorch process per thread count: `torch.set_num_threads` sets only PyTorch's own pool, and OpenBLAS (pthread
 * build) keeps one thread per core unless its environment says otherwise, so "1 thread" would use every core.
 */
function runTorch(py: string, spec: string, batch: number, seconds: number, reps: number, threads: number[]): TorchResult[] {
  return threads.flatMap((t) => {
    const n = String(t);
    const r = spawnSync(py, [TORCH_SCRIPT, "--batch", String(batch), "--seconds", String(seconds), "--reps", String(reps), "--threads", n, "--models", spec], {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n },
    });
    if (r.status !== 0) {
      console.error(`PyTorch run failed: ${r.stderr.trim().split("\n").slice(-1)[0]}`);
      return [];
    }
    return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as TorchResult);
  });
}

const fmt = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toPrecision(3)) : "—");
const shapeKey = (s: readonly number[]): string => s.join("x");
const range = (r: { min: number; max: number; median: number }, reps: number): string =>
  `${fmt(r.median)}${reps > 1 && Number.isFinite(r.min) ? ` [${fmt(r.min)}–${fmt(r.max)}]` : ""}`;

function breakdown(r: Result, top: number): string[] {
  const kernels = r.kernels ?? [];
  const total = kernels.reduce((a, k) => a + k.ms, 0);
  const flops = macsPerImage(r.job.arch, r.job.inputShape, 10);
  const lines = [
    `#### One ${r.job.arch} ${shapeKey(r.job.inputShape)} training step on wasm, batch ${r.job.batch}, kernel by kernel (tf.profile)`,
    "",
    `Sum of kernel times ${total.toFixed(1)} ms (${kernels.reduce((a, k) => a + k.calls, 0)} kernel calls); the same step untimed runs at ` +
      `${((1000 * r.job.batch) / r.median).toFixed(1)} ms (median rate above)` +
      (flops === undefined ? "." : `, ${((2 * flops.training * r.job.batch) / 1e9).toFixed(2)} GFLOP of convolutions and matrix products.`),
    "",
    "| kernel | input shapes | calls | ms | share |",
    "|---|---|---:|---:|---:|",
  ];
  for (const k of kernels.slice(0, top)) lines.push(`| ${k.kernel} | ${k.shapes} | ${k.calls} | ${k.ms.toFixed(2)} | ${((100 * k.ms) / total).toFixed(1)}% |`);
  const rest = kernels.slice(top);
  if (rest.length > 0) {
    const ms = rest.reduce((a, k) => a + k.ms, 0);
    lines.push(`| ${rest.length} others | | ${rest.reduce((a, k) => a + k.calls, 0)} | ${ms.toFixed(2)} | ${((100 * ms) / total).toFixed(1)}% |`);
  }
  return lines;
}

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf("--child");
  if (childIndex >= 0) {
    const result = await child(JSON.parse(process.argv[childIndex + 1]!) as Job);
    console.log(`RESULT ${JSON.stringify(result)}`);
    return;
  }
  const backends = arg("backends", "wasm,cpu").split(",") as BackendName[];
  const models = arg("models", "cnn,mlp,resnet32,wrn-28-2").split(",") as ModelArch[];
  const batches = arg("batch", "64,128").split(",").map(Number);
  const seconds = Number(arg("seconds", "2"));
  const reps = Number(arg("reps", "3"));
  const cores = cpus().length;
  const shapes: Record<ModelArch, Shape[]> = {
    mlp: [[28, 28, 1]],
    cnn: [
      [28, 28, 1],
      [32, 32, 3],
    ],
    resnet32: [[32, 32, 3]],
    "wrn-28-2": [[32, 32, 3]],
    "text-bag": [[1, 16384, 1]],
  };
  const torchOff = arg("torch", "auto") === "off";
  const py = torchOff ? undefined : findTorchPython();
  const blas = py === undefined ? undefined : torchInfo(py);
  const refused = blas === undefined || blas.kind === "reference" || blas.kind === "unknown";
  const threads = [...new Set([cores, 1])];
  const results: Result[] = [];
  const torch: TorchResult[] = [];
  for (const backend of backends) {
    for (const arch of models) {
      for (const inputShape of shapes[arch]) {
        // Only the small models at every batch size; tfjs-cpu trains conv nets at < 1 img/s: one rep at batch 8.
        const small = arch === "mlp" || arch === "cnn";
        if (backend === "cpu" && !small) continue;
        const slowCpu = backend === "cpu" && arch === "cnn";
        for (const batch of slowCpu ? [8] : small ? batches : batches.slice(0, 1)) {
          const profile = backend === "wasm" && arch === "cnn" && batch === batches[0];
          const job: Job = { backend, arch, inputShape, batch, seconds: slowCpu ? 0 : seconds, reps: slowCpu ? 1 : reps, profile };
          const r = runChild(job);
          results.push(r);
          console.error(`${backend} ${arch} ${shapeKey(inputShape)} batch ${batch}: ${r.error ?? `${fmt(r.median)} img/s`}`);
          if (py !== undefined && small && backend === "wasm") {
            const t = runTorch(py, `${arch}:${shapeKey(inputShape)}`, batch, seconds, reps, threads);
            torch.push(...t);
            console.error(`  PyTorch: ${t.map((p) => `${fmt(p.median)} img/s (${p.threads} thr)`).join(", ")}`);
          }
        }
      }
    }
  }
  const out: string[] = [
    `Training throughput, images/s (median [min–max] of ${reps} reps of >= ${seconds} s, after 2 warm-up steps; SGD momentum, softmax CE, 10 classes)`,
    `node ${process.version}, ${process.platform}-${process.arch}, ${cores} cores, tfjs 4.22.0 wasm (one thread, SIMD)`,
  ];
  if (torchOff) out.push("PyTorch: skipped (--torch off).");
  else if (py === undefined) out.push("PyTorch: not available (`import torch` fails for /usr/bin/python3 and python3; Debian: apt-get install python3-torch libopenblas0-pthread).");
  else if (blas === undefined) out.push(`PyTorch (${py}): its BLAS could not be determined; no ratios printed.`);
  else {
    out.push(
      `PyTorch ${blas.torch} (${py}), run right after each wasm job: BLAS ${blas.kind} (loaded: ${blas.mapped.join(", ") || "none"}; build BLAS_INFO=${blas.build}; ` +
        `libblas.so.3 alternative: ${blas.alternative ?? "n/a"}).`,
    );
    if (refused) {
      out.push(
        `PyTorch runs on the ${blas.kind} BLAS, 3-5x slower than it should be: no ratio is printed against it. Install libopenblas0-pthread (Debian) and rerun.`,
      );
    }
  }
  const torchRow = (r: Result, n: number): TorchResult | undefined =>
    torch.find((p) => p.model === r.job.arch && shapeKey(p.inputShape) === shapeKey(r.job.inputShape) && p.batch === r.job.batch && p.threads === n);
  const ratio = (r: Result, ours: number, theirs: number | undefined): string =>
    theirs === undefined ? "" : refused || r.error !== undefined ? "refused" : `${(ours / theirs).toFixed(2)}×`;
  out.push(
    "",
    `| backend | model | input | batch | img/s | GFLOP/s | PyTorch ${cores} threads | ratio | PyTorch 1 thread | ratio per core | img per CPU-s | PyTorch 1 thread per CPU-s | ratio per CPU-s |`,
    "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of results) {
    const macs = macsPerImage(r.job.arch, r.job.inputShape, 10);
    const gflops = macs === undefined || r.error !== undefined ? "" : ((2 * macs.training * r.median) / 1e9).toFixed(1);
    const all = torchRow(r, cores);
    const one = cores === 1 ? undefined : torchRow(r, 1);
    const cell = r.error === undefined ? range(r, r.job.reps) : `failed: ${r.error}`;
    out.push(
      `| ${r.job.backend} | ${r.job.arch} | ${shapeKey(r.job.inputShape)} | ${r.job.batch} | ${cell} | ${gflops} | ${all === undefined ? "" : range(all, reps)} | ${ratio(r, r.median, all?.median)} | ` +
        `${one === undefined ? "" : range(one, reps)} | ${ratio(r, r.median, one?.median)} | ${fmt(r.cpuMedian)} | ${one === undefined ? "" : fmt(one.cpuMedian)} | ${ratio(r, r.cpuMedian, one?.cpuMedian)} |`,
    );
  }
  out.push(
    "",
    "GFLOP/s = 2 × multiply-adds of the convolutions and dense layers in one training step (forward, weight gradients, and input gradients of every layer but the first) × images/s. " +
      "Per CPU-s: images per second of the process's own CPU time (wasm: user + system; PyTorch: process_time), the per-core rate a busy machine distorts less than wall-clock time.",
  );
  for (const r of results.filter((p) => p.kernels !== undefined)) out.push("", ...breakdown(r, 14));
  console.log(out.join("\n"));
}

await main();
