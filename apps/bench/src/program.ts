import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SelmixError } from "@selmix/core";
import { type ClassPrior, OBJECTIVE_NAMES, type ObjectiveName } from "@selmix/metrics";
import { MIXING_MODES } from "@selmix/trainers";
import { withOneLineErrors } from "@selmix/core/node";
import { Command, InvalidArgumentError, Option } from "commander";
import { benchCommandLine } from "./command-line.ts";
import { parseSources } from "./datasets.ts";
import type { TableLimits } from "./limits.ts";
import { parseQueueUrl } from "./queue.ts";
import { updateReadme } from "./readme.ts";
import { runSpeed } from "./speed.ts";
import { runTable } from "./table-command.ts";
import { BENCH_PROFILES, type BenchProfile, type TableName } from "./types.ts";
import { workerCommand } from "./worker-command.ts";

/**
 * Runs a command body; any failure becomes one line `bench: CODE: message` on stderr and exit code 1 (commander's
 * usage errors are `bench: USAGE: ...`, exit code 2, through `runCommandLine` in main.ts).
 */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return withOneLineErrors("bench", body);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !(n >= 1)) throw new InvalidArgumentError("not a positive integer.");
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError("not a number > 0.");
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError("not a non-negative integer.");
  return n;
}

/** The repository root (`results/` lives there by default). */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** apps/bench/README.md. */
const README = fileURLToPath(new URL("../README.md", import.meta.url));
/** packages/trainers/README.md: its data-parallel numbers come from `bench speed --readme`. */
const TRAINERS_README = resolve(ROOT, "packages/trainers/README.md");

interface TableFlags {
  profile: BenchProfile;
  seeds?: number;
  datasets?: string;
  out: string;
  workers: number;
  gradientWorkers?: number;
  queue?: string;
  dataDir?: string;
  readme?: boolean;
  strictCounts: boolean;
  maxSteps?: number;
  n1?: number;
  rho?: number;
  valPerClass?: number;
  prior?: ClassPrior;
}

function tableCommand(name: TableName, description: string): Command {
  return new Command(name)
    .description(description)
    .addOption(new Option("--profile <name>", "quick | full | paper").choices(BENCH_PROFILES).default("quick"))
    .option("--seeds <n>", "seeds per setting (profile default: quick 1, full 3)", positiveInt)
    .option("--datasets <list>", "comma-separated sources: fashion-mnist, mnist, cifar10, cifar100 (text table: wordnet-nouns, wordnet-nouns-lemmas)")
    .option("--out <dir>", "results folder", resolve(ROOT, "results"))
    .option("--workers <n>", "cores to use, split between job processes and gradient workers per job (printed; 0 = in this process)", nonNegativeInt, 2)
    .option("--gradient-workers <n>", "gradient worker threads per job instead of the split's choice (1 = none; job ids hash it: keep it when resuming with another --seeds)", positiveInt)
    .option("--queue <url>", "run the jobs on `bench worker` processes of this Redis instead: redis://HOST:PORT/DB")
    .option("--data-dir <dir>", "folder with the CIFAR files (else SELMIX_DATA_DIR)")
    .option("--no-strict-counts", "accept data files with fewer records than the official ones (subsets, smoke runs)")
    .option("--readme", "rewrite this table's marked section of apps/bench/README.md from the results")
    .addOption(new Option("--prior <p>", "class prior of every fine-tune's gain: uniform (profile default) | validation").choices(["uniform", "validation"]))
    .option("--max-steps <n>", "cap every pre-training and fine-tuning at n steps (smoke runs; results are new jobs)", positiveInt)
    .option("--n1 <n>", "labelled images of class 0 instead of the setting's (smoke runs on small files)", positiveInt)
    .option("--rho <x>", "labelled imbalance ratio instead of the setting's", positiveNumber)
    .option("--val-per-class <n>", "validation images per class instead of the setting's", positiveInt)
    .action(
      action(async (flags: TableFlags) => {
        const limits: TableLimits = {
          ...(flags.maxSteps === undefined ? {} : { maxSteps: flags.maxSteps }),
          ...(flags.n1 === undefined ? {} : { n1: flags.n1 }),
          ...(flags.rho === undefined ? {} : { rho: flags.rho }),
          ...(flags.valPerClass === undefined ? {} : { valPerClass: flags.valPerClass }),
          ...(flags.prior === undefined ? {} : { prior: flags.prior }),
        };
        const doc = await runTable({
          table: name,
          profile: flags.profile,
          ...(flags.seeds === undefined ? {} : { seeds: flags.seeds }),
          ...(flags.datasets === undefined ? {} : { sources: parseSources(flags.datasets) }),
          out: resolve(flags.out),
          workers: flags.workers,
          ...(flags.gradientWorkers === undefined ? {} : { gradientWorkers: flags.gradientWorkers }),
          ...(flags.queue === undefined ? {} : { queue: parseQueueUrl(flags.queue) }),
          ...(flags.dataDir === undefined ? {} : { dataDir: resolve(flags.dataDir) }),
          ...(flags.readme ? { readme: README } : {}),
          limits,
          strictCounts: flags.strictCounts,
          command: benchCommandLine(),
        });
        const { renderMarkdown } = await import("./markdown.ts");
        process.stdout.write(renderMarkdown(doc));
        if (doc.failed.length > 0) throw new SelmixError("INVALID_VALUE", `${doc.failed.length} job(s) failed; re-run to retry them`);
      }),
    );
}

/** The `bench` command line: `supervised`, `semi-supervised`, `ablations`, `speed`, `gain-fidelity`, `worker`. */
export function buildProgram(): Command {
  const program = new Command("bench")
    .description("SelMix paper tables (supervised, semi-supervised, ablations) and speed benchmarks on the data available here");
  program.addCommand(tableCommand("supervised", "ERM, LA and LA + fine-tuning (uniform mixup, class-balanced, SelMix per objective) on long-tailed data"));
  program.addCommand(tableCommand("semi-supervised", "FixMatch, FixMatch-LA and FixMatch-LA + SelMix per objective"));
  program.addCommand(tableCommand("ablations", "sampling policy, gain variant, temperature, learning rate, head-only vs full network"));
  program.addCommand(tableCommand("text", "the supervised protocol on text: WordNet noun glosses into their 26 categories (natural long tail), text-bag model"));
  program.addCommand(
    new Command("speed")
      .description("gain-matrix time for K = 10, 100, 1000; training throughput per model and backend; fine-tuning vs pre-training time")
      .addOption(new Option("--profile <name>", "quick | full | paper").choices(BENCH_PROFILES).default("full"))
      .option("--out <dir>", "results folder (reads <out>/<profile>/supervised.json when present)", resolve(ROOT, "results"))
      .option("--no-throughput", "skip the training throughput benchmark")
      .option("--no-data-parallel", "skip the data-parallel timings (CNN with 1 vs N gradient workers, FixMatch step)")
      .option("--throughput-args <args>", "arguments for packages/models bench, e.g. \"--backends wasm --models mlp\"")
      .option("--readme", "rewrite the speed section of apps/bench/README.md (and the data-parallel one of packages/trainers/README.md)")
      .action(
        action(async (flags: { profile: BenchProfile; out: string; throughput: boolean; dataParallel: boolean; throughputArgs?: string; readme?: boolean }) => {
          const md = await runSpeed({
            command: benchCommandLine(),
            profile: flags.profile,
            out: resolve(flags.out),
            throughputArgs: flags.throughputArgs?.split(/\s+/).filter(Boolean) ?? [],
            skipThroughput: !flags.throughput,
            skipDataParallel: !flags.dataParallel,
            log: (m) => console.error(m),
          });
          if (flags.readme) updateReadme(README, `speed:${flags.profile}`, md);
          const dataParallel = join(resolve(flags.out), flags.profile, "data-parallel.md");
          if (flags.readme && flags.dataParallel && existsSync(dataParallel)) updateReadme(TRAINERS_README, "data-parallel", readFileSync(dataParallel, "utf8"));
          process.stdout.write(md);
        }),
      ),
  );
  program.addCommand(
    new Command("gain-fidelity")
      .description("rank correlation (Spearman) of the gain G(i, j) with the realised change of the objective after fine-tuning on pair (i, j) only, per mixing mode")
      .requiredOption("--from <dir>", "a selmix pretrain run directory (best.ckpt, manifest.json): the model G is computed at")
      .addOption(new Option("--profile <name>", "the profile whose full-network fine-tuning settings are used").choices(BENCH_PROFILES).default("full"))
      .addOption(new Option("--objective <name>", "the objective of G and of the change").choices(OBJECTIVE_NAMES).default("mean-recall"))
      .option("--pairs <n>", "pairs, evenly spaced over the ranks of G", positiveInt, 10)
      .option("--steps <n>", "full-network steps on each pair (10: the measured table)", positiveInt, 10)
      .option("--modes <list>", "comma-separated mixing modes", MIXING_MODES.join(","))
      .option("--out <dir>", "results folder (writes <out>/<profile>/gain-fidelity-<objective>.json and .md)", resolve(ROOT, "results"))
      .option("--readme", "rewrite the gain-fidelity section of apps/bench/README.md")
      .action(
        action(async (flags: { from: string; profile: BenchProfile; objective: ObjectiveName; pairs: number; steps: number; modes: string; out: string; readme?: boolean }) => {
          const [{ runGainFidelity, parseModes }, { initBackend }] = await Promise.all([import("./gain-fidelity.ts"), import("@selmix/models")]);
          const modes = parseModes(flags.modes);
          await initBackend();
          const md = await runGainFidelity({
            from: resolve(flags.from),
            profile: flags.profile,
            objective: flags.objective,
            pairs: flags.pairs,
            steps: flags.steps,
            modes,
            out: join(resolve(flags.out), flags.profile),
            command: benchCommandLine(),
            log: (m) => console.error(m),
          });
          if (flags.readme) updateReadme(README, "gain-fidelity", md);
          process.stdout.write(md);
        }),
      ),
  );
  program.addCommand(workerCommand(action, resolve(ROOT, "results")));
  return program;
}
