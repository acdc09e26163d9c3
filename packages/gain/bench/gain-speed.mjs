#!/usr/bin/env node
// Median wall time of gainMatrix + samplingDistribution with the JS and the wasm kernels.
// Build first: pnpm --filter @selmix/core build && pnpm --filter @selmix/metrics build && pnpm --filter @selmix/gain build
// Usage: node bench/gain-speed.mjs [repeats=7]   (K=1000 uses fewer repeats: a JS run takes seconds)
import { execSync } from "node:child_process";
import { createRng } from "@selmix/core";
import { createObjective, fromValues } from "@selmix/metrics";
import { gainMatrix, samplingDistribution } from "../dist/index.js";

const repeats = Number(process.argv[2] ?? 7);
const sizes = [
  [10, 64],
  [100, 128],
  [1000, 512],
];

function problem(k, dim, seed) {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const counts = Array.from({ length: k * k }, (_, idx) => (Math.floor(idx / k) === idx % k ? 50 : 0) + Math.floor(rng.next() * 5));
  return {
    confusion: fromValues(k, counts),
    prototypes: Float64Array.from({ length: k * dim }, normal),
    weights: Float64Array.from({ length: k * dim }, () => normal() / Math.sqrt(dim)),
    bias: Float64Array.from({ length: k }, () => 0.1 * normal()),
    dim,
    objective: createObjective("min-recall"),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

console.log(`load: ${execSync("uptime").toString().trim()}`);
// wall: elapsed time; cpu: user + system time of all the process's threads (less sensitive to other load, and
// above wall when the helper thread works in parallel).
console.log("K\td\tkernels\twall ms\tcpu ms\truns");
for (const [k, dim] of sizes) {
  const inputs = problem(k, dim, 1);
  const runs = k >= 1000 ? Math.max(3, Math.ceil(repeats / 2)) : k >= 100 ? repeats * 5 : repeats * 20;
  for (const kernels of ["js", "wasm"]) {
    const run = () => samplingDistribution(gainMatrix(inputs, { kernels }).gain, { temperature: 0.1 });
    run(); // warm-up (JIT, wasm compile, memory growth)
    const times = [];
    const cpu = [];
    for (let r = 0; r < runs; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      run();
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    console.log(`${k}\t${dim}\t${kernels}\t${median(times).toFixed(2)}\t${median(cpu).toFixed(2)}\t${runs}`);
  }
}
console.log(`load: ${execSync("uptime").toString().trim()}`);
