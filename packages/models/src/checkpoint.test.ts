import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SelmixError } from "@selmix/core";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { initBackend } from "./backend.ts";
import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint-format.ts";
import { loadCheckpoint, modelFromCheckpoint, readCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { createModel } from "./create-model.ts";
import { randomArray } from "./test-utils/helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-ckpt-"));

beforeAll(async () => {
  await initBackend({ name: "wasm" });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("checkpoints", () => {
  test("round-trip bit-exactly: weights, running stats, optimizer state, metadata", () => {
    const model = createModel({ arch: "resnet32", inputShape: [8, 8, 3], numClasses: 5, seed: 1 });
    // make running statistics non-trivial
    tf.tidy(() => model.features(tf.tensor4d(randomArray(4 * 8 * 8 * 3, 2), [4, 8, 8, 3]), true));
    const momentum = [
      { name: "momentum/head.weight", shape: [5, 64], values: randomArray(320, 3) },
      { name: "weird", shape: [4], values: new Float32Array([Number.NaN, -0, Number.POSITIVE_INFINITY, 1e-45]) },
    ];
    const path = join(dir, "a.ckpt");
    saveCheckpoint(path, model, { step: 123, datasetManifestId: "cifar10-lt-100", optimizerState: momentum, extra: { lr: 0.1 } });
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);

    const other = createModel({ arch: "resnet32", inputShape: [8, 8, 3], numClasses: 5, seed: 99 });
    const ck = loadCheckpoint(path, other);
    expect(ck.metadata).toEqual({
      arch: "resnet32",
      inputShape: [8, 8, 3],
      numClasses: 5,
      step: 123,
      datasetManifestId: "cifar10-lt-100",
      extra: { lr: 0.1 },
    });
    const saved = model.getWeights();
    const loaded = other.getWeights();
    expect(loaded.map((w) => w.name)).toEqual(saved.map((w) => w.name));
    saved.forEach((w, i) => {
      expect(bytesOf(loaded[i]!.values).equals(bytesOf(w.values))).toBe(true);
    });
    ck.optimizerState.forEach((o, i) => {
      expect(o.name).toBe(momentum[i]!.name);
      expect(o.shape).toEqual(momentum[i]!.shape);
      expect(bytesOf(o.values).equals(bytesOf(momentum[i]!.values))).toBe(true);
    });

    const { model: rebuilt } = modelFromCheckpoint(path);
    rebuilt.getWeights().forEach((w, i) => {
      expect(bytesOf(w.values).equals(bytesOf(saved[i]!.values))).toBe(true);
    });
    [model, other, rebuilt].forEach((m) => {
      m.dispose();
    });
  });

  test("a corrupt or truncated file gives CORRUPT_FILE; a missing one NOT_FOUND", () => {
    const model = createModel({ arch: "mlp", inputShape: [6, 6, 1], numClasses: 3, seed: 1 });
    const path = join(dir, "b.ckpt");
    saveCheckpoint(path, model, { step: 1 });
    const good = readFileSync(path);
    const flipped = Uint8Array.from(good);
    flipped[Math.floor(good.length * 0.7)]! ^= 0x10;
    writeFileSync(path, flipped);
    expect(() => loadCheckpoint(path, model)).toThrow(expect.objectContaining({ code: "CORRUPT_FILE" }));
    writeFileSync(path, good.subarray(0, good.length - 100));
    expect(() => readCheckpoint(path)).toThrow(expect.objectContaining({ code: "CORRUPT_FILE" }));
    writeFileSync(path, "not a checkpoint");
    expect(() => readCheckpoint(path)).toThrow(expect.objectContaining({ code: "CORRUPT_FILE" }));
    expect(() => readCheckpoint(join(dir, "missing.ckpt"))).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    // A folder named best.ckpt is an IO_ERROR naming it (it was an uncoded EISDIR).
    const folder = join(dir, "folder.ckpt");
    mkdirSync(folder);
    expect(() => readCheckpoint(folder)).toThrow(new SelmixError("IO_ERROR", `checkpoint ${folder} cannot be read (it is a folder)`));
    model.dispose();
  });

  test("a header that parses but lies is caught by its hashes", () => {
    const w = [{ name: "a", shape: [2], values: new Float32Array([1, 2]) }];
    const bytes = encodeCheckpoint({ arch: "mlp", inputShape: [1, 1, 1], numClasses: 2, step: 0 }, w);
    const text = Buffer.from(bytes).toString("latin1").replace('"step":0', '"step":9');
    expect(() => decodeCheckpoint(Buffer.from(text, "latin1"))).toThrow(expect.objectContaining({ code: "CORRUPT_FILE" }));
    expect(decodeCheckpoint(bytes).weights[0]!.values).toEqual(new Float32Array([1, 2]));
  });

  test("architecture, class-count or shape mismatch gives MISMATCH", () => {
    const cnn = createModel({ arch: "cnn", inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    const path = join(dir, "c.ckpt");
    saveCheckpoint(path, cnn);
    const mlp = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    const cnn5 = createModel({ arch: "cnn", inputShape: [28, 28, 1], numClasses: 5, seed: 1 });
    const cnn32 = createModel({ arch: "cnn", inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
    for (const m of [mlp, cnn5, cnn32]) {
      expect(() => loadCheckpoint(path, m)).toThrow(expect.objectContaining({ code: "MISMATCH" }));
    }
    // a checkpoint whose weight table disagrees with its own architecture
    const weights = cnn.getWeights().map((w, i) => (i === 0 ? { ...w, shape: [w.values.length], values: w.values } : w));
    writeFileSync(path, encodeCheckpoint({ arch: "cnn", inputShape: [28, 28, 1], numClasses: 10, step: 0 }, weights));
    expect(() => loadCheckpoint(path, cnn)).toThrow(expect.objectContaining({ code: "MISMATCH" }));
    expect(() => modelFromCheckpoint(path)).toThrow(expect.objectContaining({ code: "MISMATCH" }));
    [cnn, mlp, cnn5, cnn32].forEach((m) => {
      m.dispose();
    });
  });
});
