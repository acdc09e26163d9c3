/**
 * A gradient worker thread: its own tfjs backend and model replica; for every request it computes one shard's
 * gradients (see `shard-step.ts`) and posts them back. It keeps no state between steps: the weights come with
 * every request, so checkpoints of the main thread alone resume a run exactly.
 */
import { parentPort, workerData } from "node:worker_threads";
import { isSelmixError } from "@selmix/core";
import { createModel, initBackend, type Model } from "@selmix/models";
import * as tf from "@tensorflow/tfjs-core";
import type { StepReply, StepRequest, WorkerInit } from "./protocol.ts";
import { shardGradients, variablesByName } from "./shard-step.ts";

const init = workerData as WorkerInit;
const port = parentPort!;
const reply = (m: StepReply, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const fail = (error: unknown): void =>
  reply({ type: "error", code: isSelmixError(error) ? error.code : null, message: error instanceof Error ? error.message : String(error) });

async function start(): Promise<void> {
  await initBackend({ name: init.backend, wasmKernels: init.wasmKernels });
  const model: Model = createModel({ arch: init.arch, inputShape: init.inputShape, numClasses: init.numClasses, seed: 0 });
  const byName = variablesByName(model);
  const variables = init.variables.map((n) => byName.get(n)!);
  const adjustment = init.loss.kind !== "mixup" && init.loss.adjustment !== undefined ? tf.tensor1d(init.loss.adjustment) : undefined;
  port.on("message", (request: StepRequest) => {
    try {
      const r = shardGradients(model, init.loss, variables, adjustment, request);
      const numTensors = tf.memory().numTensors;
      reply({ type: "grads", grads: r.grads, values: r.values, state: r.state, numTensors }, r.grads.map((g) => g.buffer as ArrayBuffer));
    } catch (error) {
      fail(error);
    }
  });
  reply({ type: "ready" });
}

start().catch(fail);
