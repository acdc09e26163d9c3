import type { ColumnKey } from "./columns.ts";

/** A row of numbers published by the paper (or the reference README), for a dataset setting of the bench. */
export interface PublishedRow {
  readonly label: string;
  /** Percent; absent columns were not published. */
  readonly values: Partial<Record<ColumnKey, number>>;
  readonly source: string;
}

/**
 * The published numbers (method notes, section 9), keyed by the bench's dataset id. Only CIFAR: the paper has no
 * MNIST or Fashion-MNIST results, so those tables show none.
 */
export const PUBLISHED: Readonly<Record<string, readonly PublishedRow[]>> = {
  "cifar10-lt": [
    { label: "MiSLAS Stage 2", values: { minRecall: 72.5 }, source: "paper, supervised (ρ unverified)" },
    { label: "SelMix (from MiSLAS)", values: { minRecall: 79.2 }, source: "paper, supervised (ρ unverified)" },
  ],
  "cifar100-lt": [
    { label: "MiSLAS Stage 2", values: { minHeadTailRecall: 15.2 }, source: "paper, supervised (ρ unverified)" },
    { label: "SelMix (from MiSLAS)", values: { minHeadTailRecall: 41.3 }, source: "paper, supervised (ρ unverified)" },
  ],
  "cifar10-lt-u100": [
    { label: "FixMatch (LA)", values: { meanRecall: 79.7, minRecall: 55.9 }, source: "paper, WRN-28-2, 3 seeds" },
    { label: "SelMix (per-column objective)", values: { meanRecall: 85.4, minRecall: 79.1, hMean: 85.1, gMean: 85.3 }, source: "paper, WRN-28-2, 3 seeds" },
  ],
  "cifar10-lt-u1": [
    { label: "FixMatch w/ LA", values: { meanRecall: 93.5, minRecall: 83.3 }, source: "reference README, seed 0" },
    { label: "+ SelMix", values: { meanRecall: 93.8, minRecall: 88.4 }, source: "reference README, seed 0" },
  ],
  "cifar10-lt-u0.01": [
    { label: "FixMatch w/ LA", values: { meanRecall: 80.6, minRecall: 63.1 }, source: "reference README, seed 0" },
    { label: "+ SelMix", values: { meanRecall: 81.4, minRecall: 72.7 }, source: "reference README, seed 0" },
  ],
  "cifar100-lt-u10": [
    { label: "FixMatch (LA)", values: { minHeadTailRecall: 34.6 }, source: "paper" },
    { label: "SelMix", values: { minHeadTailRecall: 57.8 }, source: "paper" },
  ],
};
