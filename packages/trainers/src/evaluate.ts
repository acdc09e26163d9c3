import type { Dataset } from "@selmix/datasets";
import { toFloatBatch } from "@selmix/datasets";
import { type ConfusionMatrix, confusionFromPredictions, evaluateMetrics, type HeadTailSplit, type MetricReport } from "@selmix/metrics";
import type { Model } from "@selmix/models";
import * as tf from "@tensorflow/tfjs-core";
import { yieldToEventLoop } from "./event-loop.ts";

/** A model's outputs on a subset, as plain arrays. No labels: predicting never reads them. */
export interface Predictions {
  /** Argmax class per sample. */
  readonly predicted: Int32Array;
  /** Row-major [N, K] softmax probabilities. */
  readonly probabilities: Float32Array;
  /** Row-major [N, featureDim] penultimate features (when asked for). */
  readonly features?: Float32Array;
}

/**
 * Runs the model in inference mode over `indices` of `dataset` in batches (batch norm uses running statistics).
 * It reads images only, never `dataset.labels`, so it is safe on unlabelled data.
 *
 * @param model - The model to run.
 * @param dataset - The pool the indices point into.
 * @param indices - Samples of `dataset` to predict.
 * @param options - Batch size (default 256); `withFeatures` also returns the backbone features.
 * @throws `SelmixError` `INVALID_VALUE` if an index is out of range.
 *
 * @example
 * {@includeCode ./examples.test.ts#predict}
 */
export async function predict(
  model: Model,
  dataset: Dataset,
  indices: Int32Array,
  options: { readonly batchSize?: number; readonly withFeatures?: boolean } = {},
): Promise<Predictions> {
  const batchSize = options.batchSize ?? 256;
  const n = indices.length;
  const k = model.numClasses;
  const probabilities = new Float32Array(n * k);
  const predicted = new Int32Array(n);
  const features = options.withFeatures ? new Float32Array(n * model.featureDim) : undefined;
  const previous = model.bnMode;
  model.setBnMode("eval");
  try {
    for (let start = 0; start < n; start += batchSize) {
      await yieldToEventLoop(); // a long validation pass must not hold off Ctrl-C or the run directory's lock
      const batchIdx = indices.subarray(start, Math.min(n, start + batchSize));
      const outputs = tf.tidy((): tf.Tensor[] => {
        const x = toFloatBatch(dataset, batchIdx);
        const z = model.features(x, false);
        return features === undefined ? [tf.softmax(model.head(z))] : [tf.softmax(model.head(z)), z];
      });
      const p = (await outputs[0]!.data()) as Float32Array;
      probabilities.set(p, start * k);
      if (features !== undefined) features.set((await outputs[1]!.data()) as Float32Array, start * model.featureDim);
      tf.dispose(outputs);
      for (let i = 0; i < batchIdx.length; i++) {
        let best = 0;
        for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + best]!) best = c;
        predicted[start + i] = best;
      }
    }
  } finally {
    model.setBnMode(previous);
  }
  return { predicted, probabilities, ...(features === undefined ? {} : { features }) };
}

/** Confusion matrix and every metric of a model on a labelled subset. */
export interface Evaluation {
  /** Argmax confusion matrix (counts). */
  readonly confusion: ConfusionMatrix;
  /** Every reported metric of `confusion`. */
  readonly metrics: MetricReport;
}

/**
 * Evaluates `model` on a labelled subset (validation or test).
 *
 * @param model - The model to evaluate (inference mode).
 * @param dataset - The pool the indices point into.
 * @param indices - Samples of `dataset` to evaluate.
 * @param options - Batch size (default 256) and the head/tail split of the report.
 * @throws `SelmixError` `INVALID_VALUE` if an index is out of range; `INVALID_SHAPE` if `indices` is empty; `EMPTY_CLASS` if a class has no sample among `indices`; `INVALID_VALUE` / `INVALID_ARGUMENT` for a bad `split`.
 *
 * @example
 * {@includeCode ./examples.test.ts#evaluate}
 */
export async function evaluate(
  model: Model,
  dataset: Dataset,
  indices: Int32Array,
  options: { readonly batchSize?: number; readonly split?: HeadTailSplit } = {},
): Promise<Evaluation> {
  const out = await predict(model, dataset, indices, options.batchSize === undefined ? {} : { batchSize: options.batchSize });
  const labels = Int32Array.from(indices, (idx) => dataset.labels[idx]!);
  const confusion = confusionFromPredictions(labels, out.predicted, model.numClasses);
  return { confusion, metrics: evaluateMetrics(confusion, options.split) };
}
