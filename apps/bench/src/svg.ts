import type { DatasetTable } from "./aggregate.ts";
import { COLUMNS, OBJECTIVE_COLUMN } from "./columns.ts";
import { OBJECTIVE_LABELS } from "./labels.ts";
import type { TableName } from "./types.ts";

/** One series of a grouped bar chart: a value (and error bar) per group. */
export interface BarSeries {
  readonly label: string;
  readonly values: readonly number[];
  readonly errors: readonly number[];
}

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#8c564b"];

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A hand-written grouped bar chart (0–100 %), with ± std error bars and a legend. */
export function groupedBarSvg(title: string, groups: readonly string[], series: readonly BarSeries[]): string {
  const left = 50;
  const top = 40;
  const plotH = 260;
  const barW = Math.max(3, Math.min(14, Math.floor(600 / Math.max(1, groups.length * series.length))));
  const groupW = barW * series.length + 16;
  const plotW = groupW * groups.length;
  const legendRows = series.length;
  const width = left + plotW + 20;
  const height = top + plotH + 40 + legendRows * 16 + 10;
  const y = (v: number): number => top + plotH - (Math.max(0, Math.min(100, v)) / 100) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const tick of [0, 20, 40, 60, 80, 100]) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(tick)}" y2="${y(tick)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + 8;
    series.forEach((s, si) => {
      const v = s.values[gi] ?? Number.NaN;
      if (!Number.isFinite(v)) return;
      const x = x0 + si * barW;
      const color = PALETTE[si % PALETTE.length]!;
      parts.push(`<rect x="${x}" y="${y(v).toFixed(1)}" width="${barW - 1}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${color}"><title>${esc(`${s.label}: ${g} ${v.toFixed(2)}`)}</title></rect>`);
      const e = s.errors[gi] ?? 0;
      if (e > 0) {
        const cx = x + (barW - 1) / 2;
        parts.push(`<line x1="${cx}" x2="${cx}" y1="${y(v + e).toFixed(1)}" y2="${y(v - e).toFixed(1)}" stroke="black"/>`);
      }
    });
    parts.push(`<text x="${x0 + (barW * series.length) / 2}" y="${top + plotH + 16}" text-anchor="middle">${esc(g)}</text>`);
  });
  series.forEach((s, si) => {
    const ly = top + plotH + 36 + si * 16;
    parts.push(`<rect x="${left}" y="${ly - 9}" width="10" height="10" fill="${PALETTE[si % PALETTE.length]}"/>`);
    parts.push(`<text x="${left + 16}" y="${ly}">${esc(s.label)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/**
 * The chart of a dataset's table. Main tables: groups are the metric columns, one bar per row. Ablations: groups
 * are the objectives, one bar per variant, the bar being that objective's own column.
 */
export function tableSvg(table: TableName, t: DatasetTable): string {
  if (table !== "ablations") {
    const series = t.rows.map((r) => ({
      label: r.label,
      values: COLUMNS.map((c) => r.cells[c.key].mean),
      errors: COLUMNS.map((c) => r.cells[c.key].std),
    }));
    return groupedBarSvg(t.dataset.label, COLUMNS.map((c) => c.header), series);
  }
  const objectives = [...new Set(t.rows.map((r) => r.objective).filter((o) => o !== undefined))];
  const variants = [...new Set(t.rows.filter((r) => r.objective !== undefined).map((r) => r.id.split(":")[1] ?? ""))];
  const series = variants.map((v) => {
    const rowsOf = objectives.map((o) => t.rows.find((r) => r.id === `${o}:${v}`));
    const col = (i: number): "meanRecall" => (OBJECTIVE_COLUMN[objectives[i]!] ?? "meanRecall") as "meanRecall";
    return {
      label: rowsOf.find((r) => r !== undefined)?.label.split(": ").slice(1).join(": ") ?? v,
      values: rowsOf.map((r, i) => (r === undefined ? Number.NaN : r.cells[col(i)].mean)),
      errors: rowsOf.map((r, i) => (r === undefined ? 0 : r.cells[col(i)].std)),
    };
  });
  return groupedBarSvg(`${t.dataset.label}: ablations (each objective's own metric)`, objectives.map((o) => OBJECTIVE_LABELS[o]), series);
}
