import type { BackendName, BnMode, ModelArch, NamedArray, WasmKernelLevel } from "@selmix/models";

/**
 * The loss a data-parallel step differentiates, fixed for a run. Each worker computes its shard's share of the
 * full-batch loss (sums divided by the full batch sizes), so the full-batch gradient is the plain sum of the shards'.
 *
 * - `ce`: cross-entropy (`adjustment`: τ·log prior for LA) over parts `x`, `labels`.
 * - `fixmatch`: the FixMatch objective over parts `labeled`, `weak`, `strong`, `labels`.
 * - `mixup`: SelMix's feature mixup, cross-entropy of head(λ·g(x1) + (1 − λ)·g(x2)) over `x1`, `x2`, `lambdas`,
 *   `labels`; without `x2` and `lambdas` (input mixing: `x1` holds the mixed images) of head(g(x1)); with
 *   `partnerLabels` and `labelWeights` (x1's share per row) against the soft label.
 */
export type ShardLoss =
  | {
      /** Cross-entropy. */
      readonly kind: "ce";
      /** τ·log prior added to the logits (LA). */
      readonly adjustment?: Float32Array;
    }
  | {
      /** The FixMatch objective. */
      readonly kind: "fixmatch";
      /** Confidence threshold of the pseudo-labels. */
      readonly threshold: number;
      /** Weight of the unlabelled loss. */
      readonly lambdaU: number;
      /** τ·log prior added to the labelled logits (FixMatch-LA). */
      readonly adjustment?: Float32Array;
    }
  | {
      /** SelMix's feature mixup. */
      readonly kind: "mixup";
    };

/** One input of a step: `rows` rows of `data.length / rows` values each; workers get contiguous row ranges. */
export interface BatchPart {
  /** Row-major values (images as float32 NHWC, labels as int32). */
  readonly data: Float32Array | Int32Array;
  /** Number of rows. */
  readonly rows: number;
}

/** @internal What a worker thread starts with. */
export interface WorkerInit {
  readonly backend: BackendName;
  readonly wasmKernels: WasmKernelLevel;
  readonly arch: ModelArch;
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly loss: ShardLoss;
  /** Names (as in `weightSpecs`) of the variables to differentiate, in the order of the returned gradients. */
  readonly variables: readonly string[];
}

/** @internal One shard of one step. */
export interface StepRequest {
  readonly weights: readonly NamedArray[];
  readonly bnMode: BnMode;
  readonly parts: Readonly<Record<string, BatchPart>>;
  /** Rows of every part in the whole batch (the denominators of the means). */
  readonly totals: Readonly<Record<string, number>>;
  /** Per-step settings of the loss, the same for every shard. */
  readonly extras: StepExtras;
}

/** Per-step settings of a `fixmatch` loss that change from step to step (FixMatch-LA's unlabelled prior). */
export interface StepExtras {
  /** τ·log prior added to the weak and strong logits of the unlabelled views (`unlabeledPrior` other than uniform). */
  readonly unlabeledAdjustment?: Float32Array;
  /** log target − log running mean added to the weak logits of the pseudo-labels only (distribution alignment). */
  readonly alignment?: Float32Array;
  /** Also return the shard's share of the mean weak-view posterior (K values after the loss parts). */
  readonly weakPosterior?: boolean;
}

/** @internal A worker's gradients for one step. */
export interface GradsReply {
  readonly type: "grads";
  /** Gradients of {@link WorkerInit.variables}, in that order. */
  readonly grads: readonly Float32Array[];
  /** Loss parts, this shard's share. */
  readonly values: readonly number[];
  /** Batch-norm running statistics after the step (`state` weights; empty unless BN is in `"train"` mode). */
  readonly state: readonly NamedArray[];
  /** `tf.memory().numTensors` in the worker after the step. */
  readonly numTensors: number;
}

/** @internal A worker's answer: its gradients, "ready" once after start, or its error. */
export type StepReply = GradsReply | { readonly type: "ready" } | { readonly type: "error"; readonly code: string | null; readonly message: string };
