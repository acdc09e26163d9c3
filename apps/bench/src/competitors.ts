import type { ObjectiveName } from "@selmix/metrics";
import type { AggregatedRow, Cell } from "./aggregate.ts";
import { COLUMNS, type ColumnKey, OBJECTIVE_COLUMN } from "./columns.ts";
import { isRealGap } from "./gap.ts";
import { OBJECTIVE_LABELS } from "./labels.ts";

/** The four rows compared for one objective from one start. */
export type CompetitorKind = "selmix" | "posthoc" | "resampling" | "selmix+posthoc";

const KINDS: readonly { readonly kind: CompetitorKind; readonly name: string }[] = [
  { kind: "selmix", name: "SelMix" },
  { kind: "posthoc", name: "post-hoc" },
  { kind: "resampling", name: "resampling" },
  { kind: "selmix+posthoc", name: "SelMix + post-hoc" },
];

/** One compared row: its cell in the objective's column and whether it meets the coverage target (if any). */
export interface CompetitorEntry {
  readonly kind: CompetitorKind;
  readonly label: string;
  readonly cell: Cell;
  readonly minCoverage: Cell;
  readonly feasible: boolean;
}

/** SelMix vs the post-hoc plug-in vs resampling (and the plug-in after SelMix) for one objective and start. */
export interface CompetitorCheck {
  readonly objective: ObjectiveName;
  /** Row-id prefix of the start, e.g. `la` or `fixmatch-la`. */
  readonly start: string;
  readonly column: ColumnKey;
  readonly entries: readonly CompetitorEntry[];
  /** Mean recall with min coverage: the coverage target every entry is checked against. */
  readonly coverageTarget?: number;
}

/**
 * One check per "+ SelMix" row that has competitor rows (`<start>+posthoc:<objective>`, `+resampling:`,
 * `+selmix+posthoc:`) in the same table.
 */
export function competitorChecks(rows: readonly AggregatedRow[], k: number): CompetitorCheck[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const checks: CompetitorCheck[] = [];
  for (const r of rows) {
    const match = /^(.+)\+selmix:(.+)$/.exec(r.id);
    if (match === null || r.objective === undefined) continue;
    const [, start, objective] = match as unknown as [string, string, ObjectiveName];
    const column = OBJECTIVE_COLUMN[objective];
    if (column === undefined) continue;
    const coverage = objective === "mean-recall-min-coverage";
    const target = (100 * 0.95) / k;
    const entries = KINDS.flatMap(({ kind }) => {
      const row = byId.get(kind === "selmix" ? r.id : `${start}+${kind}:${objective}`);
      if (row === undefined) return [];
      const feasible = !coverage || row.cells.minCoverage.mean >= target;
      return [{ kind, label: row.label, cell: row.cells[column], minCoverage: row.cells.minCoverage, feasible }];
    });
    if (entries.length < 2) continue;
    checks.push({ objective, start, column, entries, ...(coverage ? { coverageTarget: target } : {}) });
  }
  return checks;
}

const f = (c: Cell): string => (c.values.length > 1 ? `${c.mean.toFixed(2)} ± ${c.std.toFixed(2)}` : c.mean.toFixed(2));

/** "better by 1.20 (a real gap)", "worse by 0.30 (within noise)", or the coverage verdict. */
function versus(a: CompetitorEntry, b: CompetitorEntry): string {
  if (a.feasible !== b.feasible) return a.feasible ? "better (only it meets the coverage target)" : "worse (misses the coverage target, the other meets it)";
  const diff = a.cell.mean - b.cell.mean;
  const seeds = Math.min(a.cell.values.length, b.cell.values.length);
  const noise = seeds < 2 ? "one seed, no std" : isRealGap(a.cell, b.cell) ? "a real gap" : "within noise";
  if (diff === 0) return `equal (${noise})`;
  return `${diff > 0 ? "better" : "worse"} by ${Math.abs(diff).toFixed(2)} (${noise})`;
}

/** One generated verdict line: every entry's value, then SelMix vs each competitor and what the combination adds. */
export function describeCompetitors(c: CompetitorCheck): string {
  const header = COLUMNS.find((x) => x.key === c.column)?.header ?? c.column;
  const name = (kind: CompetitorKind): string => KINDS.find((x) => x.kind === kind)!.name;
  const values = c.entries
    .map((e) => `${name(e.kind)} ${f(e.cell)}${c.coverageTarget === undefined ? "" : ` (min cov. ${f(e.minCoverage)}${e.feasible ? "" : ", misses"})`}`)
    .join(", ");
  const selmix = c.entries.find((e) => e.kind === "selmix");
  const verdicts: string[] = [];
  for (const kind of ["posthoc", "resampling"] as const) {
    const other = c.entries.find((e) => e.kind === kind);
    if (selmix !== undefined && other !== undefined) verdicts.push(`SelMix vs ${name(kind)}: ${versus(selmix, other)}`);
  }
  const combined = c.entries.find((e) => e.kind === "selmix+posthoc");
  if (selmix !== undefined && combined !== undefined) verdicts.push(`post-hoc after SelMix: ${versus(combined, selmix)}`);
  const target = c.coverageTarget === undefined ? "" : `, min coverage target ${c.coverageTarget.toFixed(2)}`;
  return `${OBJECTIVE_LABELS[c.objective]} (${header}${target}), from ${c.start}: ${values}. ${verdicts.join("; ")}.`;
}
