import { reachesUnlabeled } from "./first-pool.ts";
import type { Learner } from "./finetune-loop.ts";
import { headPredict, headSgdStep, type LinearHead } from "./linear-head.ts";

/** Cached features of a head-only run (row-major [N, d] each), in the loop's row order. */
export interface HeadFeatures {
  readonly labeled: Float32Array;
  readonly validation: Float32Array;
  readonly validationLabels: Int32Array;
  /** The semi-supervised partner pool; partners come from `labeled` without it. */
  readonly unlabeled?: Float32Array;
}

/** A copy of a linear head's parameters. */
export interface HeadSnapshot {
  readonly weight: Float64Array;
  readonly bias: Float64Array;
}

/**
 * The head-only learner: trains `head` in place with {@link headSgdStep} on cached features. The backbone is frozen,
 * so the validation features, and with them the prototypes of the gain, are exact.
 */
export function arrayHeadLearner(head: LinearHead, features: HeadFeatures, weightDecay: number): Learner<HeadSnapshot> {
  const partner = features.unlabeled ?? features.labeled;
  const labeledRows = features.labeled.length / head.dim;
  let labeledThenUnlabeled: Float32Array | undefined; // x₁'s features for the labeled+unlabeled pool, built at first use
  const firstFeatures = (rows: Int32Array): Float32Array => {
    if (features.unlabeled === undefined || !reachesUnlabeled(rows, labeledRows)) return features.labeled;
    if (labeledThenUnlabeled === undefined) {
      labeledThenUnlabeled = new Float32Array(features.labeled.length + features.unlabeled.length);
      labeledThenUnlabeled.set(features.labeled);
      labeledThenUnlabeled.set(features.unlabeled, features.labeled.length);
    }
    return labeledThenUnlabeled;
  };
  return {
    async view() {
      const { probabilities, predicted } = headPredict(head, features.validation);
      return { labels: features.validationLabels, features: features.validation, probabilities, predicted };
    },
    head: () => head,
    async pseudoLabels() {
      return headPredict(head, features.unlabeled ?? new Float32Array(0)).predicted;
    },
    async step(firstRows, partnerRows, lambdas, labels, lr) {
      return headSgdStep(head, firstFeatures(firstRows), firstRows, partner, partnerRows, lambdas, labels, lr, weightDecay);
    },
    snapshot: () => ({ weight: Float64Array.from(head.weight), bias: Float64Array.from(head.bias) }),
    restore(weights) {
      head.weight.set(weights.weight);
      head.bias.set(weights.bias);
    },
    dispose() {},
  };
}
