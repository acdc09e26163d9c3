import type { ObjectiveName } from "@selmix/metrics";
import { MIXING_MODES, type MixingMode } from "@selmix/trainers";
import type { AggregatedRow, Cell } from "./aggregate.ts";
import { type ColumnKey, OBJECTIVE_COLUMN } from "./columns.ts";
import { isRealGap } from "./gap.ts";
import { OBJECTIVE_LABELS } from "./labels.ts";

/** One mixing mode of the ablations for one objective, in that objective's column. */
export interface MixingCheck {
  readonly objective: ObjectiveName;
  readonly column: ColumnKey;
  readonly mode: MixingMode;
  /** The mode with SelMix pairs (`<objective>:mixing-<mode>`). */
  readonly selmix: Cell;
  /** The mode with uniform pairs (`...-uniform`). */
  readonly uniform?: Cell;
  /** Feature mixup with SelMix pairs, for the input modes. */
  readonly feature?: Cell;
}

/** The checks of every `<objective>:mixing-<mode>` row of an ablations table. */
export function mixingChecks(rows: readonly AggregatedRow[]): MixingCheck[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const checks: MixingCheck[] = [];
  for (const objective of [...new Set(rows.flatMap((r) => (r.objective === undefined ? [] : [r.objective])))]) {
    const column = OBJECTIVE_COLUMN[objective];
    if (column === undefined) continue;
    const cell = (id: string): Cell | undefined => byId.get(`${objective}:${id}`)?.cells[column];
    for (const mode of MIXING_MODES) {
      const selmix = cell(`mixing-${mode}`);
      if (selmix === undefined) continue;
      const uniform = cell(`mixing-${mode}-uniform`);
      const feature = mode === "feature" ? undefined : cell("mixing-feature");
      checks.push({ objective, column, mode, selmix, ...(uniform === undefined ? {} : { uniform }), ...(feature === undefined ? {} : { feature }) });
    }
  }
  return checks;
}

const NAMES: Readonly<Record<MixingMode, string>> = { feature: "Feature mixup", "input-mixup": "Input mixup", cutmix: "CutMix", "feature+cutmix": "CutMix + feature mixup" };

/** `a` vs `b`: the gap in points and whether it is real. */
function gap(a: Cell, b: Cell): string {
  const d = a.mean - b.mean;
  return `${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(2)} points (${isRealGap(a, b) ? "a real gap" : "within noise"})`;
}

/** Whether `a` beats `b`: yes or no for a real gap, else not beyond noise. */
const beats = (a: Cell, b: Cell): string => (!isRealGap(a, b) ? "not beyond noise" : a.mean > b.mean ? "yes" : "no");

/** One verdict line per mixing check, for the Markdown. */
export function describeMixing(c: MixingCheck): string {
  const f = (x: Cell): string => `${x.mean.toFixed(2)} ± ${x.std.toFixed(2)}`;
  const parts = [`${NAMES[c.mode]} (${OBJECTIVE_LABELS[c.objective]}), SelMix pairs ${f(c.selmix)}`];
  if (c.feature !== undefined) parts.push(`vs feature mixup ${f(c.feature)}: ${gap(c.selmix, c.feature)}, helps: ${beats(c.selmix, c.feature)}`);
  if (c.uniform !== undefined) parts.push(`vs uniform pairs ${f(c.uniform)}: ${gap(c.selmix, c.uniform)}, SelMix's pairs pay off: ${beats(c.selmix, c.uniform)}`);
  return parts.join("; ");
}
