import type * as tf from "@tensorflow/tfjs-core";
import { KERNELS_WASM_BASE64 } from "./kernels-wasm-bytes.ts";

/**
 * The parts of tfjs-backend-wasm 4.22.0's `BackendWasm` these kernels use. `wasm.asm.memory` is the emscripten
 * module's heap; the kernels' own module imports it, so they work on tensors in place.
 */
export interface WasmBackendInternals {
  readonly wasm: { readonly asm?: { readonly memory?: unknown } };
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  getMemoryOffset(dataId: tf.DataId): number;
}

/** The exports of wasm/kernels.wat; pointers are byte offsets into the tfjs wasm heap. */
export interface HeapKernels {
  im2col_t(x: number, out: number, n: number, h: number, w: number, c: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, oh: number, ow: number, ld: number): void;
  max_pool_grad(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number, fh: number, fw: number, sh: number, sw: number, pt: number, pl: number): void;
  relu_bias_grad(y: number, dy: number, dz: number, dbias: number, pixels: number, c: number): void;
  gemm_n8(a: number, b: number, c: number, m: number, n: number, k: number, lda: number): void;
  gemm_nt(a: number, b: number, c: number, m: number, n: number, k: number): void;
  rotate_filter(w: number, out: number, kh: number, kw: number, ci: number, co: number): void;
}

interface WasmApi {
  readonly Memory: abstract new (...args: never[]) => object;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

const instances = new WeakMap<object, HeapKernels>();
let compiled: object | undefined;

function api(): WasmApi {
  const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wa === undefined) throw new Error("WebAssembly is not available");
  return wa;
}

/**
 * The kernels bound to the heap of this wasm backend (instantiated once per backend).
 *
 * @throws if the backend's heap is not where tfjs-backend-wasm 4.22.0 keeps it (a tfjs update moved it).
 */
export function heapKernels(backend: WasmBackendInternals): HeapKernels {
  const module = backend.wasm;
  let k = instances.get(module);
  if (k === undefined) {
    const wa = api();
    const memory = module.asm?.memory;
    if (!(memory instanceof wa.Memory)) throw new Error("@selmix/models: the tfjs wasm backend exposes no heap memory (wasm.asm.memory)");
    compiled ??= new wa.Module(Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0)));
    k = new wa.Instance(compiled, { env: { memory } }).exports as HeapKernels;
    instances.set(module, k);
  }
  return k;
}

/** Byte offset of a tensor's data on the wasm heap. */
export function heapOffset(backend: WasmBackendInternals, info: tf.TensorInfo): number {
  return backend.getMemoryOffset(info.dataId);
}
