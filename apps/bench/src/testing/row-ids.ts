// Test-only: the row ids of the supervised protocol (the supervised and the text table), in table order.
import { TABLE_OBJECTIVES } from "../profiles.ts";

/** ERM, LA, the fine-tuning baselines, SelMix per objective, then post-hoc, resampling and SelMix + post-hoc. */
export const SUPERVISED_ROW_IDS: readonly string[] = [
  "erm",
  "la",
  "la+uniform",
  "la+class-balanced",
  ...TABLE_OBJECTIVES.map((o) => `la+selmix:${o}`),
  ...TABLE_OBJECTIVES.map((o) => `la+posthoc:${o}`),
  ...TABLE_OBJECTIVES.map((o) => `la+resampling:${o}`),
  ...TABLE_OBJECTIVES.map((o) => `la+selmix+posthoc:${o}`),
];
