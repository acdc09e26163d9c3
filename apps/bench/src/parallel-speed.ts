import { availableParallelism, loadavg } from "node:os";
import { createRng } from "@selmix/core";
import { createManifest, type Dataset, loadSource, resolveProfile, type Subset, splitsFromManifest } from "@selmix/datasets";
import { createModel } from "@selmix/models";
import { DEFAULT_FIXMATCH_CONFIG, DEFAULT_PRETRAIN_CONFIG, pretrain, pretrainFixMatch } from "@selmix/trainers";
import { torchCnnRate } from "./torch-anchor.ts";

type Shape = readonly [number, number, number];

/** Random uint8 images with labels i mod 10: `images` training rows and 20 validation rows. */
function syntheticSplits(shape: Shape, images: number): { train: Subset; validation: Subset } {
  const rng = createRng(0);
  const n = images + 20;
  const dataset: Dataset = {
    images: Uint8Array.from({ length: n * shape[0] * shape[1] * shape[2] }, () => Math.floor(rng.next() * 256)),
    labels: Int32Array.from({ length: n }, (_, i) => i % 10),
    height: shape[0],
    width: shape[1],
    channels: shape[2],
    numClasses: 10,
  };
  const rows = (from: number, count: number): Int32Array => Int32Array.from({ length: count }, (_, i) => from + i);
  return { train: { dataset, indices: rows(0, images) }, validation: { dataset, indices: rows(images, 20) } };
}

/** Wall-clock and CPU time (every thread of the process) at each step event. */
interface Clock {
  readonly wall: number[];
  readonly cpu: number[];
  tick(): void;
}

function clock(): Clock {
  const wall: number[] = [];
  const cpu: number[] = [];
  return {
    wall,
    cpu,
    tick() {
      wall.push(performance.now());
      const u = process.cpuUsage();
      cpu.push((u.user + u.system) / 1000);
    },
  };
}

/** Wall and CPU milliseconds between the `from`-th and the last tick. */
function span(c: Clock, from: number): { readonly wallMs: number; readonly cpuMs: number; readonly intervals: number } {
  return { wallMs: c.wall.at(-1)! - c.wall[from]!, cpuMs: c.cpu.at(-1)! - c.cpu[from]!, intervals: c.wall.length - 1 - from };
}

/** `pretrain` of a CNN on synthetic images, timed between its 2nd and last step (no validation inside). */
async function cnnTraining(shape: Shape, batch: number, workers: number, steps: number): Promise<{ imagesPerSecond: number; cpuMsPerImage: number }> {
  const { train, validation } = syntheticSplits(shape, 512);
  const model = createModel({ arch: "cnn", inputShape: shape, numClasses: 10, seed: 0 });
  const c = clock();
  const config = { ...DEFAULT_PRETRAIN_CONFIG, steps: steps + 2, evalEvery: steps + 2, batchSize: batch, workers };
  await pretrain(model, train, validation, config, { onProgress: (e) => e.kind === "step" && c.tick() });
  model.dispose();
  const t = span(c, 1);
  const images = batch * t.intervals;
  return { imagesPerSecond: (images * 1000) / t.wallMs, cpuMsPerImage: t.cpuMs / images };
}

/** Wall and CPU seconds per FixMatch step (CNN, MNIST, B = 64, mu = 2), between the first and the last step. */
async function fixMatchStep(workers: number, steps: number): Promise<{ wall: number; cpu: number }> {
  const source = await loadSource("mnist");
  const params = resolveProfile("semi-supervised", { n1: 100, rhoL: 10, m1: 200, rhoU: 10, valPerClass: 10 });
  const s = splitsFromManifest(source, createManifest(source, params, 0));
  const model = createModel({ arch: "cnn", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const c = clock();
  const config = { ...DEFAULT_FIXMATCH_CONFIG, steps, evalEvery: steps, batchSize: 64, mu: 2, workers };
  await pretrainFixMatch(model, s.labeled, s.unlabeled, s.validation, config, { onProgress: (e) => e.kind === "step" && c.tick() });
  model.dispose();
  const t = span(c, 0);
  return { wall: t.wallMs / 1000 / t.intervals, cpu: t.cpuMs / 1000 / t.intervals };
}

/**
 * `bench speed`'s data-parallel section: CNN training throughput with 1 (this thread) and N gradient workers at
 * batch 64 and 128 on both input shapes, and the FixMatch CNN step time, as Markdown lines.
 */
export async function dataParallelSection(quick: boolean, log: (message: string) => void): Promise<string[]> {
  const n = Math.max(2, availableParallelism());
  const steps = quick ? 3 : 10;
  const lines = [
    `### Data-parallel training in one run (1 = this thread, ${n} = gradient worker threads)`,
    "",
    `\`pretrain\` of the CNN on synthetic images: img/s over ${steps} steps after a warm-up step (no validation inside); ` +
      `load average ${loadavg()[0]!.toFixed(1)} at the start (above ${n}, other jobs take cores and the speed-ups shrink):`,
    "",
    `| input | batch | img/s, 1 | img/s, ${n} workers | speed-up | CPU ms/img, 1 | CPU ms/img, ${n} workers | PyTorch ${n} threads | ${n} workers / PyTorch |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const shape of [
    [28, 28, 1],
    [32, 32, 3],
  ] as const) {
    for (const batch of [64, 128]) {
      log(`data parallel: cnn ${shape.join("x")} batch ${batch}`);
      const one = await cnnTraining(shape, batch, 1, steps);
      const many = await cnnTraining(shape, batch, n, steps);
      const torch = torchCnnRate(shape, batch, n, quick ? 1 : 2, quick ? 1 : 3); // right after, on the same machine state
      lines.push(
        `| ${shape.join("x")} | ${batch} | ${one.imagesPerSecond.toFixed(0)} | ${many.imagesPerSecond.toFixed(0)} | ` +
          `${(many.imagesPerSecond / one.imagesPerSecond).toFixed(2)}x | ${one.cpuMsPerImage.toFixed(2)} | ${many.cpuMsPerImage.toFixed(2)} | ` +
          `${torch === undefined ? "no torch" : torch.toFixed(0)} | ${torch === undefined ? "" : `${(many.imagesPerSecond / torch).toFixed(2)}x`} |`,
      );
    }
  }
  const fmSteps = quick ? 4 : 10;
  log("data parallel: FixMatch cnn step");
  const fmOne = await fixMatchStep(1, fmSteps);
  const fmMany = await fixMatchStep(n, fmSteps);
  lines.push(
    "",
    `FixMatch(-LA) step, CNN on MNIST 28x28x1, B = 64, mu = 2 (320 images, augmentation included), mean of ${fmSteps - 1} steps:`,
    "",
    "| workers | s per step | speed-up | CPU s per step |",
    "|---:|---:|---:|---:|",
    `| 1 | ${fmOne.wall.toFixed(3)} | 1.00x | ${fmOne.cpu.toFixed(3)} |`,
    `| ${n} | ${fmMany.wall.toFixed(3)} | ${(fmOne.wall / fmMany.wall).toFixed(2)}x | ${fmMany.cpu.toFixed(3)} |`,
    "",
    `Goals (issue #12): ${n} workers >= 0.8x PyTorch with ${n} threads (the last column of the table above); a FixMatch CNN step <= 0.4 s in one run. CPU time counts every thread of the process; on an idle machine the ` +
      `wall-clock speed-up of ${n} workers is at most ${n} x (CPU with 1) / (CPU with ${n}), what the split itself costs aside.`,
  );
  return lines;
}
