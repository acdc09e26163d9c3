export { createEma } from "./ema.ts";
export type { Ema, EmaOptions } from "./ema.ts";
export { evaluate, predict } from "./evaluate.ts";
export type { Evaluation, Predictions } from "./evaluate.ts";
export { defaultFinetuneConfig, finetune } from "./finetune.ts";
export type { FinetuneConfig, FinetuneData, FinetuneIo, FinetuneResult } from "./finetune.ts";
export { DEFAULT_FIRST_POOL, FIRST_POOLS } from "./first-pool.ts";
export type { FirstPool } from "./first-pool.ts";
export { headPredict, headSgdStep } from "./linear-head.ts";
export type { LinearHead } from "./linear-head.ts";
export { crossEntropy, logPriorAdjustment, mixedCrossEntropy } from "./losses.ts";
export { cutmixBox, MIX_LABELS, MIXING_MODES, mixImages } from "./input-mixing.ts";
export type { CutmixBox, CutmixDraw, MixedImages, MixingMode, MixLabel } from "./input-mixing.ts";
export { PAIR_POLICIES, policyDistribution, policyExplores, policyMixes } from "./policies.ts";
export type { PairPolicy } from "./policies.ts";
export { DEFAULT_PRETRAIN_CONFIG, pretrain } from "./pretrain.ts";
export type { PretrainConfig, PretrainIo, PretrainResult } from "./pretrain.ts";
export { reportMetric, SELECTION_METRICS } from "./progress.ts";
export type { ProgressEvent, ProgressListener, SelectionMetric } from "./progress.ts";
export { GAIN_VARIANTS, gainConverged, gainSwitches, refreshPolicy } from "./refresh.ts";
export type {
  GainConfusion,
  GainSwitches,
  GainVariant,
  RefreshDiagnostics,
  RefreshResult,
  RefreshSettings,
  TargetTerm,
  ValidationView,
} from "./refresh.ts";
export { scheduleFactor } from "./schedule.ts";
export type { ScheduleName } from "./schedule.ts";
export { createSgd } from "./sgd.ts";
export type { ParamGroupSpec, Sgd } from "./sgd.ts";
export { DEFAULT_FIXMATCH_CONFIG, pretrainFixMatch, UNLABELED_PRIORS } from "./fixmatch.ts";
export type { FixMatchConfig, FixMatchHistoryEntry, FixMatchIo, FixMatchResult, UnlabeledPrior } from "./fixmatch.ts";
export { finetuneFeatures } from "./finetune-features.ts";
export type { FeatureData, FinetuneFeaturesIo, FinetuneFeaturesResult, HeadParameters } from "./finetune-features.ts";
export { encodeNpy, NPY_DTYPES, parseNpy, readNpy, writeNpy } from "./npy.ts";
export type { NpyArray, NpyDtype } from "./npy.ts";
export { defaultWorkerCount, startGradientWorkers } from "./parallel/gradient-workers.ts";
export type { GradientWorkers, GradientWorkersOptions, ParallelStep } from "./parallel/gradient-workers.ts";
export type { BatchPart, ShardLoss, StepExtras } from "./parallel/protocol.ts";
