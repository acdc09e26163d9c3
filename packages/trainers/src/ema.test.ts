import { createModel, initBackend, type Model } from "@selmix/models";
import { beforeAll, describe, expect, test } from "vitest";
import { createEma } from "./ema.ts";

beforeAll(async () => {
  await initBackend({ name: "cpu" });
});

const mlp = (): Model => createModel({ arch: "mlp", inputShape: [4, 4, 1], numClasses: 3, seed: 0 });
const shift = (model: Model, by: number): void => model.setWeights(model.getWeights().map((w) => ({ ...w, values: w.values.map((v) => v + by) })));
/** How far the first averaged weight has moved from its initial value, as a fraction of the live weights' move. */
const followed = (model: Model, decay: number, warmup: boolean, steps: number): number => {
  const init = model.getWeights()[0]!.values[0]!;
  const ema = createEma(model, decay, { warmup });
  for (let t = 0; t < steps; t++) {
    shift(model, 1);
    ema.update();
  }
  const moved = (ema.weights()[0]!.values[0]! - init) / (model.getWeights()[0]!.values[0]! - init);
  ema.dispose();
  return moved;
};

describe("createEma", () => {
  test("without warm-up, decay 0.999 after 1000 steps still holds the start; with warm-up it follows the weights", () => {
    const a = mlp();
    // live weights move linearly; the plain EMA lags far behind (about 0.999^k weighting)
    expect(followed(a, 0.999, false, 1000)).toBeLessThan(0.45);
    a.dispose();
    const b = mlp();
    expect(followed(b, 0.999, true, 1000)).toBeGreaterThan(0.55);
    b.dispose();
  });

  test("warm-up: update t uses min(decay, (1 + t) / (10 + t))", () => {
    const model = mlp();
    const w0 = model.getWeights()[0]!.values[0]!;
    const ema = createEma(model, 0.999, { warmup: true });
    shift(model, 1);
    ema.update(); // t = 1: d = 2 / 11
    const d = 2 / 11;
    expect(ema.weights()[0]!.values[0]!).toBeCloseTo(d * w0 + (1 - d) * (w0 + 1), 5);
    expect(ema.updates).toBe(1);
    ema.restore(ema.state(), 500);
    expect(ema.updates).toBe(500);
    ema.dispose();
    model.dispose();
  });
});
