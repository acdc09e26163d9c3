import { initBackend, createModel } from "@selmix/models";
import { pluginObjective, recalls } from "@selmix/metrics";
import { beforeAll, expect, test } from "vitest";
import { smallMnist } from "../test/mnist-small.ts";
import { defaultFinetuneConfig, finetune } from "./finetune.ts";
import { DEFAULT_PRETRAIN_CONFIG, pretrain } from "./pretrain.ts";

beforeAll(async () => {
  await initBackend({ name: "wasm" });
});

// The example of docs/guides/custom-objective.md, run as a test: a metric SelMix has no built-in for.
test("a plug-in objective (mean recall of the three rarest classes) is optimised end to end", async () => {
  const data = await smallMnist();
  const model = createModel({ arch: "mlp", inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  await pretrain(model, data.labeled, data.validation, { ...DEFAULT_PRETRAIN_CONFIG, method: "erm", steps: 150, evalEvery: 50 });

  //#region custom-objective
  const tail = [7, 8, 9]; // the rarest classes of the long-tailed training set
  const tailRecall = pluginObjective({
    name: "tail-recall",
    psi: (cm) => {
      const r = recalls(cm);
      return tail.reduce((sum, c) => sum + r[c]!, 0) / tail.length;
    },
  });
  const result = await finetune(
    model,
    { labeled: data.labeled, validation: data.validation },
    { ...defaultFinetuneConfig("mean-recall", "head-only"), steps: 600, lr: 0.003, temperatureScale: "spread", temperature: 0.5, selectBest: false },
    { objective: tailRecall }, // replaces config.objective
  );
  //#endregion custom-objective

  const first = result.diagnostics[0]!.objective;
  const last = result.diagnostics.at(-1)!.objective;
  expect(last).toBeGreaterThan(first);
  model.dispose();
});
