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
import { REFERENCE_SHARED, referenceValues } from "./paper-settings.ts";
import type { BenchProfile, DatasetSpec, FixMatchVariant, TableName } from "./types.ts";

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
  /**
   * The labelled-only baselines of the semi-supervised table (`ERM/LA (labelled only)`): same backbone, labelled split
   * and validation selection as FixMatch, for a step budget the profile's description states.
   */
  labelledOnly(method: "erm" | "la", source: SourceName, seed: number): PretrainConfig;
  /**
   * Whether FixMatch (-LA) starts from the ERM (LA) labelled-only model instead of random weights: a CPU-budget
   * deviation (the paper trains 2^20 FixMatch steps from scratch).
   */
  readonly fixmatchWarmStart: boolean;
  /**
   * What FixMatch-LA also tries besides its config (the pool's prior is unknown): another unlabelled prior, with or
   * without distribution alignment; each is trained from the same start and the best on validation is the table's
   * FixMatch-LA.
   */
  readonly fixmatchAlternatives: readonly FixMatchVariant[];
  /** The base fine-tuning config (SelMix policy) of the tables, for a dataset setting. */
  finetune(objective: ObjectiveName, seed: number, dataset: DatasetSpec): FinetuneConfig;
  /**
   * The candidates of a "+ SelMix" row: each runs, the best validation objective wins (the bench decides the gain
   * variant per seed on the validation set).
   */
  selmixCandidates(objective: ObjectiveName, seed: number, table: TableName, dataset: DatasetSpec): FinetuneConfig[];
  /** The full-network fine-tune of the "head-only vs full" ablation and of the supervised table's full-network rows. */
  fullNetwork(objective: ObjectiveName, seed: number, dataset: DatasetSpec): FinetuneConfig;
  /** Objectives that get an "LA + SelMix (objective), full network" row (the paper's mode) in the supervised table. */
  readonly fullNetworkRows: readonly ObjectiveName[];
  /** The full-network fine-tune of the mixing ablation (feature mixing, SelMix pairs); its rows vary `mixing` and the policy. */
  mixing(objective: ObjectiveName, seed: number, dataset: DatasetSpec): FinetuneConfig;
  /** Prose for the README. */
  readonly description: string;
}

/** Steps of each full-network run of the full profile's mixing ablation, chosen for the table's time budget. */
const MIXING_STEPS = 200;
// Measured with the LA CNN on Fashion-MNIST-LT, one thread, while the machine was loaded: a step costs 0.23 CPU-s
// with feature mixing (two forward/backward passes), 0.12 CPU-s with input-only mixing, a validation pass 2.9 CPU-s.
const MIXING_STEPS_NOTE =
  "a step of the CNN costs 0.23 CPU-s with feature mixing and 0.12 with input-only mixing, 5 validation passes and a test pass add about 21 CPU-s: " +
  "48 runs of 200 steps are about 44 CPU-min, about 35 min of wall time on the 2 loaded cores";

const isDigits = (s: SourceName): boolean => s === "mnist" || s === "fashion-mnist";
const isText = (s: SourceName): boolean => s === "wordnet-nouns" || s === "wordnet-nouns-lemmas";
const flipOf = (s: SourceName): boolean => s !== "mnist" && !isText(s);
/** Images without flips-and-crops sense (digits) and text train without augmentation. */
const augmentOf = (s: SourceName): "none" | "weak" => (isDigits(s) || isText(s) ? "none" : "weak");

/**
 * Pre-training of `text-bag` on WordNet glosses: batch 128 and lr 0.2 (measured, LA, seed 0: validation mean recall
 * 60% after 1200 steps at lr 0.2; 35% for ERM at lr 0.5 before the embedding scale). 2000 steps ≈ 3 epochs.
 */
function textPretrain(quick: boolean): Partial<PretrainConfig> {
  return { steps: quick ? 100 : 2000, batchSize: 128, lr: 0.2, evalEvery: quick ? 100 : 500 };
}

function cpuProfile(name: "quick" | "full"): ProfileSettings {
  const quick = name === "quick";
  // The CNN on 28x28 images (seed 0, LA, Fashion-MNIST-LT, validation mean recall): 86.86 at step 2000 and 87.14 at
  // 3000 of a 3000-step run, so 2000 steps for a third less time; no crop (a 4-pixel crop: 85.14 at its best).
  const pretrainSteps = quick ? 300 : 3000;
  const digitSteps = quick ? 300 : 2000;
  const fixmatchSteps = quick ? 100 : 3000;
  // The labelled-only MLP on 28x28 images, tuned on validation (Fashion-MNIST-LT semi-supervised split, LA, seeds 0 / 1,
  // validation mean recall): no augmentation 1000 steps 80.98 / 82.38 (more steps overfit: 2000 and 4000 lower); a
  // ±1-pixel shift (weak view, padding 1) 1000 steps 79.04 / 81.42, 2000 81.12 / 82.78, 4000 81.80 / 83.02, 8000
  // 82.54 / 83.62 (test 82.21 / 82.28, against 80.62 / 80.98 untuned). 8000 steps with the shift, then.
  const labelledSteps = quick ? 100 : 1000;
  const digitLabelledSteps = quick ? 100 : 8000;
  const finetuneSteps = quick ? 200 : 5000;
  // 8 full-network rows x 2 objectives x 3 seeds = 48 runs in the full ablations table. MIXING_STEPS_NOTE says why this many.
  const mixingSteps = quick ? 20 : MIXING_STEPS;
  // CPU settings, all explicit (the trainer's defaults are the reference's GPU run). The validation sets are
  // balanced, so the uniform prior is exact.
  const finetune = (objective: ObjectiveName, seed: number, dataset: DatasetSpec): FinetuneConfig => ({
    ...defaultFinetuneConfig(objective, "head-only"),
    // Text: 2000 steps; each text fine-tune also extracts the features of 81k glosses (measured under load: 5000
    // steps took 80-150 s a fine-tune, 14 fine-tunes a seed).
    steps: isText(dataset.source) ? (quick ? finetuneSteps : 2000) : finetuneSteps,
    lr: 0.01,
    temperatureScale: "spread",
    temperature: 0.5,
    gainVariant: "reference",
    prior: "uniform",
    earlyStop: false,
    selectBest: true,
    augment: augmentOf(dataset.source),
    flip: flipOf(dataset.source),
    seed,
  });
  return {
    name,
    seeds: quick ? 1 : 3,
    sources: quick
      ? { supervised: ["mnist"], "semi-supervised": ["mnist"], ablations: ["mnist"], text: ["wordnet-nouns"] }
      : { supervised: ["fashion-mnist", "mnist", "cifar10", "cifar100"], "semi-supervised": ["fashion-mnist", "cifar10"], ablations: ["fashion-mnist"], text: ["wordnet-nouns"] },
    ablationObjectives: quick ? ["min-recall"] : ["min-recall", "mean-recall"],
    // text-bag on text; the CNN everywhere else but in the quick profile (CI time) and, on 28x28 digits, the
    // semi-supervised table. There
    // the CNN was measured (seed 0, ρ_u = 100): LA (labelled only) 3000 steps 84.68 / 84.52 validation / test mean
    // recall (1000 steps: 80.56 / 79.61); FixMatch-LA warm-started from it, 500 steps: 84.78 / 84.21, test min recall
    // 54.5 -> 43.3 (lr 0.01 instead of 0.03: 84.04 validation at step 200, stopped). No gain, and at 0.6-0.8
    // CPU-s per CNN FixMatch step (MLP: ~0.03) longer runs do not fit 18 per table on this machine.
    model: (source, table) => (isText(source) ? "text-bag" : isDigits(source) && (quick || table === "semi-supervised") ? "mlp" : "cnn"),
    pretrain: (method, source, seed) => ({
      ...DEFAULT_PRETRAIN_CONFIG,
      method,
      steps: isDigits(source) ? digitSteps : pretrainSteps,
      evalEvery: quick ? pretrainSteps : 500,
      augment: augmentOf(source),
      flip: flipOf(source),
      seed,
      ...(isText(source) ? textPretrain(quick) : {}),
    }),
    fixmatch: (method, source, seed) => ({
      ...DEFAULT_FIXMATCH_CONFIG,
      method,
      steps: fixmatchSteps,
      evalEvery: quick ? fixmatchSteps : 500,
      flip: flipOf(source),
      // The MLP on 28x28 images (FixMatch-LA, seeds 0 / 1, 3000 steps, validation mean recall, from the untuned
      // labelled-only start): weak view with flips only 82.68 / 83.42, a ±1-pixel shift 82.98 / 83.78 (±2: 81.32 /
      // 83.14); strong view RandAugment(1, 2) as above, RandAugment(2, 2) 83.22 / 83.86, RandAugment(2, 5) 82.54 (seed
      // 0), Cutout only 81.92. From the tuned labelled-only start (seed 0): 83.42 with RandAugment(1, 2), 83.56 with
      // (2, 2). Threshold 0.8 or 0.98, λ_u 2, lr 0.05, μ 7 and 6000 steps: within ±0.3 of the same recipe (seed 0).
      ...(isDigits(source) && !quick ? { padding: 1, randAugmentOps: 2, randAugmentMagnitude: 2 } : isDigits(source) ? { padding: 0, randAugmentOps: 1, randAugmentMagnitude: 2 } : {}),
      // The unlabelled pool's prior is not known to the profile (ρ_u ∈ {100, 1, 0.01}): estimate it (EM); the uniform
      // prior, plain and with distribution alignment, are the alternatives tried beside it (fixmatchAlternatives).
      unlabeledPrior: "estimated",
      seed,
    }),
    fixmatchWarmStart: !quick,
    // The EM estimate feeds on the model's own predictions: with a balanced pool and few labels it can drift (seed 0,
    // N1 = 500, rho_u = 1: sandals pseudo-labelled as sneakers and ankle boots, sandal coverage 10.0% -> 6.1%, test
    // mean recall 79.13 against 80.79 with the uniform prior); with a long-tailed pool (rho_u = 100 or 0.01) it is
    // the better one (80.30 / 79.88 against 79.51 / 78.36). Which one wins is read off the validation set.
    // Distribution alignment to the uniform prior (seeds 0 / 1, rho_u = 1, validation mean recall): N1 = 1500 0.8312 /
    // 0.8350 -> 0.8320 / 0.8402, N1 = 500 (seed 0) 0.8174 -> 0.8228; it pulls sandals back from the ankle boots.
    fixmatchAlternatives: quick ? [] : [{ unlabeledPrior: "uniform" }, { unlabeledPrior: "uniform", distributionAlignment: true }],
    // The supervised recipe on the labelled split only, validated as FixMatch; also FixMatch's warm start.
    labelledOnly: (method, source, seed) => ({
      ...DEFAULT_PRETRAIN_CONFIG,
      method,
      steps: isDigits(source) ? digitLabelledSteps : labelledSteps,
      evalEvery: quick ? labelledSteps : 500,
      augment: isDigits(source) && quick ? "none" : "weak",
      ...(isDigits(source) && !quick ? { padding: 1 } : {}),
      flip: flipOf(source),
      seed,
    }),
    finetune,
    // The reference gain variant only: a second candidate per row (the paper variant, picked on validation) doubled
    // the supervised table's fine-tuning time on the CNN; the ablation table still compares the two.
    // Semi-supervised rows also try x₁ from the unlabelled pool under pseudo-labels (FIRST_POOLS), the better on
    // validation: with 23 labelled shirts (N1 = 500) the head memorises them and SelMix (min recall) stalls at
    // validation min recall 0.51 (seed 0, ρ_u = 100; 0.66 with the pool, the post-hoc plug-in 0.65).
    selmixCandidates: (objective, seed, table, dataset) => {
      const labelled = finetune(objective, seed, dataset);
      return table === "semi-supervised" ? [labelled, { ...labelled, firstPool: "labeled+unlabeled" }] : [labelled];
    },
    // 300 full-network CNN steps cost about as much CPU as the 20 head-only fine-tunes of a job together.
    fullNetwork: (objective, seed, dataset) => ({ ...finetune(objective, seed, dataset), mode: "full", steps: quick ? 50 : 300 }),
    fullNetworkRows: quick ? [] : ["min-recall"],
    mixing: (objective, seed, dataset) => ({ ...finetune(objective, seed, dataset), mode: "full", steps: mixingSteps }),
    description: quick
      ? `MNIST only, 1 seed, MLP; pre-training ${pretrainSteps} steps, FixMatch ${fixmatchSteps} steps, ERM/LA (labelled only) ${labelledSteps} steps, head-only fine-tuning ${finetuneSteps} steps. Checks structure, not numbers.`
      : `Small CNN (supervised and ablation tables; the semi-supervised table on 28×28 images: MLP); pre-training ${digitSteps} steps on 28×28 images (no crop; ${pretrainSteps} on CIFAR, weak crop + flip), batch 64, SGD Nesterov, lr 0.05, cosine; FixMatch ${fixmatchSteps} steps (B = 64, μ = 2, EMA 0.999 with warm-up, ` +
        "border fill; FixMatch-LA's unlabelled prior estimated by EM, uniform, or uniform with distribution alignment, whichever scores best on validation (per seed, all three trained); on 28×28 images flips, a ±1-pixel shift and RandAugment(2, 2), else the reference crop and RandAugment(3, 5)) warm-started from the labelled-only model of the same seed (a CPU-budget deviation: the paper trains 2^20 steps from scratch); " +
        `ERM/LA (labelled only): the supervised recipe on the labelled split with the weak augmentation, on 28×28 images a ±1-pixel shift and ${digitLabelledSteps} steps (tuned on validation: without the shift it overfits after 1000), else ${labelledSteps} steps, validated every 500 ` +
        `(LA (labelled only) is also FixMatch-LA's start, so FixMatch-LA has had ${digitLabelledSteps} + ${fixmatchSteps} steps in all on 28×28 images; ` +
        "a seed draws the same labelled and validation splits for every ρ_u, so one labelled-only run serves all three settings); " +
        `fine-tuning head-only ${finetuneSteps} steps, lr 0.01, temperature 0.5 × std(G) (spread scale), refresh every 50 steps, ` +
        "best refresh on the validation objective; the reference gain variant (the ablation table compares the paper variant); " +
        "LA + SelMix (min recall), full network: 300 steps of the whole CNN, the paper's mode; " +
        `mixing ablation: full network, ${mixingSteps} steps per run (${MIXING_STEPS_NOTE}). ` +
        "Text (WordNet glosses): text-bag, pre-training 2000 steps at batch 128, lr 0.2, no augmentation; head-only fine-tuning 2000 steps.",
  };
}

/**
 * The reference's fine-tuning config for a dataset setting and objective: the shared values and the per-setting
 * T, λ_max and lr of `paper-settings.ts`, each traced to the method notes there.
 */
export function paperFinetune(objective: ObjectiveName, seed: number, dataset: DatasetSpec): FinetuneConfig {
  const shared = Object.fromEntries(REFERENCE_SHARED.map(({ key, value }) => [key, value])) as Partial<FinetuneConfig>;
  const values = referenceValues(dataset.id, objective);
  return {
    ...defaultFinetuneConfig(objective, "full"),
    ...shared,
    temperature: values.temperature,
    lr: values.lr,
    objectiveOptions: { lambdaMax: values.lambdaMax },
    flip: flipOf(dataset.source),
    seed,
  };
}

const PAPER: ProfileSettings = {
  name: "paper",
  seeds: 3,
  // The paper has no text table; its GPU settings (full network, weak crops) are for images.
  sources: { supervised: ["cifar10", "cifar100"], "semi-supervised": ["cifar10", "cifar100"], ablations: ["cifar10"], text: [] },
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
  // FixMatch's own recipe without the unlabelled loss (the reference's `ERM.py` idea), for the same 2^20 steps.
  fixmatchWarmStart: false,
  fixmatchAlternatives: [],
  labelledOnly: (method, source, seed) => ({
    ...DEFAULT_PRETRAIN_CONFIG,
    method,
    steps: 2 ** 20,
    lr: 0.03,
    schedule: "fixmatch-cosine",
    ema: 0.999,
    evalEvery: 5000,
    augment: "weak",
    flip: flipOf(source),
    seed,
  }),
  // The reference fine-tuning configs, per (dataset setting, objective): see paper-settings.ts.
  finetune: paperFinetune,
  selmixCandidates: (objective, seed, _table, dataset) => [paperFinetune(objective, seed, dataset)],
  fullNetwork: paperFinetune,
  fullNetworkRows: [], // every SelMix row of the paper profile is full-network already
  mixing: paperFinetune,
  description:
    "ResNet-32 (supervised) / WRN-28-2 (semi-supervised), pre-training 40k steps (supervised) or 2^20 FixMatch steps, " +
    "ERM/LA (labelled only): FixMatch's recipe without the unlabelled loss for as long (2^20 = 1048576 steps), " +
    "full-network fine-tuning at the reference configs: 10k steps, refresh 50, batch 64, backbone lr/10, weak crop + flip on both images, " +
    "early stop on max-gain stabilisation, T / λ_max / lr per (setting, objective) as in the reference table below. For a GPU; not run here.",
};

/** The settings of a bench profile. */
export function profileSettings(name: BenchProfile): ProfileSettings {
  return name === "paper" ? PAPER : cpuProfile(name);
}
