import type { Model, NamedArray } from "@selmix/models";

/** Exponential moving average of every model weight (batch-norm statistics included), kept as plain arrays. */
export interface Ema {
  /** shadow ← d·shadow + (1 − d)·weights. */
  update(): void;
  /** Copies of the averaged weights, ready for `model.setWeights`. */
  weights(): NamedArray[];
  /** For checkpoints: the averages named `ema/<weight>`. */
  state(): NamedArray[];
  /** Replaces the averages with ones saved by {@link Ema.state} (ignored when the number of weights differs). */
  restore(state: readonly NamedArray[]): void;
  /** Drops the averages. */
  dispose(): void;
}

/**
 * Starts an EMA of `model`'s weights with decay `decay` (0.999 in FixMatch).
 *
 * @example
 * {@includeCode ./examples.test.ts#createEma}
 */
export function createEma(model: Model, decay: number): Ema {
  let shadow = model.getWeights().map((w) => ({ ...w, values: Float32Array.from(w.values) }));
  return {
    update() {
      const live = model.getWeights();
      live.forEach((w, i) => {
        const s = shadow[i]!.values;
        for (let j = 0; j < s.length; j++) s[j] = decay * s[j]! + (1 - decay) * w.values[j]!;
      });
    },
    weights: () => shadow.map((w) => ({ ...w, values: Float32Array.from(w.values) })),
    state: () => shadow.map((w) => ({ name: `ema/${w.name}`, shape: w.shape, values: w.values })),
    restore(state) {
      if (state.length === shadow.length) shadow = state.map((w, i) => ({ name: shadow[i]!.name, shape: w.shape, values: Float32Array.from(w.values) }));
    },
    dispose() {
      shadow = [];
    },
  };
}
