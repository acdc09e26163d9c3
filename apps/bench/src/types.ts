import type { ProfileName, ProfileOptions, SourceName } from "@selmix/datasets";
import type { MetricReport, ObjectiveName } from "@selmix/metrics";
import type { ModelArch } from "@selmix/models";
import type { FinetuneConfig, FirstPool, FixMatchConfig, PretrainConfig } from "@selmix/trainers";

/** The tables the bench produces. */
export type TableName = "supervised" | "semi-supervised" | "ablations" | "text";

/** Every {@link TableName}. */
export const TABLE_NAMES: readonly TableName[] = ["supervised", "semi-supervised", "ablations", "text"];

/** The bench profiles: `quick` (CI smoke test), `full` (this 2-core machine), `paper` (reference models and steps, GPU). */
export type BenchProfile = "quick" | "full" | "paper";

/** Every {@link BenchProfile}. */
export const BENCH_PROFILES: readonly BenchProfile[] = ["quick", "full", "paper"];

/** One long-tailed dataset setting: a source, a long-tail profile and its overrides. */
export interface DatasetSpec {
  /** Stable id, e.g. `fashion-mnist-lt` or `fashion-mnist-lt-u1`. */
  readonly id: string;
  /** Human-readable name, e.g. `Fashion-MNIST-LT (N1 = 5000, ρ = 100)`. */
  readonly label: string;
  readonly source: SourceName;
  readonly profile: ProfileName;
  readonly options: ProfileOptions;
}

/** How the starting model of a job is trained. */
export type PretrainSpec =
  | { readonly kind: "supervised"; readonly config: PretrainConfig }
  | {
      readonly kind: "fixmatch";
      readonly config: FixMatchConfig;
      /** Labelled-only pre-training whose weights start FixMatch (a CPU-budget warm start; cached on its own). */
      readonly warmStart?: PretrainConfig;
      /**
       * Further FixMatch configs trained from the same start, each cached on its own; the one with the best
       * validation value (its `selectBy`) is the job's pre-trained model ({@link StartChoice}).
       */
      readonly alternatives?: readonly FixMatchConfig[];
    };

/** What the FixMatch-LA candidates of a job differ in: the unlabelled prior assumed, and distribution alignment. */
export type FixMatchVariant = Pick<FixMatchConfig, "unlabeledPrior" | "distributionAlignment">;

/** Which FixMatch candidate of a job with `alternatives` won on validation, and what each scored there. */
export interface StartChoice {
  /** In order: `config`, then `alternatives`; each with its {@link FixMatchVariant} (where they differ). */
  readonly candidates: readonly (FixMatchVariant & { readonly validation: number })[];
  /** Index into `candidates` of the one kept. */
  readonly chosen: number;
}

/**
 * One row of a table produced by a job. Without `candidates` the row is the pre-trained model itself; with them it
 * is a fine-tune from it: every candidate runs and the one with the best validation objective is kept (never the
 * test set).
 */
export interface RowSpec {
  readonly id: string;
  readonly label: string;
  /** The objective a SelMix row is tuned for (for the "does it win its column" check). */
  readonly objective?: ObjectiveName;
  readonly candidates?: readonly FinetuneConfig[];
  /**
   * Post-hoc plug-in rows: fit per-class logit offsets for this objective on the validation set, and apply them at
   * test, to the pre-trained model or to the model an earlier row of the job chose (`from`).
   */
  readonly posthoc?: ObjectiveName;
  /** Id of an earlier row of the same job whose chosen model this (post-hoc) row starts from. */
  readonly from?: string;
}

/** A unit of work: one (table, dataset, seed, pre-training config) group; pre-train (cached), then every fine-tune. */
export interface Job {
  readonly id: string;
  readonly table: TableName;
  readonly profile: BenchProfile;
  readonly dataset: DatasetSpec;
  readonly seed: number;
  readonly model: ModelArch;
  readonly pretrain: PretrainSpec;
  readonly rows: readonly RowSpec[];
  /** Folder with the CIFAR files (`--data-dir`). */
  readonly dataDir?: string;
  /** False accepts data files with fewer records than the official ones (`--no-strict-counts`). */
  readonly strictCounts?: boolean;
}

/** What the settings of a fine-tune row came out as (the chosen candidate). */
export interface ChosenSettings {
  readonly mode: FinetuneConfig["mode"];
  readonly policy: FinetuneConfig["policy"];
  readonly gainVariant: FinetuneConfig["gainVariant"];
  readonly temperature: number;
  readonly temperatureScale: FinetuneConfig["temperatureScale"];
  readonly lr: number;
  readonly objective: ObjectiveName;
  /** x₁'s pool, when the row's candidates offered more than one. */
  readonly firstPool?: FirstPool;
}

/** One cell source: a row of one seed, with everything that produced it. */
export interface RowResult {
  readonly row: string;
  readonly label: string;
  readonly objective?: ObjectiveName;
  readonly dataset: string;
  readonly seed: number;
  readonly model: ModelArch;
  readonly pretrainSteps: number;
  /** Fine-tuning steps configured (null for a pre-trained row). */
  readonly finetuneSteps: number | null;
  /** Steps actually run, summed over the candidates. */
  readonly stepsRun: number | null;
  /** SHA-256 (first 16 hex) of the pre-training config + manifest id, and of the chosen fine-tune config. */
  readonly pretrainHash: string;
  readonly configHash: string;
  readonly test: Omit<MetricReport, "recall" | "coverage"> & { readonly recall: number[] };
  /** Validation objective of the chosen candidate (fine-tunes only). */
  readonly validationObjective: number | null;
  /** Wall-clock seconds of this row: pre-training time for a pre-trained row, all candidates' fine-tuning otherwise. */
  readonly seconds: number;
  /** Whether the pre-trained model came from the cache (its `seconds` are those of the original run). */
  readonly cached: boolean;
  readonly chosen: ChosenSettings | null;
  /** exp(entropy) of the pair distribution: at the first refresh, and the mean over refreshes. */
  readonly effectivePairs: { readonly first: number; readonly mean: number } | null;
  /** The pre-trained row of a job whose FixMatch start had alternatives: which one won on validation. */
  readonly startChoice?: StartChoice;
  /** A post-hoc row: the fitted offsets, and the validation objective without and with them. */
  readonly posthoc?: { readonly objective: ObjectiveName; readonly offsets: number[]; readonly validationBefore: number; readonly validationAfter: number; readonly from?: string };
}

/** Which machine and process ran a job (recorded by queue workers, `pnpm bench worker`). */
export interface RanBy {
  readonly hostname: string;
  /** The process that trained (a child of the `bench worker` process). */
  readonly pid: number;
  /** The `bench worker` process. */
  readonly workerPid: number;
  readonly backend: string;
}

/** The result file of one job (written atomically; its presence marks the job done). */
export interface JobResult {
  readonly format: "selmix-bench-job";
  readonly version: 1;
  readonly job: Job;
  readonly manifestId: string;
  readonly backend: string;
  readonly seconds: number;
  readonly finishedAt: string;
  readonly rows: readonly RowResult[];
  /** Set when the job ran on a queue worker. */
  readonly ranBy?: RanBy;
}
