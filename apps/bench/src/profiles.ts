import type { SourceName } from "@selmix/datasets";
import type { ObjectiveName } from "@selmix/metrics";
import type { ModelArch } from "@selmix/models";
import {
  DEFAULT_FIXMATCH_CONFIG,
  DEFAULT_PRETRAIN_CONFIG,
  defaultFinetuneConfig,
  type FinetuneConfig,
  type FixMatchConfig,
  type PretrainConfig,
} from "@selmix/trainers";
import type { BenchProfile, TableName } from "./types.ts";

/** The objectives of the table rows ("LA + SelMix (objective)"), in column order. */
export const TABLE_OBJECTIVES: readonly ObjectiveName[] = [
  "mean-recall",
  "min-recall",
  "h-mean",
  "g-mean",
  "min-head-tail-recall",
  "mean-recall-min-coverage",
];

/** Everything a profile fixes: seeds, sources, models, step counts and the fine-tuning settings. */
export interface ProfileSettings {
  readonly name: BenchProfile;
  /** Default `--seeds`. */
  readonly seeds: number;
  /** Default `--datasets` of each table (CIFAR is skipped with a note when its files are absent). */
  readonly sources: Readonly<Record<TableName, readonly SourceName[]>>;
  /** Objectives of the ablation tables. */
  readonly ablationObjectives: readonly ObjectiveName[];
  model(source: SourceName, table: TableName): ModelArch;
  pretrain(method: "erm" | "la", source: SourceName, seed: number): PretrainConfig;
  fixmatch(method: "fixmatch" | "fixmatch-la", source: SourceName, seed: number): FixMatchConfig;
  /** The base fine-tuning config (SelMix policy) of the tables. */
  finetune(objective: ObjectiveName, seed: number): FinetuneConfig;
  /**
   * The candidates of a "+ SelMix" row: each runs, the best validation objective wins (the bench decides the gain
   * variant per seed on the validation set).
   */
  selmixCandidates(objective: ObjectiveName, seed: number, table: TableName): FinetuneConfig[];
  /** The full-network fine-tune of the "head-only vs full" ablation. */
  fullNetwork(objective: ObjectiveName, seed: number): FinetuneConfig;
  /** Prose for the README. */
  readonly description: string;
}

const isDigits = (s: SourceName): boolean => s === "mnist" || s === "fashion-mnist";
const flipOf = (s: SourceName): boolean => s !== "mnist";

function cpuProfile(name: "quick" | "full"): ProfileSettings {
  const quick = name === "quick";
  const pretrainSteps = quick ? 300 : 3000;
  const fixmatchSteps = quick ? 100 : 1000;
  const finetuneSteps = quick ? 200 : 5000;
  const finetune = (objective: ObjectiveName, seed: number): FinetuneConfig => ({
    ...defaultFinetuneConfig(objective, "head-only"),
    steps: finetuneSteps,
    lr: 0.01,
    temperatureScale: "spread",
    temperature: 0.5,
    gainVariant: "reference",
    selectBest: true,
    seed,
  });
  return {
    name,
    seeds: quick ? 1 : 3,
    sources: quick
      ? { supervised: ["mnist"], "semi-supervised": ["mnist"], ablations: ["mnist"] }
      : { supervised: ["fashion-mnist", "mnist", "cifar10", "cifar100"], "semi-supervised": ["fashion-mnist", "cifar10"], ablations: ["fashion-mnist"] },
    ablationObjectives: quick ? ["min-recall"] : ["min-recall", "mean-recall"],
    model: (source) => (isDigits(source) ? "mlp" : "cnn"),
    pretrain: (method, source, seed) => ({
      ...DEFAULT_PRETRAIN_CONFIG,
      method,
      steps: pretrainSteps,
      evalEvery: quick ? pretrainSteps : 500,
      augment: isDigits(source) ? "none" : "weak",
      flip: flipOf(source),
      seed,
    }),
    fixmatch: (method, source, seed) => ({
      ...DEFAULT_FIXMATCH_CONFIG,
      method,
      steps: fixmatchSteps,
      evalEvery: quick ? fixmatchSteps : 500,
      flip: flipOf(source),
      seed,
    }),
    finetune,
    // Semi-supervised rows run the reference variant only: two candidates would double the longest table's time.
    selmixCandidates: (objective, seed, table) =>
      quick || table === "semi-supervised"
        ? [finetune(objective, seed)]
        : [finetune(objective, seed), { ...finetune(objective, seed), gainVariant: "paper" }],
    fullNetwork: (objective, seed) => ({ ...finetune(objective, seed), mode: "full", steps: quick ? 50 : 500 }),
    description: quick
      ? `MNIST only, 1 seed, MLP; pre-training ${pretrainSteps} steps, FixMatch ${fixmatchSteps} steps, head-only fine-tuning ${finetuneSteps} steps. Checks structure, not numbers.`
      : `MLP (MNIST-like) or small CNN (CIFAR); pre-training ${pretrainSteps} steps (batch 64, SGD Nesterov, lr 0.05, cosine), FixMatch ${fixmatchSteps} steps (B = 64, μ = 2, EMA 0.999); ` +
        `fine-tuning head-only ${finetuneSteps} steps, lr 0.01, temperature 0.5 × std(G) (spread scale), refresh every 50 steps, ` +
        "best refresh on the validation objective; in the supervised table each SelMix row runs the reference and the paper gain variant and keeps the one with the better validation objective " +
        "(semi-supervised: the reference variant only, for time).",
  };
}

const PAPER: ProfileSettings = {
  name: "paper",
  seeds: 3,
  sources: { supervised: ["cifar10", "cifar100"], "semi-supervised": ["cifar10", "cifar100"], ablations: ["cifar10"] },
  ablationObjectives: ["min-recall", "mean-recall"],
  model: (_source, table) => (table === "semi-supervised" ? "wrn-28-2" : "resnet32"),
  // MiSLAS-style supervised pre-training is not released; 200 epochs of CIFAR-10-LT at batch 64 is about 40k steps.
  pretrain: (method, source, seed) => ({
    ...DEFAULT_PRETRAIN_CONFIG,
    method,
    steps: 40_000,
    lr: 0.1,
    evalEvery: 2000,
    augment: "weak",
    flip: flipOf(source),
    seed,
  }),
  // The reference FixMatch configs: WRN-28-2, B = 64, uratio 2, 2^20 steps.
  fixmatch: (method, source, seed) => ({ ...DEFAULT_FIXMATCH_CONFIG, method, steps: 2 ** 20, evalEvery: 5000, flip: flipOf(source), seed }),
  // The reference fine-tuning configs: full network, 10k steps, head lr 3e-4 (backbone /10), T = 0.1.
  finetune: (objective, seed) => ({ ...defaultFinetuneConfig(objective, "full"), steps: 10_000, seed }),
  selmixCandidates: (objective, seed) => [{ ...defaultFinetuneConfig(objective, "full"), steps: 10_000, seed }],
  fullNetwork: (objective, seed) => ({ ...defaultFinetuneConfig(objective, "full"), steps: 10_000, seed }),
  description:
    "ResNet-32 (supervised) / WRN-28-2 (semi-supervised), pre-training 40k steps (supervised) or 2^20 FixMatch steps, " +
    "full-network fine-tuning 10k steps at the reference settings (lr 3e-4, backbone lr/10, T = 0.1). For a GPU; not run here.",
};

/** The settings of a bench profile. */
export function profileSettings(name: BenchProfile): ProfileSettings {
  return name === "paper" ? PAPER : cpuProfile(name);
}
