// The `@example` of every public export: each test's `//#region <name>` is what TypeDoc shows (`{@includeCode}`),
// the assertions after it check what the example computes.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  activeBackend,
  assertCheckpointMatches,
  BACKEND_ORDER,
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION,
  createModel,
  decodeCheckpoint,
  encodeCheckpoint,
  initBackend,
  loadCheckpoint,
  MODEL_ARCHS,
  modelFromCheckpoint,
  readCheckpoint,
  registerWasmTrainingKernels,
  saveCheckpoint,
  wasmTrainingKernelLevel,
} from "@selmix/models";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, expect, test } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "selmix-models-examples-"));

beforeAll(async () => {
  await initBackend({ name: "wasm" });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mlp = (seed = 0) => createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed });

test("BACKEND_ORDER", () => {
  //#region BACKEND_ORDER
  // the backends "auto" falls back to once the native tfjs-node builds are ruled out
  const portable = BACKEND_ORDER.slice(BACKEND_ORDER.indexOf("wasm"));
  //#endregion BACKEND_ORDER
  expect(portable).toEqual(["wasm", "cpu"]);
  expect(BACKEND_ORDER[0]).toBe("tensorflow-gpu");
});

test("initBackend", async () => {
  //#region initBackend
  const { name, tried } = await initBackend(); // "wasm" on a machine without tfjs-node
  await initBackend({ name: "cpu" }); // exactly cpu, or throw
  //#endregion initBackend
  expect(["tensorflow-gpu", "tensorflow", "wasm", "cpu"]).toContain(name);
  expect(tried.at(-1)).toMatchObject({ name, ok: true, reason: "ok" });
  expect(tf.getBackend()).toBe("cpu");
  await initBackend({ name: "wasm" });
  expect(tf.getBackend()).toBe("wasm");
});

test("activeBackend", async () => {
  //#region activeBackend
  await initBackend({ name: "wasm" });
  const running = activeBackend(); // "wasm"
  //#endregion activeBackend
  expect(running).toBe("wasm");
});

test("registerWasmTrainingKernels", () => {
  //#region registerWasmTrainingKernels
  // before tf.setBackend("wasm") when not going through initBackend (which registers "fast" itself)
  const level = registerWasmTrainingKernels("fast");
  //#endregion registerWasmTrainingKernels
  expect(level).toBe("fast");
  expect(registerWasmTrainingKernels("min")).toBe("fast"); // a lower level changes nothing
});

test("wasmTrainingKernelLevel", () => {
  //#region wasmTrainingKernelLevel
  const canTrainCnn = activeBackend() !== "wasm" || wasmTrainingKernelLevel() !== "none";
  //#endregion wasmTrainingKernelLevel
  expect(wasmTrainingKernelLevel()).toBe("fast");
  expect(canTrainCnn).toBe(true);
});

test("createModel", () => {
  const x = tf.randomUniform([2, 28, 28, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  //#region createModel
  const model = createModel({ arch: "cnn", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const logits = tf.tidy(() => model.logits(x, false));
  //#endregion createModel
  expect(logits.shape).toEqual([2, 10]);
  expect(model.featureDim).toBe(128);
  const again = createModel({ arch: "cnn", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  expect(again.getWeights()).toEqual(model.getWeights()); // same seed, same bits
  tf.dispose([x, logits]);
  model.dispose();
  again.dispose();
});

test("MODEL_ARCHS", () => {
  //#region MODEL_ARCHS
  const featureDims = MODEL_ARCHS.map((arch) => {
    const inputShape = arch === "text-bag" ? ([1, 16384, 1] as const) : ([32, 32, 3] as const); // text: [1, buckets, 1]
    const model = createModel({ arch, inputShape, numClasses: 10, seed: 0 });
    const dim = model.featureDim;
    model.dispose();
    return [arch, dim] as const;
  });
  //#endregion MODEL_ARCHS
  expect(Object.fromEntries(featureDims)).toEqual({ mlp: 128, cnn: 128, resnet32: 64, "wrn-28-2": 128, "text-bag": 128 });
});

test("CHECKPOINT_MAGIC", () => {
  const path = join(dir, "magic.ckpt");
  const model = mlp();
  saveCheckpoint(path, model);
  //#region CHECKPOINT_MAGIC
  const head = readFileSync(path).subarray(0, CHECKPOINT_MAGIC.length);
  const isCheckpoint = new TextDecoder().decode(head) === CHECKPOINT_MAGIC;
  //#endregion CHECKPOINT_MAGIC
  expect(isCheckpoint).toBe(true);
  expect(CHECKPOINT_MAGIC).toBe("SELMIXCK");
  model.dispose();
});

test("CHECKPOINT_VERSION", () => {
  const model = mlp();
  const bytes = encodeCheckpoint({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, step: 0 }, model.getWeights());
  //#region CHECKPOINT_VERSION
  // u32 little-endian right after the 8 magic bytes
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const readable = version === CHECKPOINT_VERSION;
  //#endregion CHECKPOINT_VERSION
  expect(readable).toBe(true);
  expect(version).toBe(1);
  model.dispose();
});

test("encodeCheckpoint", () => {
  const model = mlp();
  //#region encodeCheckpoint
  const bytes = encodeCheckpoint(
    { arch: model.arch, inputShape: model.inputShape, numClasses: model.numClasses, step: 100 },
    model.getWeights(),
    [{ name: "momentum/head.weight", shape: [2], values: new Float32Array([0.5, -0.5]) }],
  );
  //#endregion encodeCheckpoint
  const floats = model.getWeights().reduce((s, w) => s + w.values.length, 0) + 2;
  expect(bytes.length).toBeGreaterThan(floats * 4 + 16 + 32);
  expect(decodeCheckpoint(bytes).metadata.step).toBe(100);
  model.dispose();
});

test("decodeCheckpoint", () => {
  const model = mlp();
  const bytes = encodeCheckpoint({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, step: 7 }, model.getWeights());
  //#region decodeCheckpoint
  const { metadata, weights, optimizerState } = decodeCheckpoint(bytes, "in-memory");
  const copy = createModel({ ...metadata, seed: 0 });
  copy.setWeights(weights);
  //#endregion decodeCheckpoint
  expect(metadata).toEqual({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, step: 7 });
  expect(optimizerState).toEqual([]);
  expect(copy.getWeights()).toEqual(model.getWeights());
  const damaged = Uint8Array.from(bytes);
  damaged[100]! ^= 1;
  expect(() => decodeCheckpoint(damaged, "in-memory")).toThrow(/SHA-256/);
  model.dispose();
  copy.dispose();
});

test("saveCheckpoint", () => {
  const model = mlp(3);
  //#region saveCheckpoint
  const path = join(dir, "run-a", "step-100.ckpt");
  const metadata = saveCheckpoint(path, model, { step: 100, datasetManifestId: "mnist-lt-100", extra: { lr: 0.1 } });
  //#endregion saveCheckpoint
  expect(metadata).toEqual({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, step: 100, datasetManifestId: "mnist-lt-100", extra: { lr: 0.1 } });
  expect(readCheckpoint(path).weights).toEqual(model.getWeights());
  model.dispose();
});

test("readCheckpoint", () => {
  const model = mlp(4);
  const path = join(dir, "read.ckpt");
  saveCheckpoint(path, model, { step: 42 });
  //#region readCheckpoint
  const { metadata, weights, payloadSha256 } = readCheckpoint(path); // touches no model
  console.log(`${metadata.arch} at step ${metadata.step}: ${weights.length} tensors, sha256 ${payloadSha256.slice(0, 8)}`);
  //#endregion readCheckpoint
  expect(metadata.step).toBe(42);
  expect(weights.map((w) => w.name)).toEqual(model.weightSpecs().map((s) => s.name));
  expect(payloadSha256).toMatch(/^[0-9a-f]{64}$/);
  model.dispose();
});

test("assertCheckpointMatches", () => {
  const path = join(dir, "assert.ckpt");
  const trained = mlp(5);
  saveCheckpoint(path, trained);
  //#region assertCheckpointMatches
  const checkpoint = readCheckpoint(path);
  const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  assertCheckpointMatches(checkpoint, model); // throws MISMATCH for another arch, shape or class count
  model.setWeights(checkpoint.weights);
  //#endregion assertCheckpointMatches
  expect(model.getWeights()).toEqual(trained.getWeights());
  const cnn = createModel({ arch: "cnn", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  expect(() => assertCheckpointMatches(checkpoint, cnn)).toThrow(/checkpoint is mlp, model is cnn/);
  model.dispose();
  trained.dispose();
  cnn.dispose();
});

test("loadCheckpoint", () => {
  const path = join(dir, "load.ckpt");
  const trained = mlp(6);
  saveCheckpoint(path, trained, { step: 100 });
  //#region loadCheckpoint
  const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const { metadata } = loadCheckpoint(path, model); // model now holds the saved weights
  const resumeAt = metadata.step;
  //#endregion loadCheckpoint
  expect(resumeAt).toBe(100);
  const x = tf.randomUniform([2, 28, 28, 1], 0, 1, "float32", 2) as tf.Tensor4D;
  const a = model.logits(x, false);
  const b = trained.logits(x, false);
  expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
  tf.dispose([x, a, b]);
  model.dispose();
  trained.dispose();
});

test("modelFromCheckpoint", () => {
  const path = join(dir, "rebuild.ckpt");
  const trained = createModel({ arch: "resnet32", inputShape: [8, 8, 3], numClasses: 5, seed: 7 });
  saveCheckpoint(path, trained, { step: 3 });
  //#region modelFromCheckpoint
  const { model, checkpoint } = modelFromCheckpoint(path); // architecture, shape and classes from the file
  console.log(`${model.arch} ${model.inputShape.join("x")} → ${model.numClasses} classes, step ${checkpoint.metadata.step}`);
  //#endregion modelFromCheckpoint
  expect([model.arch, model.inputShape, model.numClasses, checkpoint.metadata.step]).toEqual(["resnet32", [8, 8, 3], 5, 3]);
  expect(model.getWeights()).toEqual(trained.getWeights());
  model.dispose();
  trained.dispose();
});
