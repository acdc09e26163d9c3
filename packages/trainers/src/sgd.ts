import type { NamedArray } from "@selmix/models";
import * as tf from "@tensorflow/tfjs-core";

/** Variables trained with the same learning-rate factor and weight decay. */
export interface ParamGroupSpec {
  /** Variables of the group. */
  readonly variables: readonly tf.Variable[];
  /** Multiplier of the step's learning rate (e.g. 0.1 for the backbone in fine-tuning). */
  readonly lrFactor: number;
  /** L2 weight decay added to the gradient of every variable of rank >= 2 (biases are not decayed). */
  readonly weightDecay: number;
}

/** SGD with optional (Nesterov) momentum, per-group learning rates and weight decay. */
export interface Sgd {
  /** Applies one update from gradients keyed by variable name, then disposes them. */
  step(grads: tf.NamedTensorMap, lr: number): void;
  /** Momentum buffers, in a fixed order, for checkpoints. */
  state(): NamedArray[];
  /** Restores buffers saved by {@link Sgd.state}. */
  restore(state: readonly NamedArray[]): void;
  /** Frees the momentum buffers. */
  dispose(): void;
}

/**
 * SGD: g ← g + wd·w (rank ≥ 2 only), v ← μ·v + g, w ← w − lr·(Nesterov ? g + μ·v : v). With μ = 0 it is plain SGD
 * (the reference's fine-tuning optimizer, which ignores its configured momentum).
 *
 * @param groups - Variables with their learning-rate factor and weight decay.
 * @param momentum - μ; 0 for plain SGD.
 * @param nesterov - Use Nesterov momentum.
 *
 * @example
 * {@includeCode ./examples.test.ts#createSgd}
 */
export function createSgd(groups: readonly ParamGroupSpec[], momentum = 0, nesterov = false): Sgd {
  const entries = groups.flatMap((g) => g.variables.map((variable) => ({ variable, group: g })));
  // tidy frees the zerosLike tensors; the variables keep the data
  const buffers = momentum > 0 ? tf.tidy(() => entries.map(({ variable }) => tf.variable(tf.zerosLike(variable), false))) : [];
  return {
    step(grads, lr) {
      tf.tidy(() => {
        entries.forEach(({ variable, group }, idx) => {
          const grad = grads[variable.name];
          if (grad === undefined) return;
          let g: tf.Tensor = grad;
          if (group.weightDecay > 0 && variable.rank >= 2) g = tf.add(g, tf.mul(variable, group.weightDecay));
          let update = g;
          if (momentum > 0) {
            const v = buffers[idx]!;
            v.assign(tf.add(tf.mul(v, momentum), g));
            update = nesterov ? tf.add(g, tf.mul(v, momentum)) : v;
          }
          variable.assign(tf.sub(variable, tf.mul(update, lr * group.lrFactor)));
        });
      });
      tf.dispose(grads);
    },
    state: () =>
      buffers.map((b, idx) => ({ name: `momentum/${idx}`, shape: [...b.shape], values: b.dataSync() as Float32Array })),
    restore(state) {
      state.forEach((s, idx) => {
        const b = buffers[idx];
        if (b !== undefined && s.name === `momentum/${idx}`) tf.tidy(() => b.assign(tf.tensor(s.values, [...s.shape])));
      });
    },
    dispose: () => tf.dispose(buffers),
  };
}
