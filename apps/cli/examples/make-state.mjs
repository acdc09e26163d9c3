// Writes apps/cli/examples/state.json, the input of `selmix gain --state`, from a pre-trained run (default: the
// demo's, runs/demo/pretrain): the validation confusion counts, the class prototypes (mean validation features)
// and the linear head. Run from the repository root: node apps/cli/examples/make-state.mjs [RUN_DIR]
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadManifest, materialize } from "@selmix/datasets";
import { classPrototypes } from "@selmix/gain";
import { initBackend, modelFromCheckpoint } from "@selmix/models";
import { predict } from "@selmix/trainers";

const run = process.argv[2] ?? "runs/demo/pretrain";
await initBackend({ name: "wasm" });
const splits = await materialize(await loadManifest(join(run, "manifest.json")));
const { model } = modelFromCheckpoint(join(run, "best.ckpt"));
const { dataset, indices } = splits.validation;
const { predicted, features } = await predict(model, dataset, indices, { withFeatures: true });
const k = model.numClasses;
const d = model.featureDim;
const labels = Int32Array.from(indices, (i) => dataset.labels[i]);
const confusion = Array.from({ length: k }, () => new Array(k).fill(0));
labels.forEach((y, s) => confusion[y][predicted[s]]++);
const round = (x) => Number(x.toPrecision(6));
const rows = (flat, cols) => Array.from({ length: flat.length / cols }, (_, r) => Array.from(flat.subarray(r * cols, (r + 1) * cols), round));
const head = model.headWeights();
const state = {
  confusion,
  prototypes: rows(classPrototypes(features, labels, k, d), d),
  head: { weights: rows(head.weight, d), bias: Array.from(head.bias, round) },
};
writeFileSync(new URL("state.json", import.meta.url), `${JSON.stringify(state)}\n`);
console.log(`wrote apps/cli/examples/state.json: K = ${k}, d = ${d}, from ${run}`);
