import { SelmixError } from "@selmix/core";
import { KERNELS_WASM_BASE64 } from "./kernels-wasm-bytes.ts";
import { fusedProducts, matmulTransposed } from "./linalg.ts";

/** The exports of wasm/kernels.wat. Pointers are byte offsets into `memory`. */
interface KernelExports {
  readonly memory: WebAssembly.Memory;
  matmul_t(a: number, b: number, out: number, m: number, n: number, k: number): void;
  fused(e1: number, p1: number, e2: number, q2: number, s: number, n: number, k: number): void;
}

const PAGE = 65536;
/** wasm32 addresses 4 GiB; stay one page short so every pointer fits an i32 comfortably. */
const MAX_BYTES = 2 ** 32 - PAGE;

/** undefined: not tried yet; null: WebAssembly or SIMD unavailable. */
let kernels: KernelExports | null | undefined;

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The instantiated kernels (compiled synchronously on first use: the module is ~2 KB), or null if unavailable. */
export function wasmKernels(): KernelExports | null {
  if (kernels === undefined) {
    try {
      const module = new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64));
      kernels = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
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

/**
 * {@link matmulTransposed} by the wasm SIMD kernel: out[i][j] = Σ_l a[i][l]·b[j][l] for row-major a [m, k] and
 * b [n, k]. Falls back to the JS kernel when wasm is unavailable or the operands do not fit its memory.
 */
export function matmulTransposedWasm(a: Float64Array, b: Float64Array, m: number, n: number, k: number): Float64Array {
  const w = wasmKernels();
  if (w === null) return matmulTransposed(a, b, m, n, k);
  if (m === 0 || n === 0) return new Float64Array(m * n);
  const { offsets, bytes } = layout([m * k, n * k, m * n]);
  const [oa, ob, oo] = offsets as [number, number, number];
  const f64 = heap(w, bytes);
  if (f64 === null) return matmulTransposed(a, b, m, n, k);
  f64.set(a.subarray(0, m * k), oa / 8);
  f64.set(b.subarray(0, n * k), ob / 8);
  w.matmul_t(oa, ob, oo, m, n, k);
  return f64.slice(oo / 8, oo / 8 + m * n);
}

/**
 * {@link fusedProducts} by the wasm SIMD kernel: S = E1·E2ᵀ and N = P1·E2ᵀ + E1·Q2ᵀ, all [k, k] row-major. Returns
 * to the JS kernel when wasm is unavailable or the operands do not fit its memory.
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
  const { offsets, bytes } = layout([kk, kk, kk, kk, kk, kk]);
  const [o1, op, o2, oq, os, on] = offsets as [number, number, number, number, number, number];
  const f64 = heap(w, bytes);
  if (f64 === null) return fusedProducts(e1, p1, e2, q2, k);
  f64.set(e1.subarray(0, kk), o1 / 8);
  f64.set(p1.subarray(0, kk), op / 8);
  f64.set(e2.subarray(0, kk), o2 / 8);
  f64.set(q2.subarray(0, kk), oq / 8);
  w.fused(o1, op, o2, oq, os, on, k);
  return { s: f64.slice(os / 8, os / 8 + kk), n: f64.slice(on / 8, on / 8 + kk) };
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
