import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { SelmixError, type SelmixErrorCode } from "@selmix/core";
import { activeBackend, type Model, type ModelArch, type NamedArray, wasmTrainingKernelLevel } from "@selmix/models";
import * as tf from "@tensorflow/tfjs-core";
import type { BatchPart, GradsReply, ShardLoss, StepExtras, StepReply, StepRequest, WorkerInit } from "./protocol.ts";
import { variablesByName } from "./shard-step.ts";

/** What one data-parallel step returns. */
export interface ParallelStep {
  /** Full-batch gradients keyed by the main model's variable names (new tensors: pass them to `Sgd.step`). */
  readonly grads: tf.NamedTensorMap;
  /** Loss parts of the whole batch (the shards' shares summed in worker order). */
  readonly values: readonly number[];
}

/**
 * A pool of worker threads, each with its own tfjs backend and a replica of one model, that computes the gradient
 * of a batch split into fixed shards: worker i always gets the i-th contiguous row range of every part, the shard
 * gradients are summed in worker order in float32 on the main thread, and batch-norm running statistics (train
 * mode) are averaged in the same order. The main model stays the only copy of the weights: every step sends them,
 * so the same seed and worker count give bit-identical numbers and the main thread's checkpoints resume exactly.
 *
 * Batch norm normalises each shard with the shard's own statistics, so different worker counts give (slightly)
 * different numbers; models without batch norm (MLP, CNN) differ only by float32 summation order.
 */
export interface GradientWorkers {
  /** Number of worker threads. */
  readonly size: number;
  /**
   * One step (one at a time): splits `parts` into shards, sends each worker the model's current weights and its
   * shard, sums the gradients in worker order and, in batch-norm `"train"` mode, writes the averaged running
   * statistics into the model.
   *
   * @throws `SelmixError` (with the worker's code) when a worker fails; `INVALID_VALUE` if a part has fewer rows
   *   than there are workers.
   */
  step(parts: Readonly<Record<string, BatchPart>>, extras?: StepExtras): Promise<ParallelStep>;
  /** `tf.memory().numTensors` of every worker after its last step: flat from step to step in a leak-free loop. */
  workerTensors(): readonly number[];
  /** Stops the threads. */
  close(): Promise<void>;
}

/** Options of {@link startGradientWorkers}. */
export interface GradientWorkersOptions {
  /** The main thread's model (its architecture and current backend are replicated). */
  readonly model: Model;
  /** Threads, ≥ 1. */
  readonly workers: number;
  /** The loss to differentiate. */
  readonly loss: ShardLoss;
  /** Variables of `model` to differentiate (e.g. `model.trainableVariables()`). */
  readonly variables: readonly tf.Variable[];
}

/**
 * Default worker count of a one-run command for `arch`: every core on the wasm and cpu backends (single-threaded in
 * Node); 1 on the native TensorFlow backends, which use every core already, for the MLP, whose step (about
 * 5 ms at batch 64) is shorter than a round trip of its weights and gradients to the workers, and for `text-bag`,
 * whose 4 MiB embedding would make that round trip every step.
 *
 * @example
 * {@includeCode ../examples.test.ts#defaultWorkerCount}
 */
export function defaultWorkerCount(arch: ModelArch): number {
  const backend = activeBackend();
  if (backend === "tensorflow" || backend === "tensorflow-gpu" || arch === "mlp" || arch === "text-bag") return 1;
  return Math.max(1, availableParallelism());
}

/** The thread's entry: next to this file once built; from the source (tests), the built copy in `dist/`. */
function workerScript(): URL {
  const here = new URL("./gradient-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL("../../dist/parallel/gradient-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new SelmixError("NOT_FOUND", `the gradient worker ${fileURLToPath(built)} is missing: run pnpm build`);
}

/** Row range of shard `i` of `n` over `rows` rows. */
function shardRange(rows: number, i: number, n: number): [number, number] {
  return [Math.floor((i * rows) / n), Math.floor(((i + 1) * rows) / n)];
}

function slicePart(part: BatchPart, i: number, n: number): BatchPart {
  const [from, to] = shardRange(part.rows, i, n);
  const width = part.data.length / part.rows;
  return { data: part.data.slice(from * width, to * width), rows: to - from };
}

/**
 * Starts the threads of a {@link GradientWorkers} pool and waits until every one has its backend and model.
 *
 * @throws `SelmixError` `INVALID_VALUE` if `workers` is not a positive integer; `BACKEND_UNAVAILABLE` if no backend
 *   was started on the main thread; `INVALID_ARGUMENT` on the native (tfjs-node) backends; a worker's own error if
 *   it cannot start.
 * @example
 * {@includeCode ../examples.test.ts#startGradientWorkers}
 */
export async function startGradientWorkers(options: GradientWorkersOptions): Promise<GradientWorkers> {
  const { model, workers: n } = options;
  if (!(Number.isInteger(n) && n >= 1)) throw new SelmixError("INVALID_VALUE", `workers must be a positive integer, got ${n}`);
  const backend = activeBackend();
  if (backend === undefined) throw new SelmixError("BACKEND_UNAVAILABLE", "start a backend with initBackend() before the gradient workers");
  if (backend === "tensorflow" || backend === "tensorflow-gpu") {
    throw new SelmixError("INVALID_ARGUMENT", `workers: gradient workers are for the single-threaded wasm and cpu backends; ${backend} uses every core already`);
  }
  const nameOf = new Map([...variablesByName(model)].map(([name, v]) => [v, name]));
  const names = options.variables.map((v) => {
    const name = nameOf.get(v);
    if (name === undefined) throw new SelmixError("INVALID_ARGUMENT", `variable ${v.name} is not a weight of the model`);
    return name;
  });
  const init: WorkerInit = {
    backend,
    wasmKernels: wasmTrainingKernelLevel(),
    arch: model.arch,
    inputShape: model.inputShape,
    numClasses: model.numClasses,
    loss: options.loss,
    variables: names,
  };
  const script = workerScript();
  // execArgv []: the built worker resolves its siblings to dist/, whatever conditions a test runner passed to Node
  const threads = Array.from({ length: n }, () => new Worker(script, { workerData: init, execArgv: [] }));
  const tensors = new Array<number>(n).fill(0);
  /** The worker's next answer; its error (or its death) rejects. */
  const next = (w: Worker): Promise<Exclude<StepReply, { type: "error" }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: StepReply): void => {
        w.off("error", onError);
        w.off("exit", onExit);
        if (m.type === "error") reject(m.code === null ? new Error(`gradient worker: ${m.message}`) : new SelmixError(m.code as SelmixErrorCode, m.message));
        else resolve(m);
      };
      const onError = (e: Error): void => {
        w.off("message", onMessage);
        w.off("exit", onExit);
        reject(e);
      };
      const onExit = (code: number): void => {
        w.off("message", onMessage);
        w.off("error", onError);
        reject(new Error(`gradient worker exited with code ${code}`));
      };
      w.once("message", onMessage);
      w.once("error", onError);
      w.once("exit", onExit);
    });
  const close = async (): Promise<void> => {
    await Promise.all(threads.map((w) => w.terminate()));
  };
  try {
    await Promise.all(threads.map(next));
  } catch (error) {
    await close();
    throw error;
  }
  const specs = model.weightSpecs();
  const stateIdx = specs.flatMap((s, i) => (s.group === "state" ? [i] : []));
  const mainVars = options.variables;

  return {
    size: n,
    async step(parts, extras = {}) {
      const totals: Record<string, number> = {};
      for (const [name, part] of Object.entries(parts)) {
        if (part.rows < n) throw new SelmixError("INVALID_VALUE", `${name} has ${part.rows} rows, fewer than the ${n} workers`);
        totals[name] = part.rows;
      }
      const weights = model.getWeights();
      const bnMode = model.bnMode;
      const replies = (await Promise.all(
        threads.map((w, i) => {
          const shard: Record<string, BatchPart> = {};
          for (const [name, part] of Object.entries(parts)) shard[name] = slicePart(part, i, n);
          const answer = next(w);
          w.postMessage({ weights, bnMode, parts: shard, totals, extras } satisfies StepRequest);
          return answer;
        }),
      )) as GradsReply[];
      const grads: tf.NamedTensorMap = {};
      const values: number[] = [];
      replies.forEach((r, i) => {
        tensors[i] = r.numTensors;
        r.values.forEach((v, j) => {
          values[j] = (values[j] ?? 0) + v;
        });
      });
      mainVars.forEach((v, j) => {
        const sum = Float32Array.from(replies[0]!.grads[j]!);
        for (let i = 1; i < n; i++) {
          const g = replies[i]!.grads[j]!;
          for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! + g[k]!; // stored as float32: a float32 sum, in worker order
        }
        grads[v.name] = tf.tensor(sum, v.shape, "float32");
      });
      if (bnMode === "train" && stateIdx.length > 0) writeAveragedState(model, weights, stateIdx, replies.map((r) => r.state));
      return { grads, values };
    },
    workerTensors: () => [...tensors],
    close,
  };
}

/** Running statistics = the workers' statistics averaged in worker order (float32). */
function writeAveragedState(model: Model, weights: NamedArray[], stateIdx: readonly number[], states: readonly (readonly NamedArray[])[]): void {
  const n = states.length;
  const merged = [...weights];
  stateIdx.forEach((wi, s) => {
    const avg = Float32Array.from(states[0]![s]!.values);
    for (let i = 1; i < n; i++) {
      const v = states[i]![s]!.values;
      for (let k = 0; k < avg.length; k++) avg[k] = avg[k]! + v[k]!;
    }
    for (let k = 0; k < avg.length; k++) avg[k] = avg[k]! / n;
    merged[wi] = { ...weights[wi]!, values: avg };
  });
  model.setWeights(merged);
}
