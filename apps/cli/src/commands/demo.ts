import type { Command } from "commander";
import { startBackend } from "../backend.ts";
import { elapsedSeconds } from "../flags.ts";
import { action, parseInteger, printJson } from "../run.ts";
import { requireOutDir } from "../training/run-dir.ts";
import { formatTable } from "../table.ts";
import { BACKEND_CHOICES } from "../training/common.ts";
import { type DemoOutcome, runDemo } from "../training/demo-run.ts";
import { DEMO_METRICS, pct } from "../training/metric-table.ts";

interface DemoFlags {
  readonly seed: number;
  readonly out: string;
  readonly backend?: string;
  readonly json?: boolean;
  readonly quick?: boolean;
  readonly resume: boolean;
}

function printTable(outcome: DemoOutcome, backend: string, seconds: string): void {
  const table = formatTable(
    ["method", ...DEMO_METRICS.map((m) => `${m.title} (%)`)],
    outcome.rows.map((r) => [r.method, ...DEMO_METRICS.map((m) => pct(r.metrics[m.key]!))]),
  );
  process.stdout.write(
    `MNIST-LT (supervised, N1 = 5000, rho = 100), MLP, test set\n\n${table}\n` +
      `reports: ${outcome.reports.join(", ")}\nbackend ${backend}, total time ${seconds} s\n`,
  );
}

/** `selmix demo`: LA pre-training, then SelMix for min recall and for mean recall, on MNIST-LT. */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description("MNIST-LT: LA pre-training, SelMix fine-tuning for min recall and for mean recall, one table")
    .option("--seed <n>", "seed of the split, the model and the training", parseInteger, 0)
    .option("--out <dir>", "folder of the three runs and report.svg", "runs/demo")
    .option("--backend <name>", `${BACKEND_CHOICES.join(" | ")} (default: $SELMIX_BACKEND, else auto)`)
    .option("--quick", "tiny step counts on the same data (for tests)")
    .option("--no-resume", "start every run over instead of continuing the runs already in --out")
    .option("--json", 'print {"rows": [{"method", "metrics"}]} instead of the table')
    .action(
      action(async (flags: DemoFlags) => {
        requireOutDir(flags.out);
        const start = performance.now();
        const backend = await startBackend(flags.backend);
        const outcome = await runDemo({
          seed: flags.seed,
          out: flags.out,
          backend,
          json: flags.json === true,
          resume: flags.resume,
          quick: flags.quick === true,
        });
        if (flags.json) printJson({ rows: outcome.rows });
        else printTable(outcome, backend, elapsedSeconds(start));
      }),
    );
}
