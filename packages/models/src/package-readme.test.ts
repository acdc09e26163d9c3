import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
//#region readme
import * as tf from "@tensorflow/tfjs-core";
import { createModel, initBackend, loadCheckpoint, saveCheckpoint } from "@selmix/models";
//#endregion readme
import { afterAll, beforeAll, expect, test } from "vitest";
import { expectReadmeExample } from "../../../test-support/readme-example.ts";

// The example writes runs/a/step-100.ckpt relative to the working directory: run it in a scratch one.
const home = process.cwd();
const scratch = mkdtempSync(join(tmpdir(), "selmix-models-readme-"));
beforeAll(() => process.chdir(scratch));
afterAll(() => {
  process.chdir(home);
  rmSync(scratch, { recursive: true, force: true });
});

test("the README example runs on the wasm backend", async () => {
  //#region readme
  const { name, tried } = await initBackend({ name: "wasm" }); // without a name: the first that starts (GPU, native, wasm, cpu)
  const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  model.freezeBatchNorm(true); // SelMix fine-tuning

  // one SelMix step: features of a mixup z = λ·g(x1) + (1−λ)·g(x2), cross-entropy on x1's labels
  const x1 = tf.randomUniform([8, 28, 28, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const x2 = tf.randomUniform([8, 28, 28, 1], 0, 1, "float32", 2) as tf.Tensor4D;
  const y1 = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], "int32"), 10);
  const lam = 0.8;
  const { value, grads } = tf.variableGrads(() => {
    const z = tf.add(tf.mul(model.features(x1, true), lam), tf.mul(model.features(x2, true), 1 - lam));
    return tf.losses.softmaxCrossEntropy(y1, model.head(z as tf.Tensor2D)) as tf.Scalar;
  }, model.trainableVariables());

  saveCheckpoint("runs/a/step-100.ckpt", model, { step: 100 });
  const copy = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  loadCheckpoint("runs/a/step-100.ckpt", copy); // now copy.logits(x, false) equals model.logits(x, false)
  //#endregion readme

  expect(name).toBe("wasm");
  expect(tf.getBackend()).toBe("wasm");
  expect(tried.at(-1)).toMatchObject({ name: "wasm", ok: true });
  const loss = value.dataSync()[0]!;
  expect(Number.isFinite(loss) && loss > 0).toBe(true);
  expect(Object.keys(grads).sort()).toEqual(model.trainableVariables().map((v) => v.name).sort());
  for (const g of Object.values(grads)) expect(tf.all(tf.isFinite(g)).dataSync()[0]).toBe(1);
  const logits = model.logits(x1, false);
  expect(logits.shape).toEqual([8, 10]);
  expect(Array.from(copy.logits(x1, false).dataSync())).toEqual(Array.from(logits.dataSync()));
  tf.dispose([x1, x2, y1, value, logits, ...Object.values(grads)]);
});

test("the README example is the tested code", () => {
  expectReadmeExample(new URL("../", import.meta.url));
});
