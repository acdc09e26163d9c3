import { createRng } from "@selmix/core";
import { createObjective, fromValues } from "@selmix/metrics";
import { gainMatrix, samplingDistribution } from "/work/main/packages/gain/dist/index.js";
const k = Number(process.argv[2]), dim = Number(process.argv[3]);
const rng = createRng(1);
const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
const counts = Array.from({ length: k * k }, (_, idx) => (Math.floor(idx / k) === idx % k ? 50 : 0) + Math.floor(rng.next() * 5));
const inputs = { confusion: fromValues(k, counts), prototypes: Float64Array.from({ length: k * dim }, normal), weights: Float64Array.from({ length: k * dim }, () => normal() / Math.sqrt(dim)), bias: Float64Array.from({ length: k }, () => 0.1 * normal()), dim, objective: createObjective("min-recall") };
for (let r = 0; r < Number(process.argv[4] ?? 5); r++) {
  let t = performance.now(); const res = gainMatrix(inputs, { kernels: "wasm" }); const t1 = performance.now() - t;
  t = performance.now(); samplingDistribution(res.gain); const t2 = performance.now() - t;
  console.log(t1.toFixed(2), t2.toFixed(2), res.fallbackEntries);
}
