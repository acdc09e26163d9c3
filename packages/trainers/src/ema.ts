import type { Model, NamedArray } from "@selmix/models";

/** Exponential moving average of every model weight (batch-norm statistics included), kept as plain arrays. */
export interface Ema {
  /** shadow ← d·shadow + (1 − d)·weights, with d the decay of this update (see {@link EmaOptions.warmup}). */
  update(): void;
  /** Updates so far (restored with the averages when resuming). */
  readonly updates: number;
  /** Copies of the averaged weights, ready for `model.setWeights`. */
  weights(): NamedArray[];
  /** For checkpoints: the averages named `ema/<weight>`. */
  state(): NamedArray[];
  /**
   * Replaces the averages with ones saved by {@link Ema.state} (ignored when the number of weights differs) and sets
   * the update count (the step of the checkpoint; it drives the warm-up).
   */
  restore(state: readonly NamedArray[], updates?: number): void;
  /** Drops the averages. */
  dispose(): void;
}

/** Options of {@link createEma}. */
export interface EmaOptions {
  /**
   * Warm-up of the decay: update t (1-based) uses min(decay, (1 + t) / (10 + t)) (TensorFlow's
   * `ExponentialMovingAverage` with `num_updates`). Without it, decay 0.999 keeps 0.999^1000 ≈ 37 % of the random
   * initial weights after 1000 steps; with it the average follows the live weights early and forgets the start.
   * @defaultValue false
   */
  readonly warmup?: boolean;
}

/** The decay of EMA update `t` (1-based): `decay`, or with warm-up min(decay, (1 + t) / (10 + t)). */
function emaDecay(decay: number, t: number, warmup: boolean): number {
  return warmup ? Math.min(decay, (1 + t) / (10 + t)) : decay;
}

/**
 * Starts an EMA of `model`'s weights with decay `decay` (0.999 in FixMatch).
 *
 * @example
 * {@includeCode ./examples.test.ts#createEma}
 */
export function createEma(model: Model, decay: number, options: EmaOptions = {}): Ema {
  const warmup = options.warmup ?? false;
  let shadow = model.getWeights().map((w) => ({ ...w, values: Float32Array.from(w.values) }));
  let updates = 0;
  return {
    update() {
      updates += 1;
      const d = emaDecay(decay, updates, warmup);
      const live = model.getWeights();
      live.forEach((w, i) => {
        const s = shadow[i]!.values;
        for (let j = 0; j < s.length; j++) s[j] = d * s[j]! + (1 - d) * w.values[j]!;
      });
    },
    get updates() {
      return updates;
    },
    weights: () => shadow.map((w) => ({ ...w, values: Float32Array.from(w.values) })),
    state: () => shadow.map((w) => ({ name: `ema/${w.name}`, shape: w.shape, values: w.values })),
    restore(state, restoredUpdates) {
      if (state.length === shadow.length) shadow = state.map((w, i) => ({ name: shadow[i]!.name, shape: w.shape, values: Float32Array.from(w.values) }));
      if (restoredUpdates !== undefined) updates = restoredUpdates;
    },
    dispose() {
      shadow = [];
    },
  };
}
