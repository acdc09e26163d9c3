import { Command } from "commander";
import { registerDatasetsCommand } from "./commands/datasets.ts";
import { registerDemoCommand } from "./commands/demo.ts";
import { registerEvalCommand } from "./commands/eval.ts";
import { registerFinetuneCommand } from "./commands/finetune.ts";
import { registerGainCommand } from "./commands/gain.ts";
import { registerMetricsCommand } from "./commands/metrics.ts";
import { registerPretrainCommand } from "./commands/pretrain.ts";

/** Builds the `selmix` program; each command lives in its own file under commands/. */
export function buildProgram(): Command {
  const program = new Command("selmix")
    .description("SelMix: selective mixup fine-tuning for non-decomposable objectives")
    .version("0.0.0")
    .showHelpAfterError("(run with --help for usage)");
  registerMetricsCommand(program);
  registerGainCommand(program);
  registerDatasetsCommand(program);
  registerPretrainCommand(program);
  registerFinetuneCommand(program);
  registerEvalCommand(program);
  registerDemoCommand(program);
  return program;
}
