import type { ObjectiveName } from "@selmix/metrics";
import type { ModelArch } from "@selmix/models";
import { COLUMNS, type ColumnKey, columnValue, OBJECTIVE_COLUMN } from "./columns.ts";
import { type CompetitorCheck, competitorChecks } from "./competitors.ts";
import { isRealGap, perSeedDifferences } from "./gap.ts";
import { FIRST_POOL_LABELS, fixMatchVariantLabel, OBJECTIVE_LABELS } from "./labels.ts";
import { type MixingCheck, mixingChecks } from "./mixing-checks.ts";
import { PUBLISHED, type PublishedRow } from "./published.ts";
import { mean, std } from "./stats.ts";
import type { DatasetSpec, JobResult, RowResult, TableName } from "./types.ts";

/** Mean ± std over seeds, and every seed's value. */
export interface Cell {
  readonly mean: number;
  readonly std: number;
  readonly values: readonly number[];
  /** The seed of each value, for comparisons seed by seed (absent where values do not follow the row's seeds). */
  readonly seeds?: readonly number[];
}

/** One row of a table: a method on a dataset, over seeds. */
export interface AggregatedRow {
  readonly id: string;
  readonly label: string;
  readonly objective?: ObjectiveName;
  readonly seeds: readonly number[];
  readonly model: ModelArch;
  readonly pretrainSteps: number;
  readonly finetuneSteps: number | null;
  /** Metric columns, in percent. */
  readonly cells: Readonly<Record<ColumnKey, Cell>>;
  /** Wall-clock seconds per seed (pre-training for a pre-trained row, fine-tuning otherwise). */
  readonly seconds: Cell;
  /** Effective pairs at the first refresh (fine-tunes only). */
  readonly effectivePairs: Cell | null;
  /** How often each gain variant was chosen on the validation set, e.g. `reference ×2, paper ×1`. */
  readonly chosen: string | null;
  /** How often each x₁ pool won on validation, e.g. `labelled + unlabelled ×2, labelled ×1`; null without a choice. */
  readonly firstPoolChosen: string | null;
  /** How often each unlabelled prior won FixMatch-LA's start on validation, e.g. `estimated ×2, uniform ×1`. */
  readonly startChosen: string | null;
  /** Every seed's result, with model, steps, seed and config hash. */
  readonly perSeed: readonly RowResult[];
}

/** Whether SelMix tuned for an objective has the best value of that objective's column. */
export interface WinCheck {
  readonly objective: ObjectiveName;
  readonly column: ColumnKey;
  readonly selmix: Cell;
  readonly best: { readonly label: string; readonly cell: Cell };
  readonly wins: boolean;
  /** The gap is smaller than the sum of the two standard deviations. */
  readonly withinNoise: boolean;
  /** Mean recall with min coverage: the rows that meet the coverage target (min coverage ≥ 0.95/K). */
  readonly constraint?: string;
}

/** Semi-supervised tables: whether the FixMatch-LA start beats LA trained on the labelled split alone. */
export interface UnlabelledDataCheck {
  /** Test mean recall (percent) of `FixMatch-LA`. */
  readonly semiSupervised: Cell;
  /** Test mean recall (percent) of `LA (labelled only)`. */
  readonly labelledOnly: Cell;
  /** Difference of the means, in points. */
  readonly gain: number;
  /**
   * FixMatch-LA minus LA (labelled only) for each seed both rows have (a seed draws the same labelled split for
   * both), in seed order: the split's luck cancels out, so the noise is these gains' spread, not the rows' stds.
   */
  readonly perSeed: readonly number[];
  readonly beats: boolean;
  /** The mean gain is no larger than the standard deviation of the per-seed gains. */
  readonly withinNoise: boolean;
}

/** The table of one dataset. */
export interface DatasetTable {
  readonly dataset: DatasetSpec;
  readonly rows: readonly AggregatedRow[];
  readonly published: readonly PublishedRow[];
  readonly wins: readonly WinCheck[];
  /** SelMix vs the post-hoc plug-in vs resampling, per objective (tables with those rows). */
  readonly competitors: readonly CompetitorCheck[];
  /** Ablations: each mixing mode vs feature mixup and vs uniform pairs, per objective. */
  readonly mixing: readonly MixingCheck[];
  /** Semi-supervised tables with both rows: does the unlabelled data pay off? */
  readonly unlabelled?: UnlabelledDataCheck;
  readonly numClasses: number;
}

function cellOf(values: number[], seeds?: readonly number[]): Cell {
  return { mean: mean(values), std: std(values), values, ...(seeds === undefined ? {} : { seeds }) };
}

/** `a ×2, b ×1` for the values that occur, in order of first occurrence; null for none. */
function tally(values: readonly (string | undefined)[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts.size === 0 ? null : [...counts].map(([v, n]) => `${v} ×${n}`).join(", ");
}

function aggregateRow(rs: readonly RowResult[]): AggregatedRow {
  const first = rs[0]!;
  const sorted = [...rs].sort((a, b) => a.seed - b.seed);
  const seeds = sorted.map((r) => r.seed);
  const cells = Object.fromEntries(COLUMNS.map((c) => [c.key, cellOf(sorted.map((r) => columnValue(r, c.key)), seeds)])) as Record<ColumnKey, Cell>;
  const pairs = sorted.map((r) => r.effectivePairs?.first).filter((v): v is number => v !== undefined);
  return {
    id: first.row,
    label: first.label,
    ...(first.objective === undefined ? {} : { objective: first.objective }),
    seeds,
    model: first.model,
    pretrainSteps: first.pretrainSteps,
    finetuneSteps: first.finetuneSteps,
    cells,
    seconds: cellOf(sorted.map((r) => r.seconds)),
    effectivePairs: pairs.length === 0 ? null : cellOf(pairs),
    chosen: tally(sorted.map((r) => r.chosen?.gainVariant)),
    firstPoolChosen: tally(sorted.map((r) => (r.chosen?.firstPool === undefined ? undefined : FIRST_POOL_LABELS[r.chosen.firstPool]))),
    startChosen: tally(sorted.map((r) => {
      const chosen = r.startChoice?.candidates[r.startChoice.chosen];
      return chosen === undefined ? undefined : fixMatchVariantLabel(chosen);
    })),
    perSeed: sorted,
  };
}

function winChecks(rows: readonly AggregatedRow[], k: number): WinCheck[] {
  const checks: WinCheck[] = [];
  for (const r of rows) {
    if (r.objective === undefined || !r.id.includes("+selmix:")) continue;
    const column = OBJECTIVE_COLUMN[r.objective];
    if (column === undefined) continue;
    const coverage = r.objective === "mean-recall-min-coverage";
    const target = (100 * 0.95) / k;
    const feasibleRows = rows.filter((x) => x.cells.minCoverage.mean >= target);
    // With no row meeting the coverage target, the row closest to it (largest min coverage) is the best.
    const noneFeasible = coverage && feasibleRows.length === 0;
    const pool = coverage && !noneFeasible ? feasibleRows : rows;
    const judged: ColumnKey = noneFeasible ? "minCoverage" : column;
    const selmix = r.cells[judged];
    const best = pool.reduce<AggregatedRow | undefined>((b, x) => (b === undefined || x.cells[judged].mean > b.cells[judged].mean ? x : b), undefined);
    const feasible = !coverage || noneFeasible || r.cells.minCoverage.mean >= target;
    if (best === undefined) continue;
    const bestCell = best.cells[judged];
    const wins = feasible && selmix.mean >= bestCell.mean - 1e-9;
    const constraint = noneFeasible
      ? `no row meets min coverage ≥ ${target.toFixed(2)} (0.95/K): judged on min coverage`
      : `among rows with min coverage ≥ ${target.toFixed(2)} (0.95/K)${feasible ? "" : "; the SelMix row misses it"}`;
    checks.push({
      objective: r.objective,
      column: judged,
      selmix,
      best: { label: best.label, cell: bestCell },
      wins,
      withinNoise: feasible && !isRealGap(bestCell, selmix),
      ...(coverage ? { constraint } : {}),
    });
  }
  return checks;
}

function unlabelledDataCheck(rows: readonly AggregatedRow[]): UnlabelledDataCheck | undefined {
  const semi = rows.find((r) => r.id === "fixmatch-la");
  const labelled = rows.find((r) => r.id === "la-labelled");
  if (semi === undefined || labelled === undefined) return undefined;
  const a = semi.cells.meanRecall;
  const b = labelled.cells.meanRecall;
  const gain = a.mean - b.mean;
  return { semiSupervised: a, labelledOnly: b, gain, perSeed: perSeedDifferences(a, b) ?? [], beats: gain > 0, withinNoise: !isRealGap(a, b) };
}

/**
 * Groups job results into one table per dataset: pre-trained rows first (alphabetical: ERM before LA, FixMatch
 * before FixMatch-LA), then the fine-tunes in job order; published numbers for the same dataset only.
 */
export function aggregate(table: TableName, datasets: readonly DatasetSpec[], results: readonly JobResult[]): DatasetTable[] {
  const out: DatasetTable[] = [];
  for (const dataset of datasets) {
    const mine = results.filter((r) => r.job.dataset.id === dataset.id);
    if (mine.length === 0) continue;
    const byRow = new Map<string, RowResult[]>();
    const order: string[] = [];
    for (const res of mine) {
      for (const r of res.rows) {
        if (!byRow.has(r.row)) {
          byRow.set(r.row, []);
          order.push(r.row);
        }
        byRow.get(r.row)!.push(r);
      }
    }
    // Pre-trained rows first; post-hoc rows (no fine-tuning steps either) stay in job order with the fine-tunes.
    const isPretrained = (id: string): boolean => byRow.get(id)![0]!.finetuneSteps === null && byRow.get(id)![0]!.posthoc === undefined;
    const pre = order.filter(isPretrained).sort();
    const ft = order.filter((id) => !isPretrained(id));
    const rows = [...pre, ...ft].map((id) => aggregateRow(byRow.get(id)!));
    const k = mine[0]!.rows[0]!.test.recall.length;
    const unlabelled = table === "semi-supervised" ? unlabelledDataCheck(rows) : undefined;
    out.push({
      dataset,
      rows,
      published: PUBLISHED[dataset.id] ?? [],
      wins: table === "ablations" ? [] : winChecks(rows, k),
      competitors: table === "ablations" ? [] : competitorChecks(rows, k),
      mixing: table === "ablations" ? mixingChecks(rows) : [],
      ...(unlabelled === undefined ? {} : { unlabelled }),
      numClasses: k,
    });
  }
  return out;
}

/** One line per win check, for the Markdown and the console. */
export function describeWin(w: WinCheck): string {
  const f = (c: Cell): string => `${c.mean.toFixed(2)} ± ${c.std.toFixed(2)}`;
  const name = OBJECTIVE_LABELS[w.objective];
  const cond = w.constraint === undefined ? "" : ` (${w.constraint})`;
  if (w.wins) return `SelMix (${name}): ${f(w.selmix)}${cond}: best of the table, yes`;
  const noise = w.withinNoise ? "within noise" : "a real gap";
  return `SelMix (${name}): ${f(w.selmix)}; best is ${w.best.label} with ${f(w.best.cell)}${cond}: no (${noise})`;
}

/** The verdict line of an {@link UnlabelledDataCheck}, for the Markdown and the console. */
export function describeUnlabelled(c: UnlabelledDataCheck): string {
  const f = (x: Cell): string => `${x.mean.toFixed(2)} ± ${x.std.toFixed(2)}`;
  const sign = c.gain >= 0 ? "+" : "−";
  const verdict = c.withinNoise ? "not beyond noise (a paired t-test over the seeds)" : c.beats ? "yes" : "no";
  const signed = (x: number): string => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(2)}`;
  const seeds = c.perSeed.length > 1 ? ` (per seed, same labelled split: ${c.perSeed.map(signed).join(", ")}; std ${std(c.perSeed).toFixed(2)})` : "";
  return `FixMatch-LA vs LA (labelled only), test mean recall: ${f(c.semiSupervised)} vs ${f(c.labelledOnly)}, ${sign}${Math.abs(c.gain).toFixed(2)} points${seeds}; the unlabelled data pays off: ${verdict}`;
}
