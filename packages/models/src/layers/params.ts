import type { Rng } from "@selmix/core";
import * as tf from "@tensorflow/tfjs-core";

/**
 * Where a weight belongs: `head` (classifier W, b), `backbone` (conv and dense weights of the feature extractor),
 * `norm` (batch-norm gamma and beta) or `state` (batch-norm running mean and variance; never trained).
 */
export type ParamGroup = "head" | "backbone" | "norm" | "state";

/** A named float32 array with its shape, row-major (the tfjs/NHWC layout of the tensor). */
export interface NamedArray {
  /** Weight name. */
  readonly name: string;
  /** Tensor shape. */
  readonly shape: readonly number[];
  /** Values, row-major. */
  readonly values: Float32Array;
}

/** Name, shape and group of one model weight. */
export interface WeightSpec {
  /** Weight name. */
  readonly name: string;
  /** Tensor shape. */
  readonly shape: readonly number[];
  /** Parameter group the weight belongs to. */
  readonly group: ParamGroup;
}

/** @internal A registered weight. */
export interface Param extends WeightSpec {
  readonly variable: tf.Variable;
}

/** @internal Owns a model's variables; engine names are prefixed so that many models can coexist. */
export interface ParamStore {
  readonly rng: Rng;
  readonly params: Param[];
  add(name: string, group: ParamGroup, shape: readonly number[], values: Float32Array): tf.Variable;
}

let modelCounter = 0;

/** @internal */
export function createParamStore(arch: string, rng: Rng): ParamStore {
  const prefix = `selmix_${arch}_${++modelCounter}`;
  const params: Param[] = [];
  const names = new Set<string>();
  return {
    rng,
    params,
    add(name, group, shape, values) {
      if (names.has(name)) throw new Error(`duplicate weight name ${name}`);
      names.add(name);
      const initial = tf.tensor(values, [...shape], "float32");
      const variable = tf.variable(initial, group !== "state", `${prefix}/${name}`);
      initial.dispose();
      params.push({ name, group, shape: [...shape], variable });
      return variable;
    },
  };
}

/** @internal He (Kaiming) normal: N(0, 2 / fan). */
export function heNormal(rng: Rng, size: number, fan: number): Float32Array {
  const std = Math.sqrt(2 / fan);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
  return out;
}

/** @internal Glorot (Xavier) normal: N(0, 2 / (fanIn + fanOut)). */
export function glorotNormal(rng: Rng, size: number, fanIn: number, fanOut: number): Float32Array {
  const std = Math.sqrt(2 / (fanIn + fanOut));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
  return out;
}

/** @internal */
export function filled(size: number, value: number): Float32Array {
  return new Float32Array(size).fill(value);
}
