import { type AggregatedRow, type Cell, type DatasetTable, describeUnlabelled, describeWin } from "./aggregate.ts";
import { COLUMNS } from "./columns.ts";
import { describeCompetitors } from "./competitors.ts";
import type { TableDocument } from "./document.ts";
import { GAP_TEST_LEVEL } from "./gap.ts";
import { describeMixing } from "./mixing-checks.ts";

const TITLES = { supervised: "Supervised", "semi-supervised": "Semi-supervised", ablations: "Ablations", text: "Text (WordNet nouns)" } as const;

function formatCell(c: Cell, digits = 2): string {
  if (!Number.isFinite(c.mean)) return "—";
  return c.values.length > 1 ? `${c.mean.toFixed(digits)} ± ${c.std.toFixed(digits)}` : c.mean.toFixed(digits);
}

/** Duration as `42 s`, `3.5 min` or `1.2 h`. */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(2)} h`;
}

function provenance(r: AggregatedRow): string {
  const base = r.finetuneSteps === null ? `${r.pretrainSteps}` : `${r.pretrainSteps} + ${r.finetuneSteps} ${r.perSeed[0]?.chosen?.mode ?? ""}`.trim();
  const steps = r.perSeed[0]?.posthoc === undefined ? base : `${base} + post-hoc offsets`;
  const chosen = r.chosen === null || !r.id.includes("selmix") ? "" : `; gain ${r.chosen}`;
  const pool = r.firstPoolChosen === null ? "" : `; x₁ from ${r.firstPoolChosen}`;
  const prior = r.startChosen === null ? "" : `; unlabelled prior ${r.startChosen}`;
  return `${r.model} · ${steps} · seeds ${r.seeds.join(",")}${chosen}${pool}${prior}`;
}

function groupOf(doc: TableDocument, r: AggregatedRow): string {
  return doc.table === "ablations" ? (r.id.split(":")[0] ?? "") : "all";
}

function renderDataset(doc: TableDocument, t: DatasetTable): string[] {
  const ablations = doc.table === "ablations";
  const lines: string[] = [`### ${t.dataset.label}`, ""];
  const headers = ["Method", ...COLUMNS.map((c) => c.header), ...(ablations ? ["Eff. pairs (1st refresh)", "Time (s)"] : []), "Model · steps · seeds"];
  lines.push(`| ${headers.join(" | ")} |`, `|${headers.map((_, i) => (i === 0 || i === headers.length - 1 ? "---" : "---:")).join("|")}|`);
  const best = new Map<string, number>();
  for (const r of t.rows) {
    const g = groupOf(doc, r);
    for (const c of COLUMNS) {
      const key = `${g}/${c.key}`;
      best.set(key, Math.max(best.get(key) ?? Number.NEGATIVE_INFINITY, Number(r.cells[c.key].mean.toFixed(2))));
    }
  }
  const groupSize = (g: string): number => t.rows.filter((r) => groupOf(doc, r) === g).length;
  for (const r of t.rows) {
    const g = groupOf(doc, r);
    const cells = COLUMNS.map((c) => {
      const text = formatCell(r.cells[c.key]);
      const isBest = groupSize(g) > 1 && Number(r.cells[c.key].mean.toFixed(2)) === best.get(`${g}/${c.key}`);
      return isBest ? `**${text}**` : text;
    });
    const extra = ablations ? [r.effectivePairs === null ? "—" : formatCell(r.effectivePairs, 1), formatCell(r.seconds, 1)] : [];
    lines.push(`| ${[r.label, ...cells, ...extra, provenance(r)].join(" | ")} |`);
  }
  for (const p of t.published) {
    const cells = COLUMNS.map((c) => (p.values[c.key] === undefined ? "n/a" : p.values[c.key]!.toFixed(1)));
    lines.push(`| *published: ${p.label}* | ${[...cells, ...(ablations ? ["", ""] : []), `*${p.source}*`].join(" | ")} |`);
  }
  lines.push("");
  const isPosthoc = (r: AggregatedRow): boolean => r.perSeed[0]?.posthoc !== undefined;
  const pre = t.rows.filter((r) => r.finetuneSteps === null && !isPosthoc(r));
  const ft = t.rows.filter((r) => r.finetuneSteps !== null && !isPosthoc(r));
  const ftSeconds = ft.flatMap((r) => r.seconds.values);
  const posthocSeconds = t.rows.filter(isPosthoc).flatMap((r) => r.seconds.values);
  const seeds = t.rows[0]?.seeds.join(", ") ?? "";
  const preText = pre.map((r) => `${r.label} ${formatDuration(r.seconds.mean)}`).join(", ");
  const ftText = ftSeconds.length === 0 ? "" : `; fine-tuning ${formatDuration(ftSeconds.reduce((a, b) => a + b, 0) / ftSeconds.length)} per row and seed (all candidates)`;
  const posthocText =
    posthocSeconds.length === 0 ? "" : `; post-hoc fit ${(posthocSeconds.reduce((a, b) => a + b, 0) / posthocSeconds.length).toFixed(2)} s per row and seed (validation predictions included)`;
  lines.push(
    `Test set, percent, mean ± std over seeds ${seeds}; best per column in bold${ablations ? " (within each objective)" : ""}. ` +
      `Min cov. target 0.95/K = ${(95 / t.numClasses).toFixed(2)}. The rows share their seeds, so a gap below is "real" when a paired t-test over the seeds finds it at the ${GAP_TEST_LEVEL * 100} % level (two-sided), else "within noise". Time per seed: pre-training ${preText}${ftText}${posthocText}.` +
      (t.published.length > 0 ? " Published rows are the paper's numbers on this dataset with its own models (not comparable step for step)." : ""),
  );
  if (t.unlabelled !== undefined) lines.push("", `- ${describeUnlabelled(t.unlabelled)}`);
  if (t.wins.length > 0) {
    const every = t.unlabelled === undefined ? "" : " (every row, the labelled-only baselines included)";
    lines.push("", `SelMix tuned for an objective vs the best row of that objective's column${every}:`, "");
    for (const w of t.wins) lines.push(`- ${describeWin(w)}`);
  }
  if (t.competitors.length > 0) {
    lines.push("", "SelMix vs the post-hoc plug-in (logit offsets fitted on validation) vs resampling (SelMix's x₁ marginal, no mixup), per objective:", "");
    for (const c of t.competitors) lines.push(`- ${describeCompetitors(c)}`);
  }
  if (t.mixing.length > 0) {
    lines.push("", "Mixing modes (full network, x₁'s label), in each objective's own column: vs feature mixup with SelMix pairs, and SelMix pairs vs uniform pairs:", "");
    for (const m of t.mixing) lines.push(`- ${describeMixing(m)}`);
  }
  lines.push("");
  return lines;
}

const when = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** The Markdown of a table document: a header with command and date, then one table per dataset. */
export function renderMarkdown(doc: TableDocument): string {
  const lines: string[] = [
    `## ${TITLES[doc.table]} (profile ${doc.profile})`,
    "",
    `Rendered by \`${doc.command}\` on ${when(doc.date)} from the job results; ${formatDuration(doc.computeSeconds)} of job time in all ` +
      "(sum over jobs, pre-training included).",
    "",
    ...doc.runs.map((r) => `- jobs run by \`${r.command}\` on ${when(r.date)}: ${r.jobsRun === null ? "" : `${r.jobsRun} jobs, `}wall time ${formatDuration(r.wallSeconds)} ${r.queue === undefined ? `with ${r.split ?? `${r.workers} worker processes`}` : "on the workers of a Redis queue"}`),
    ...(doc.runs.length > 0 ? [""] : []),
    `Profile: ${doc.description}`,
    "",
  ];
  for (const t of doc.datasets) lines.push(...renderDataset(doc, t));
  for (const s of doc.skipped) lines.push(`- skipped ${s.dataset}: ${s.reason}`);
  for (const f of doc.failed) lines.push(`- FAILED job ${f.jobId}: ${f.reason}`);
  return `${lines.join("\n").trimEnd()}\n`;
}
