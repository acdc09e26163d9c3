import type { ProfileSettings } from "./profiles.ts";
import { OBJECTIVE_LABELS } from "./labels.ts";
import { TABLE_OBJECTIVES } from "./profiles.ts";
import type { DatasetSpec, RowSpec, TableName } from "./types.ts";

/**
 * The honest competitors of the "+ SelMix" rows, per objective: the post-hoc plug-in on the start (`+posthoc:`),
 * fine-tuning with SelMix's x₁ class marginal and no mixup, with the same candidates, steps and selection
 * (`+resampling:`), and the plug-in applied after SelMix (`+selmix+posthoc:`, from the SelMix row's chosen model).
 * They come after the SelMix rows, which the last kind starts from.
 */
export function competitorRows(prefix: string, label: string, settings: ProfileSettings, seed: number, table: TableName, dataset: DatasetSpec): RowSpec[] {
  const name = (o: (typeof TABLE_OBJECTIVES)[number]): string => OBJECTIVE_LABELS[o];
  return [
    ...TABLE_OBJECTIVES.map((objective): RowSpec => ({ id: `${prefix}+posthoc:${objective}`, label: `${label} + post-hoc (${name(objective)})`, objective, posthoc: objective })),
    ...TABLE_OBJECTIVES.map(
      (objective): RowSpec => ({
        id: `${prefix}+resampling:${objective}`,
        label: `${label} + resampling (${name(objective)})`,
        objective,
        candidates: settings.selmixCandidates(objective, seed, table, dataset).map((c) => ({ ...c, policy: "resampling" })),
      }),
    ),
    ...TABLE_OBJECTIVES.map(
      (objective): RowSpec => ({
        id: `${prefix}+selmix+posthoc:${objective}`,
        label: `${label} + SelMix + post-hoc (${name(objective)})`,
        objective,
        posthoc: objective,
        from: `${prefix}+selmix:${objective}`,
      }),
    ),
  ];
}
