import { SelmixError } from "@selmix/core";
import { KERNELS_WASM_BASE64 } from "./kernels-wasm-bytes.ts";
import { fusedProducts, matmulTransposed } from "./linalg.ts";
import { postJob } from "./wasm-threads.ts";

/** The part of the WebAssembly API used here (lib ES2023 and @types/node 20 do not declare it). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

/** The exports of wasm/kernels.wat. Pointers are byte offsets into `memory`. */
interface KernelExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  matmul_t(a: number, b: number, out: number, m: number, n: number, k: number): void;
  fused_rows(e1: number, p1: number, e2: number, q2: number, s: number, n: number, k: number, i0: number, i1: number): void;
}

const PAGE = 65536;
/** wasm32 addresses 4 GiB; stay one page short so every pointer fits an i32 comfortably. */
const MAX_BYTES = 2 ** 32 - PAGE;

/** The module's binary (also handed to the helper thread). */
const moduleBytes: Uint8Array = decodeBase64(KERNELS_WASM_BASE64);

/** undefined: not tried yet; null: WebAssembly or SIMD unavailable. */
let kernels: KernelExports | null | undefined;

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The instantiated kernels (compiled synchronously on first use: the module is ~2 KB), or null if unavailable. */
function wasmKernels(): KernelExports | null {
  if (kernels === undefined) {
    try {
      const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
      if (api === undefined) throw new Error("no WebAssembly");
      const module = new api.Module(moduleBytes);
      kernels = new api.Instance(module, {}).exports as KernelExports;
    } catch {
      kernels = null;
    }
  }
  return kernels;
}

/** True when the wasm SIMD kernels can run here. */
export function wasmAvailable(): boolean {
  return wasmKernels() !== null;
}

/** Byte offsets of arrays of the given lengths laid out from 0, each 16-byte aligned, and the total size. */
function layout(lengths: readonly number[]): { offsets: number[]; bytes: number } {
  const offsets: number[] = [];
  let bytes = 0;
  for (const len of lengths) {
    offsets.push(bytes);
    bytes += Math.ceil((len * 8) / 16) * 16;
  }
  return { offsets, bytes };
}

/** A float64 view of the memory, grown to at least `bytes`; null if that exceeds what wasm32 can address. */
function heap(k: KernelExports, bytes: number): Float64Array | null {
  if (bytes > MAX_BYTES) return null;
  const have = k.memory.buffer.byteLength;
  if (bytes > have) {
    try {
      k.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch {
      return null;
    }
  }
  return new Float64Array(k.memory.buffer);
}

/** Products of at least this many multiply-adds split their rows with the helper thread. */
const PARALLEL_MIN_WORK = 3e7;

/** Where the helper thread's band starts: an even row near the middle, or `rows` for no split. */
function splitRow(rows: number, work: number): number {
  return work >= PARALLEL_MIN_WORK && rows >= 8 ? Math.floor(rows / 4) * 2 : rows;
}

/** matmul_t on this thread; null if the operands do not fit the memory. */
function matmulHere(w: KernelExports, a: Float64Array, b: Float64Array, m: number, n: number, k: number): Float64Array | null {
  const { offsets, bytes } = layout([m * k, n * k, m * n]);
  const [oa, ob, oo] = offsets as [number, number, number];
  const f64 = heap(w, bytes);
  if (f64 === null) return null;
  f64.set(a.subarray(0, m * k), oa / 8);
  f64.set(b.subarray(0, n * k), ob / 8);
  w.matmul_t(oa, ob, oo, m, n, k);
  return f64.slice(oo / 8, oo / 8 + m * n);
}

/**
 * {@link matmulTransposed} by the wasm SIMD kernel: out[i][j] = Σ_l a[i][l]·b[j][l] for row-major a [m, k] and
 * b [n, k]; large products give the lower half of the rows to a helper thread. Falls back to the JS kernel when
 * wasm is unavailable or the operands do not fit its memory.
 */
export function matmulTransposedWasm(a: Float64Array, b: Float64Array, m: number, n: number, k: number): Float64Array {
  const w = wasmKernels();
  if (w === null) return matmulTransposed(a, b, m, n, k);
  if (m === 0 || n === 0) return new Float64Array(m * n);
  const split = splitRow(m, m * n * k);
  const job =
    split < m
      ? postJob(moduleBytes, { fn: "matmul_t", inputs: [a.subarray(split * k, m * k), b.subarray(0, n * k)], outputLengths: [(m - split) * n], scalars: [m - split, n, k] })
      : null;
  const top = job === null ? m : split;
  const here = matmulHere(w, a, b, top, n, k);
  if (job === null) return here ?? matmulTransposed(a, b, m, n, k);
  const helped = job.wait();
  if (here === null) return matmulTransposed(a, b, m, n, k);
  const out = new Float64Array(m * n);
  out.set(here);
  const rest = a.subarray(split * k, m * k);
  out.set(helped ? job.outputs[0]! : (matmulHere(w, rest, b, m - split, n, k) ?? matmulTransposed(rest, b, m - split, n, k)), split * n);
  return out;
}

/** Rows [0, rows) of S and N on this thread (e1 and p1 hold just those rows); null if they do not fit the memory. */
function fusedHere(
  w: KernelExports,
  e1: Float64Array,
  p1: Float64Array,
  e2: Float64Array,
  q2: Float64Array,
  k: number,
  rows: number,
): { s: Float64Array; n: Float64Array } | null {
  const band = rows * k;
  const { offsets, bytes } = layout([band, band, k * k, k * k, band, band]);
  const [o1, op, o2, oq, os, on] = offsets as [number, number, number, number, number, number];
  const f64 = heap(w, bytes);
  if (f64 === null) return null;
  f64.set(e1.subarray(0, band), o1 / 8);
  f64.set(p1.subarray(0, band), op / 8);
  f64.set(e2.subarray(0, k * k), o2 / 8);
  f64.set(q2.subarray(0, k * k), oq / 8);
  w.fused_rows(o1, op, o2, oq, os, on, k, 0, rows);
  return { s: f64.slice(os / 8, os / 8 + band), n: f64.slice(on / 8, on / 8 + band) };
}

/**
 * {@link fusedProducts} by the wasm SIMD kernel: S = E1·E2ᵀ and N = P1·E2ᵀ + E1·Q2ᵀ, all [k, k] row-major; large
 * ones give the lower half of the rows to a helper thread. Falls back to the JS kernel when wasm is unavailable or
 * the operands do not fit its memory.
 */
export function fusedProductsWasm(
  e1: Float64Array,
  p1: Float64Array,
  e2: Float64Array,
  q2: Float64Array,
  k: number,
): { s: Float64Array; n: Float64Array } {
  const w = wasmKernels();
  if (w === null) return fusedProducts(e1, p1, e2, q2, k);
  const kk = k * k;
  if (kk === 0) return { s: new Float64Array(0), n: new Float64Array(0) };
  const split = splitRow(k, 3 * kk * k);
  const band = (k - split) * k;
  const job =
    split < k
      ? postJob(moduleBytes, {
          fn: "fused_rows",
          inputs: [e1.subarray(split * k, kk), p1.subarray(split * k, kk), e2.subarray(0, kk), q2.subarray(0, kk)],
          outputLengths: [band, band],
          scalars: [k, 0, k - split],
        })
      : null;
  const here = fusedHere(w, e1, p1, e2, q2, k, job === null ? k : split);
  if (job === null) return here ?? fusedProducts(e1, p1, e2, q2, k);
  const helped = job.wait();
  if (here === null) return fusedProducts(e1, p1, e2, q2, k);
  const s = new Float64Array(kk);
  const n = new Float64Array(kk);
  s.set(here.s);
  n.set(here.n);
  if (helped) {
    s.set(job.outputs[0]!, split * k);
    n.set(job.outputs[1]!, split * k);
  } else {
    const rest = fusedHere(w, e1.subarray(split * k), p1.subarray(split * k), e2, q2, k, k - split);
    if (rest === null) return fusedProducts(e1, p1, e2, q2, k);
    s.set(rest.s, split * k);
    n.set(rest.n, split * k);
  }
  return { s, n };
}

/** Which implementation runs the matrix products: see {@link GainOptions.kernels}. */
export type KernelChoice = "auto" | "js" | "wasm";

/** The two matrix products of the gain. */
export interface Kernels {
  readonly matmulTransposed: typeof matmulTransposed;
  readonly fusedProducts: typeof fusedProducts;
}

const JS_KERNELS: Kernels = { matmulTransposed, fusedProducts };
const WASM_KERNELS: Kernels = { matmulTransposed: matmulTransposedWasm, fusedProducts: fusedProductsWasm };

/**
 * The kernels for a choice: `"auto"` is wasm where available, else JS; `"wasm"` throws `BACKEND_UNAVAILABLE`
 * where it is not.
 */
export function selectKernels(choice: KernelChoice = "auto"): Kernels {
  if (choice !== "auto" && choice !== "js" && choice !== "wasm") {
    throw new SelmixError("INVALID_ARGUMENT", `kernels must be "auto", "js" or "wasm", got ${String(choice)}`);
  }
  if (choice === "js") return JS_KERNELS;
  if (wasmAvailable()) return WASM_KERNELS;
  if (choice === "wasm") throw new SelmixError("BACKEND_UNAVAILABLE", "kernels: WebAssembly SIMD is not available here");
  return JS_KERNELS;
}
