import { Command } from "commander";

type Register = (program: Command) => void;

/** The exit codes of every command (shown after the top-level help and in the CLI reference). */
export const EXIT_CODES = [
  "Exit codes: 0 ok; 1 runtime error (bad input file, missing run, ...), one line `selmix: CODE: message` on stderr",
  "naming the file or argument; 2 usage error (unknown command or option, missing or malformed flag), one line",
  "`selmix: USAGE: message`.",
].join("\n");

// Commands load on demand: `selmix metrics` must not pay for importing tfjs, which only training commands need.
const COMMANDS: Record<string, () => Promise<Register>> = {
  metrics: async () => (await import("./commands/metrics.ts")).registerMetricsCommand,
  gain: async () => (await import("./commands/gain.ts")).registerGainCommand,
  datasets: async () => (await import("./commands/datasets.ts")).registerDatasetsCommand,
  pretrain: async () => (await import("./commands/pretrain.ts")).registerPretrainCommand,
  finetune: async () => (await import("./commands/finetune.ts")).registerFinetuneCommand,
  "finetune-head": async () => (await import("./commands/finetune-head.ts")).registerFinetuneHeadCommand,
  posthoc: async () => (await import("./commands/posthoc.ts")).registerPosthocCommand,
  eval: async () => (await import("./commands/eval.ts")).registerEvalCommand,
  demo: async () => (await import("./commands/demo.ts")).registerDemoCommand,
};

/**
 * Builds the `selmix` program; each command lives in its own file under commands/. Given the arguments, only the
 * command they name is loaded (all of them for the top-level help or an unknown command).
 */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command("selmix")
    .description("SelMix: selective mixup fine-tuning for non-decomposable objectives")
    .version("0.0.0")
    .addHelpText("after", `\n${EXIT_CODES}`);
  const named = args[0];
  const wanted = named !== undefined && named in COMMANDS ? [named] : Object.keys(COMMANDS);
  for (const name of wanted) (await COMMANDS[name]!())(program);
  return program;
}
