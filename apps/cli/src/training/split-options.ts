import type { Command } from "commander";
import { parseInteger, parseNumber } from "../run.ts";

/** The split flags as commander parses them (`--n1` ... `--balanced-test`). */
export interface SplitFlags {
  n1?: number;
  rho?: number;
  rhoL?: number;
  m1?: number;
  rhoU?: number;
  valPerClass?: number;
  balancedTest?: boolean;
}

/** Adds the long-tailed split's size flags, shared by `selmix datasets build` and `selmix pretrain`. */
export function withSplitOptions(command: Command): Command {
  return command
    .option("--n1 <n>", "labelled images of class 0, the largest (default: from --profile)", parseInteger)
    .option("--rho <x>", "labelled imbalance ratio: class 0 count / last class count (alias of --rho-l; default: from --profile)", parseNumber)
    .option("--rho-l <x>", "labelled imbalance ratio (default: from --profile)", parseNumber)
    .option("--m1 <n>", "unlabelled images of class 0 (semi-supervised, cifar100; default: from --profile)", parseInteger)
    .option("--rho-u <x>", "unlabelled imbalance ratio: 100, 1 (uniform), 0.01 (inverted) (default: from --profile)", parseNumber)
    .option("--val-per-class <n>", "balanced validation images per class (default: from --profile)", parseInteger)
    .option("--balanced-test", "subsample the test split to the smallest class");
}
