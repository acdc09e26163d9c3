import { dirname, join } from "node:path";
import { writeFileAtomic } from "@selmix/core/node";
import type { MetricReport, ObjectiveName } from "@selmix/metrics";
import type { BackendName } from "@selmix/models";
import { type FinetuneOutcome, runFinetune } from "./finetune-run.ts";
import { DEMO_METRICS } from "./metric-table.ts";
import { runPretrain } from "./pretrain-run.ts";
import { readObjectiveCurve, renderReportSvg } from "./report-svg.ts";

/** Options of {@link runDemo}. */
export interface DemoOptions {
  readonly seed: number;
  /** Parent of the three run directories (pretrain, finetune-min-recall, finetune-mean-recall) and report.svg. */
  readonly out: string;
  readonly backend: BackendName;
  readonly json: boolean;
  readonly resume: boolean;
  /** Tiny step counts on the same data (tests). */
  readonly quick: boolean;
}

/** One row of the demo table: a method and its five test metrics (fractions). */
export interface DemoRow {
  readonly method: string;
  readonly metrics: Readonly<Record<string, number>>;
}

/** What {@link runDemo} returns. */
export interface DemoOutcome {
  readonly rows: readonly DemoRow[];
  /** The SVG reports: the demo's own (three models), then each fine-tuning run's. */
  readonly reports: readonly string[];
}

/**
 * Step counts measured on a 2-core machine (wasm): LA pre-training 2000 steps ≈ 12 s, head-only fine-tuning
 * 5000 steps ≈ 6 s each. `quick` keeps the data and the settings, only the steps shrink.
 */
const STEPS = {
  full: { pretrain: 2000, evalEvery: 500, finetune: 5000 },
  quick: { pretrain: 200, evalEvery: 100, finetune: 300 },
} as const;

function row(method: string, report: MetricReport): DemoRow {
  return { method, metrics: Object.fromEntries(DEMO_METRICS.map(({ key }) => [key, report[key] as number])) };
}

/**
 * The README's main job: MNIST long-tailed (supervised profile, N1 = 5000, rho = 100), an MLP pre-trained with
 * logit adjustment, then SelMix head-only fine-tuning from the same start for min recall and for mean recall. It
 * runs the `pretrain` and `finetune` commands' own code into OUT/pretrain, OUT/finetune-min-recall and
 * OUT/finetune-mean-recall, and writes OUT/report.svg comparing the three models.
 */
export async function runDemo(options: DemoOptions): Promise<DemoOutcome> {
  const steps = options.quick ? STEPS.quick : STEPS.full;
  const { seed, backend, json, resume } = options;
  const pretrainDir = join(options.out, "pretrain");
  const pre = await runPretrain(
    { source: "mnist", profile: "supervised", n1: 5000, rho: 100, model: "mlp", method: "la", steps: steps.pretrain, evalEvery: steps.evalEvery, seed },
    { out: pretrainDir, resume, json, backend, label: "pretrain (LA)" },
  );
  const tune = (objective: ObjectiveName): Promise<FinetuneOutcome> =>
    runFinetune(
      // CPU settings, all explicit (the trainer's defaults are the reference's GPU run): head-only, a larger lr, a
      // scale-free temperature, every step run, digits without augmentation.
      {
        from: pretrainDir,
        objective,
        mode: "head-only",
        steps: steps.finetune,
        lr: 0.01,
        temperatureScale: "spread",
        temperature: 0.5,
        earlyStop: false,
        augment: "none",
        seed,
      },
      { out: join(options.out, `finetune-${objective}`), resume, json, backend, label: `finetune (${objective})`, splits: pre.splits },
    );
  const minRecall = await tune("min-recall");
  const meanRecall = await tune("mean-recall");

  const reportPath = join(options.out, "report.svg");
  const svg = await renderReportSvg({
    title: `selmix demo: MNIST-LT (N1 = 5000, rho = 100), MLP, seed ${seed}`,
    series: [
      { label: "LA", recall: pre.test.recall },
      { label: "SelMix (mean recall)", recall: meanRecall.after.recall },
      { label: "SelMix (min recall)", recall: minRecall.after.recall },
    ],
    curves: [
      readObjectiveCurve(join(dirname(meanRecall.reportPath), "diagnostics.jsonl"), "SelMix (mean recall)", meanRecall.result.selectedStep),
      readObjectiveCurve(join(dirname(minRecall.reportPath), "diagnostics.jsonl"), "SelMix (min recall)", minRecall.result.selectedStep),
    ],
    gain: { values: minRecall.result.lastGain, k: pre.manifest.source.numClasses, title: "last gain matrix of SelMix (min recall)" },
  });
  writeFileAtomic(reportPath, svg);
  return {
    rows: [row("LA", pre.test), row("SelMix(mean recall)", meanRecall.after), row("SelMix(min recall)", minRecall.after)],
    reports: [reportPath, minRecall.reportPath, meanRecall.reportPath],
  };
}
