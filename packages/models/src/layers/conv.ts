import * as tf from "@tensorflow/tfjs-core";
import { filled, glorotNormal, heNormal, type ParamStore } from "./params.ts";

/** @internal A square convolution without bias, NHWC, weights [k, k, in, out]. */
export interface Conv {
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

/**
 * @internal Padding follows PyTorch (`padding = (k - 1) / 2` on every side), so stride-2 layers match a PyTorch
 * model exactly; for stride 1 this equals tfjs `"same"`.
 */
export function createConv(
  store: ParamStore,
  name: string,
  k: number,
  cin: number,
  cout: number,
  stride: 1 | 2,
  fan: "in" | "out" = "in",
): Conv {
  const w = createConvWeight(store, name, k, cin, cout, fan);
  const p = (k - 1) / 2;
  const pad: "same" | [[0, 0], [number, number], [number, number], [0, 0]] =
    stride === 1 ? "same" : [[0, 0], [p, p], [p, p], [0, 0]];
  return { apply: (x) => tf.conv2d(x, w as tf.Tensor4D, stride, pad) };
}

/** @internal A He-normal conv filter [k, k, in, out] named `<name>.weight`. */
export function createConvWeight(store: ParamStore, name: string, k: number, cin: number, cout: number, fan: "in" | "out" = "in"): tf.Variable {
  return store.add(`${name}.weight`, "backbone", [k, k, cin, cout], heNormal(store.rng, k * k * cin * cout, k * k * (fan === "in" ? cin : cout)));
}

/** @internal A dense layer y = x·W + b with W stored [in, out]. */
export interface Dense {
  apply(x: tf.Tensor2D): tf.Tensor2D;
}

/** @internal */
export function createDense(store: ParamStore, name: string, cin: number, cout: number): Dense {
  const w = store.add(`${name}.weight`, "backbone", [cin, cout], heNormal(store.rng, cin * cout, cin));
  const b = store.add(`${name}.bias`, "backbone", [cout], filled(cout, 0));
  return { apply: (x) => tf.add(tf.matMul(x, w as tf.Tensor2D), b) };
}

/** @internal The classifier: logits = z·Wᵀ + b with W stored [numClasses, featureDim] (PyTorch `Linear` layout). */
export interface Head {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  apply(z: tf.Tensor2D): tf.Tensor2D;
}

/** @internal */
export function createHead(store: ParamStore, featureDim: number, numClasses: number): Head {
  const weight = store.add("head.weight", "head", [numClasses, featureDim], glorotNormal(store.rng, numClasses * featureDim, featureDim, numClasses));
  const bias = store.add("head.bias", "head", [numClasses], filled(numClasses, 0));
  return {
    weight,
    bias,
    apply: (z) => tf.add(tf.matMul(z, weight as tf.Tensor2D, false, true), bias),
  };
}
