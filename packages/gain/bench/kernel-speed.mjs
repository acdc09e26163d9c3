#!/usr/bin/env node
// Raw speed of the wasm kernels, single-threaded, straight from a .wat (compiled with wabt on the fly), for tuning
// block shapes: node bench/kernel-speed.mjs [file.wat=wasm/kernels.wat] [K=1000] [d=512]
// Prints the best of a few runs of fused (K x K) and matmul_t (K x K over d) in ms and G multiply-adds/s.
import { readFileSync } from "node:fs";
import { compileWat } from "../scripts/build-wasm.mjs";
const file = process.argv[2] ?? new URL("../wasm/kernels.wat", import.meta.url);
const bytes = await compileWat(readFileSync(file, "utf8"));
const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
const K = Number(process.argv[3] ?? 1000), D = Number(process.argv[4] ?? 512);
inst.memory.grow(Math.ceil((6 * K * K * 8 + 1e6) / 65536));
const f = new Float64Array(inst.memory.buffer);
for (let i = 0; i < 4 * K * K; i++) f[i] = Math.random();
const kk = K * K * 8;
const reps = K >= 500 ? 3 : 50; // best of reps
let ts = [];
for (let r = 0; r < reps; r++) { const t = performance.now(); inst.fused(0, kk, 2 * kk, 3 * kk, 4 * kk, 5 * kk, K); ts.push(performance.now() - t); }
ts.sort((a, b) => a - b);
const fusedMs = ts[0];
ts = [];
for (let r = 0; r < reps; r++) { const t = performance.now(); inst.matmul_t(0, kk, 4 * kk, K, K, D); ts.push(performance.now() - t); }
ts.sort((a, b) => a - b);
console.log(process.argv[2] ?? "wasm/kernels.wat", K, "fused min ms", fusedMs.toFixed(2), (3 * K ** 3 / fusedMs / 1e6).toFixed(2), "GFMA/s; matmul", ts[0].toFixed(2), (K * K * D / ts[0] / 1e6).toFixed(2), "GFMA/s");
