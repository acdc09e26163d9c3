import { SelmixError } from "@selmix/core";
import { type NpyArray, readNpy } from "@selmix/trainers";

/** A feature matrix read from a `.npy` file: row-major [rows, dim], float32. */
export interface FeatureFile {
  readonly path: string;
  readonly features: Float32Array;
  readonly rows: number;
  readonly dim: number;
}

const shapeText = (a: NpyArray): string => `(${a.shape.join(", ")}${a.shape.length === 1 ? "," : ""})`;
const isFloat = (a: NpyArray): boolean => a.dtype === "<f4" || a.dtype === "<f8";

/**
 * Reads a 2-D float32/float64 `.npy` file of features (float64 is rounded to float32); every value must be finite.
 *
 * @throws `SelmixError` the codes of `readNpy`; `INVALID_ARGUMENT` for an integer dtype; `INVALID_SHAPE`
 *   for a 1-D array; `INVALID_VALUE` for NaN or ±Infinity. Every message starts with the file.
 */
export function readFeatureFile(path: string): FeatureFile {
  const a = readNpy(path);
  if (!isFloat(a)) throw new SelmixError("INVALID_ARGUMENT", `${path}: features must be float32 or float64, got dtype '${a.dtype}'`);
  if (a.shape.length !== 2) throw new SelmixError("INVALID_SHAPE", `${path}: features must be 2-D [N, d], got shape ${shapeText(a)}`);
  const [rows, dim] = a.shape as [number, number];
  if (rows === 0 || dim === 0) throw new SelmixError("INVALID_SHAPE", `${path}: features are empty, shape ${shapeText(a)}`);
  const features = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
  for (let j = 0; j < features.length; j++) {
    if (!Number.isFinite(features[j])) {
      throw new SelmixError("INVALID_VALUE", `${path}: value ${features[j]} at row ${Math.floor(j / dim)}, column ${j % dim}`);
    }
  }
  return { path, features, rows, dim };
}

/**
 * Reads a 1-D integer `.npy` file of class labels (int64, int32, int16, int8 or uint8).
 *
 * @throws `SelmixError` the codes of `readNpy`; `INVALID_ARGUMENT` for a float dtype; `INVALID_SHAPE` for a
 *   2-D array.
 */
export function readLabelFile(path: string): Int32Array {
  const a = readNpy(path);
  if (!(a.data instanceof Int32Array)) throw new SelmixError("INVALID_ARGUMENT", `${path}: labels must be integers, got dtype '${a.dtype}'`);
  if (a.shape.length !== 1) throw new SelmixError("INVALID_SHAPE", `${path}: labels must be 1-D [N], got shape ${shapeText(a)} (save y.ravel())`);
  return a.data;
}

/**
 * Reads a linear head: weights [K, d] and bias [K], float32 or float64, finite.
 *
 * @throws `SelmixError` as {@link readFeatureFile}; `INVALID_SHAPE` when the bias does not have K values, naming
 *   the weights file when they look transposed ([d, K]).
 */
export function readHeadFiles(weightPath: string, biasPath: string): { weight: Float32Array; bias: Float32Array } {
  const w = readFeatureFile(weightPath);
  const b = readNpy(biasPath);
  if (!isFloat(b)) throw new SelmixError("INVALID_ARGUMENT", `${biasPath}: bias must be float32 or float64, got dtype '${b.dtype}'`);
  if (b.shape.length === 1 && b.shape[0] === w.dim && w.dim !== w.rows) {
    throw new SelmixError(
      "INVALID_SHAPE",
      `${weightPath}: head weights have shape (${w.rows}, ${w.dim}) but ${biasPath} has ${w.dim} classes: transposed? weights must be [K, d] = (${w.dim}, ${w.rows})`,
    );
  }
  if (b.shape.length !== 1 || b.shape[0] !== w.rows) {
    throw new SelmixError("INVALID_SHAPE", `${biasPath}: bias must have shape (${w.rows},) to match ${weightPath} ${`(${w.rows}, ${w.dim})`}, got ${shapeText(b)}`);
  }
  const bias = b.data instanceof Float32Array ? b.data : Float32Array.from(b.data);
  const bad = bias.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new SelmixError("INVALID_VALUE", `${biasPath}: value ${bias[bad]} at index ${bad}`);
  return { weight: w.features, bias };
}

/**
 * Checks one split's labels against its features and the number of classes.
 *
 * @throws `SelmixError` `INVALID_SHAPE` when the counts differ; `INVALID_VALUE` for a label outside [0, K).
 */
export function checkLabels(features: FeatureFile, labelPath: string, labels: Int32Array, numClasses: number, classesFrom: string): void {
  if (labels.length !== features.rows) {
    throw new SelmixError("INVALID_SHAPE", `${labelPath}: ${labels.length} labels but ${features.path} has ${features.rows} rows`);
  }
  const bad = labels.findIndex((y) => y < 0 || y >= numClasses);
  if (bad >= 0) {
    throw new SelmixError("INVALID_VALUE", `${labelPath}: label ${labels[bad]} at index ${bad} is outside [0, ${numClasses}) (${classesFrom})`);
  }
}
