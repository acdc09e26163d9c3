import { readFileSync } from "node:fs";
import * as vega from "vega";
import * as vl from "vega-lite";

/** One panel of the report (a Vega-Lite spec inside the top-level `concat`). */
type Chart = Extract<vl.TopLevelSpec, { concat: unknown }>["concat"][number];

/** Per-class recall of one model, for the grouped bars. */
export interface RecallSeries {
  readonly label: string;
  readonly recall: readonly number[];
}

/** The validation objective of one fine-tuning run at each gain refresh (the lines of its diagnostics.jsonl). */
export interface ObjectiveCurve {
  readonly label: string;
  readonly points: readonly { readonly step: number; readonly objective: number }[];
  /** The step whose weights were kept (0 = the start). */
  readonly selectedStep: number;
}

/** The objective curve of a run from its diagnostics.jsonl (one JSON object with `step` and `objective` per line). */
export function readObjectiveCurve(diagnosticsPath: string, label: string, selectedStep: number): ObjectiveCurve {
  const points = readFileSync(diagnosticsPath, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const { step, objective } = JSON.parse(line) as { step: number; objective: number };
      return { step, objective };
    });
  return { label, points, selectedStep };
}

/** What {@link renderReportSvg} draws. */
export interface ReportContent {
  readonly title: string;
  /** Grouped bars: one group per class, one bar per series (e.g. before / after); the first is the baseline. */
  readonly series: readonly RecallSeries[];
  /** Validation objective over the fine-tuning steps, one line per run. */
  readonly curves?: readonly ObjectiveCurve[];
  /** Heat map of a K×K gain matrix (row-major; row i = first class, column j = partner). */
  readonly gain?: { readonly values: ArrayLike<number>; readonly k: number; readonly title: string };
}

const PANEL_HEIGHT = 200;

/** Colours follow the series order in every panel, so a model has one colour throughout (one legend, the first). */
function modelColor(labels: readonly string[], withLegend = false) {
  const legend = withLegend ? { orient: "bottom", direction: "horizontal", labelLimit: 0, title: null } : null;
  return { field: "model", type: "nominal", sort: labels, scale: { domain: labels, scheme: "tableau10" }, legend } as const;
}

/** The recall axis starts 5 points below the lowest bar (rounded down to 5), so a one-point change is visible. */
function recallChart(series: readonly RecallSeries[]): Chart {
  const values = series.flatMap((s) => s.recall.map((r, c) => ({ class: c, model: s.label, recall: 100 * r })));
  const lowest = Math.min(100, ...values.map((v) => v.recall));
  const floor = Math.max(0, Math.floor((lowest - 5) / 5) * 5);
  return {
    title: { text: "per-class test recall (%)", subtitle: floor > 0 ? `axis starts at ${floor}%` : "" },
    width: 10 * (series.length + 1) * (series[0]?.recall.length ?? 1),
    height: PANEL_HEIGHT,
    data: { values },
    mark: { type: "bar", clip: true, tooltip: true },
    encoding: {
      x: { field: "class", type: "ordinal", title: "class", axis: { labelAngle: 0 } },
      xOffset: { field: "model", sort: series.map((s) => s.label) },
      y: { field: "recall", type: "quantitative", title: "recall (%)", scale: { domain: [floor, 100], zero: false } },
      color: modelColor(series.map((s) => s.label), true),
    },
  };
}

/** Change of each model's per-class recall against the first series, in points. */
function differenceChart(series: readonly RecallSeries[]): Chart {
  const [base, ...others] = series;
  const values = others.flatMap((s) => s.recall.map((r, c) => ({ class: c, model: s.label, change: 100 * (r - base!.recall[c]!) })));
  // Symmetric and at least ±1 point, so no change at all still reads as a flat zero line.
  const bound = Math.max(1, Math.ceil(Math.max(...values.map((v) => Math.abs(v.change)))));
  return {
    title: { text: `change in test recall vs ${base!.label} (points)`, subtitle: "above 0: better than the start" },
    width: 10 * (others.length + 1) * (base?.recall.length ?? 1),
    height: PANEL_HEIGHT,
    layer: [
      {
        data: { values },
        mark: { type: "bar", tooltip: true },
        encoding: {
          x: { field: "class", type: "ordinal", title: "class", axis: { labelAngle: 0 } },
          xOffset: { field: "model", sort: others.map((s) => s.label) },
          y: { field: "change", type: "quantitative", title: "change (points)", scale: { domain: [-bound, bound] }, axis: { format: ".1f" } },
          color: modelColor(series.map((s) => s.label)),
        },
      },
      { data: { values: [{ zero: 0 }] }, mark: { type: "rule", color: "black" }, encoding: { y: { field: "zero", type: "quantitative" } } },
    ],
  };
}

function objectiveChart(curves: readonly ObjectiveCurve[], labels: readonly string[]): Chart {
  const values = curves.flatMap((c) => c.points.map((p) => ({ model: c.label, step: p.step, objective: p.objective })));
  const selected = curves.flatMap((c) => {
    const point = c.points.find((p) => p.step === c.selectedStep);
    return point === undefined ? [] : [{ model: c.label, step: point.step, objective: point.objective }];
  });
  const color = modelColor(labels);
  return {
    title: { text: "validation objective at each gain refresh", subtitle: "circle: the selected (kept) step" },
    width: 320,
    height: PANEL_HEIGHT,
    layer: [
      {
        data: { values },
        mark: { type: "line", point: { size: 12 }, tooltip: true },
        encoding: {
          x: { field: "step", type: "quantitative", title: "fine-tuning step" },
          y: { field: "objective", type: "quantitative", title: "objective on validation", scale: { zero: false } },
          color,
        },
      },
      {
        data: { values: selected },
        mark: { type: "point", size: 160, strokeWidth: 2.5, filled: false },
        encoding: { x: { field: "step", type: "quantitative" }, y: { field: "objective", type: "quantitative" }, color },
      },
    ],
  };
}

/** Diverging colours on a domain symmetric around 0: white is no gain, the same depth of red and blue is the same size. */
function gainChart(gain: NonNullable<ReportContent["gain"]>): Chart {
  const values: { i: number; j: number; gain: number }[] = [];
  let largest = 0;
  for (let i = 0; i < gain.k; i++) {
    for (let j = 0; j < gain.k; j++) {
      const g = gain.values[i * gain.k + j]!;
      values.push({ i, j, gain: g });
      largest = Math.max(largest, Math.abs(g));
    }
  }
  const bound = largest > 0 ? largest : 1;
  return {
    title: { text: gain.title, subtitle: "blue: mixing i with j raises the objective" },
    width: { step: 20 },
    height: { step: 20 },
    data: { values },
    mark: { type: "rect", tooltip: true },
    encoding: {
      x: { field: "j", type: "ordinal", title: "partner class j", axis: { labelAngle: 0 } },
      y: { field: "i", type: "ordinal", title: "first class i" },
      color: { field: "gain", type: "quantitative", scale: { scheme: "redblue", domain: [-bound, bound], domainMid: 0 }, title: "gain", legend: { format: ".1e" } },
    },
  };
}

/** Lines under the title for runs that kept their start: a flat result is then not a bug. */
function notes(curves: readonly ObjectiveCurve[]): string[] {
  return curves
    .filter((c) => c.selectedStep === 0)
    .map((c) => `${c.label}: selected step 0, no fine-tuned state beat the start on validation, so the start was kept`);
}

/**
 * The run report as an SVG document: per-class recall bars on a zoomed axis, the change of recall against the
 * first series, the validation objective over the fine-tuning steps, and a heat map of the last gain matrix, drawn
 * with Vega-Lite and rendered headless by Vega (no browser, no canvas). The same content gives the same bytes.
 */
export async function renderReportSvg(content: ReportContent): Promise<string> {
  const labels = [...content.series.map((s) => s.label), ...(content.curves ?? []).map((c) => c.label).filter((l) => !content.series.some((s) => s.label === l))];
  const charts: Chart[] = [recallChart(content.series)];
  if (content.series.length > 1) charts.push(differenceChart(content.series));
  if (content.curves !== undefined && content.curves.length > 0) charts.push(objectiveChart(content.curves, labels));
  if (content.gain !== undefined) charts.push(gainChart(content.gain));
  const spec: vl.TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: content.title, subtitle: notes(content.curves ?? []), anchor: "start", fontSize: 15 },
    concat: charts,
    columns: 2,
    spacing: 40,
    resolve: { scale: { color: "independent" } },
    config: { font: "sans-serif", background: "white", padding: 16 },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  try {
    return numberIdsFromZero(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * Vega numbers gradients and clip paths with counters shared by the whole process (`gradient_3`, `clip4` in a later
 * chart): renumbered per document, the same run gives the same bytes however many reports were drawn before (a
 * resumed run too).
 */
function numberIdsFromZero(svg: string): string {
  const ids = new Map<string, string>();
  const counts = new Map<string, number>();
  return svg.replace(/(id="|url\(#)(gradient_|clip)(\d+)/g, (_, before: string, prefix: string, n: string) => {
    const id = `${prefix}${n}`;
    if (!ids.has(id)) {
      const next = counts.get(prefix) ?? 0;
      counts.set(prefix, next + 1);
      ids.set(id, `${prefix}${next}`);
    }
    return `${before}${ids.get(id)}`;
  });
}
