import * as vega from "vega";
import * as vl from "vega-lite";

/** One panel of the report (a Vega-Lite unit spec inside the top-level `hconcat`). */
type Chart = Extract<vl.TopLevelSpec, { hconcat: unknown }>["hconcat"][number];

/** Per-class recall of one model, for the grouped bars. */
export interface RecallSeries {
  readonly label: string;
  readonly recall: readonly number[];
}

/** What {@link renderReportSvg} draws. */
export interface ReportContent {
  readonly title: string;
  /** Grouped bars: one group per class, one bar per series (e.g. before / after). */
  readonly series: readonly RecallSeries[];
  /** Heat map of a K×K gain matrix (row-major; row i = first class, column j = partner). */
  readonly gain?: { readonly values: ArrayLike<number>; readonly k: number; readonly title: string };
}

function recallChart(series: readonly RecallSeries[]): Chart {
  const values = series.flatMap((s, order) => s.recall.map((r, c) => ({ class: c, model: s.label, order, recall: 100 * r })));
  return {
    title: "per-class test recall (%)",
    width: 12 * (series.length + 1) * (series[0]?.recall.length ?? 1),
    height: 220,
    data: { values },
    mark: { type: "bar", tooltip: true },
    encoding: {
      x: { field: "class", type: "ordinal", title: "class" },
      xOffset: { field: "model", sort: series.map((s) => s.label) },
      y: { field: "recall", type: "quantitative", title: "recall (%)", scale: { domain: [0, 100] } },
      color: { field: "model", sort: series.map((s) => s.label), title: null, scale: { scheme: "tableau10" }, legend: { orient: "bottom", labelLimit: 0 } },
    },
  };
}

function gainChart(gain: NonNullable<ReportContent["gain"]>): Chart {
  const values: { i: number; j: number; gain: number }[] = [];
  for (let i = 0; i < gain.k; i++) for (let j = 0; j < gain.k; j++) values.push({ i, j, gain: gain.values[i * gain.k + j]! });
  return {
    title: gain.title,
    width: { step: 22 },
    height: { step: 22 },
    data: { values },
    mark: "rect",
    encoding: {
      x: { field: "j", type: "ordinal", title: "partner class j" },
      y: { field: "i", type: "ordinal", title: "first class i" },
      color: { field: "gain", type: "quantitative", scale: { scheme: "redblue", domainMid: 0, reverse: true }, title: "gain" },
    },
  };
}

/**
 * The run report as an SVG document: grouped per-class recall bars, and a heat map of the last gain matrix, drawn
 * with Vega-Lite and rendered headless by Vega (no browser, no canvas).
 */
export async function renderReportSvg(content: ReportContent): Promise<string> {
  const charts = [recallChart(content.series), ...(content.gain === undefined ? [] : [gainChart(content.gain)])];
  const spec: vl.TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: content.title,
    hconcat: charts,
    spacing: 40,
    config: { font: "sans-serif", background: "white" },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
