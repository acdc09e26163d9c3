/**
 * One helper thread (Node worker_threads) with its own instance of the kernels, so the large products can use a
 * second core while the calling thread computes its own band of rows. The API stays synchronous: the caller posts
 * a job, computes, then blocks in `Atomics.wait` until the helper reports. Operands travel through a
 * SharedArrayBuffer (the helper copies them into its wasm memory and its results back). Anything unexpected (no
 * worker_threads, a crashed or silent helper) makes {@link postJob} return null or the job's `wait` return false,
 * and the caller computes the band itself.
 */

/** A kernel call for the helper: its arguments are the byte pointers of `inputs` then of the outputs, then `scalars`. */
export interface HelperJob {
  readonly fn: "matmul_t" | "fused_rows";
  readonly inputs: readonly Float64Array[];
  readonly outputLengths: readonly number[];
  readonly scalars: readonly number[];
}

/** A posted job: `wait` blocks until the helper is done and returns false if it failed or timed out. */
export interface PostedJob {
  wait(): boolean;
  /** The helper's outputs (valid after `wait` returned true). */
  readonly outputs: Float64Array[];
}

interface WorkerLike {
  postMessage(message: unknown): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  unref(): void;
  terminate(): unknown;
}

interface Helper {
  readonly worker: WorkerLike;
  /** [0]: id of the last finished job; [1]: 1 if that job failed. */
  readonly control: Int32Array;
  shared: SharedArrayBuffer;
  nextId: number;
  broken: boolean;
}

/** The helper's script (CommonJS, run with `eval: true`): copy in, run the kernel, copy out, signal. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const wasm = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes), {}).exports;
const control = new Int32Array(workerData.control);
parentPort.on("message", (job) => {
  let failed = 0;
  try {
    const need = job.wasmOffsets[job.wasmOffsets.length - 1];
    const have = wasm.memory.buffer.byteLength;
    if (need > have) wasm.memory.grow(Math.ceil((need - have) / 65536));
    const heap = new Float64Array(wasm.memory.buffer);
    const shared = new Float64Array(job.shared);
    const nIn = job.inputLengths.length;
    for (let t = 0; t < nIn; t++) {
      const at = job.sharedOffsets[t];
      heap.set(shared.subarray(at, at + job.inputLengths[t]), job.wasmOffsets[t] / 8);
    }
    wasm[job.fn](...job.wasmOffsets.slice(0, -1), ...job.scalars);
    for (let t = 0; t < job.outputLengths.length; t++) {
      const from = job.wasmOffsets[nIn + t] / 8;
      shared.set(heap.subarray(from, from + job.outputLengths[t]), job.sharedOffsets[nIn + t]);
    }
  } catch {
    failed = 1;
  }
  Atomics.store(control, 1, failed);
  Atomics.store(control, 0, job.id);
  Atomics.notify(control, 0);
});
`;

/** undefined: not started; null: unavailable or given up. */
let helper: Helper | null | undefined;

function startHelper(bytes: Uint8Array): Helper | null {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const os = proc?.getBuiltinModule?.("node:os") as { availableParallelism?: () => number } | undefined;
    const threads = proc?.getBuiltinModule?.("node:worker_threads") as
      | { Worker: new (source: string, options: object) => WorkerLike }
      | undefined;
    if (threads === undefined || (os?.availableParallelism?.() ?? 1) < 2) return null;
    const controlBuffer = new SharedArrayBuffer(8);
    const worker = new threads.Worker(WORKER_SOURCE, { eval: true, workerData: { bytes, control: controlBuffer } });
    worker.unref();
    const h: Helper = { worker, control: new Int32Array(controlBuffer), shared: new SharedArrayBuffer(8), nextId: 1, broken: false };
    const giveUp = (): void => {
      h.broken = true;
    };
    worker.on("error", giveUp);
    worker.on("exit", giveUp);
    return h;
  } catch {
    return null;
  }
}

/** Element offsets of consecutive arrays, each 2-element (16-byte) aligned, and the total. */
function offsets(lengths: readonly number[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const len of lengths) {
    out.push(at);
    at += len + (len & 1);
  }
  out.push(at);
  return out;
}

/**
 * Posts `job` to the helper thread (started on first use, with the module `bytes`). Returns null when no helper can
 * run (no worker_threads, a single core, or it failed before); the caller then does the work itself.
 */
export function postJob(bytes: Uint8Array, job: HelperJob): PostedJob | null {
  if (helper === undefined) helper = startHelper(bytes);
  const h = helper;
  if (h === null || h.broken) return null;
  const lengths = [...job.inputs.map((a) => a.length), ...job.outputLengths];
  const elementOffsets = offsets(lengths);
  const totalElements = elementOffsets[elementOffsets.length - 1]!;
  if (h.shared.byteLength < totalElements * 8) h.shared = new SharedArrayBuffer(Math.ceil(totalElements * 1.25) * 8 + 16);
  const shared = new Float64Array(h.shared);
  job.inputs.forEach((a, t) => {
    shared.set(a, elementOffsets[t]!);
  });
  const id = h.nextId++;
  const posted = performance.now();
  h.worker.postMessage({
    id,
    fn: job.fn,
    shared: h.shared,
    sharedOffsets: elementOffsets,
    wasmOffsets: elementOffsets.map((e) => e * 8),
    inputLengths: job.inputs.map((a) => a.length),
    outputLengths: job.outputLengths,
    scalars: job.scalars,
  });
  const outputs: Float64Array[] = [];
  return {
    outputs,
    wait(): boolean {
      // Generous: the helper does about as much as the caller did meanwhile; only a dead or starved one times out.
      const deadline = performance.now() + 30_000 + 20 * (performance.now() - posted);
      for (;;) {
        const done = Atomics.load(h.control, 0);
        if (done === id) break;
        const left = deadline - performance.now();
        if (left <= 0 || h.broken) {
          h.broken = true; // a late helper could still write into `shared`: stop using it
          void h.worker.terminate();
          return false;
        }
        Atomics.wait(h.control, 0, done, Math.min(left, 1000));
      }
      if (Atomics.load(h.control, 1) !== 0) return false;
      const view = new Float64Array(h.shared);
      job.outputLengths.forEach((len, t) => {
        const at = elementOffsets[job.inputs.length + t]!;
        outputs.push(view.slice(at, at + len));
      });
      return true;
    },
  };
}
