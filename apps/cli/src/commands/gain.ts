import { SelmixError } from "@selmix/core";
import { effectivePairs, gainMatrix, samplingDistribution, topPairs } from "@selmix/gain";
import { createObjective, fromValues, isObjectiveName, OBJECTIVE_NAMES } from "@selmix/metrics";
import type { Command } from "commander";
import { parseMatrix, parseVector, toRowArrays } from "../matrix-json.ts";
import { action, parseNumber, printJson, readJsonFile } from "../run.ts";
import { formatTable } from "../table.ts";
import { type ObjectiveFlags, objectiveOptionsFrom, withObjectiveOptions } from "../training/selmix-options.ts";

interface GainCliOptions extends ObjectiveFlags {
  readonly state: string;
  readonly objective: string;
  readonly temperature: number;
  readonly lambdaMin: number;
  readonly targetTerm: string;
  readonly prior: string;
  readonly scale: string;
  readonly top: number;
  readonly json?: boolean;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new SelmixError("INVALID_ARGUMENT", `${name} must be one of ${allowed.join(", ")}, got "${value}"`);
  }
  return value as T;
}

/** `selmix gain`: the gain matrix and sampling distribution of a saved validation state. */
export function registerGainCommand(program: Command): void {
  const gain = program
    .command("gain")
    .description(
      'gain matrix and pair-sampling distribution from a JSON state {"confusion": KxK, "prototypes": Kxd, "head": {"weights": Kxd, "bias": K}, "multipliers"?: K}',
    )
    .requiredOption("--state <file>", "(required) JSON state file, e.g. apps/cli/examples/state.json")
    .requiredOption("--objective <name>", `(required) one of ${OBJECTIVE_NAMES.join(", ")}`)
    .option("--temperature <t>", "softmax temperature T of the sampling distribution", parseNumber, 0.1)
    .option("--lambda-min <l>", "mixup lambda ~ U(l, 1); the gain uses its mean", parseNumber, 0.6);
  withObjectiveOptions(gain)
    .option("--target-term <t>", "reference (z_i.z_q) | exact (mixed prototype)", "reference")
    .option("--prior <p>", "uniform (1/prior = K, as the reference) | validation (row sums)", "uniform")
    .option("--scale <s>", "absolute (G/T) | spread (G/(T*std G), scale-free)", "absolute")
    .option("--top <n>", "pairs to list in the summary", parseNumber, 10)
    .option("--json", 'print one JSON object {"gain", "distribution", "multipliers"}')
    .action(
      action((options: GainCliOptions) => {
        if (!isObjectiveName(options.objective)) {
          throw new SelmixError("USAGE", `--objective must be one of ${OBJECTIVE_NAMES.join(", ")} (got ${JSON.stringify(options.objective)})`);
        }
        const state = readJsonFile(options.state);
        if (typeof state !== "object" || state === null || Array.isArray(state)) {
          throw new SelmixError("INVALID_SHAPE", `${options.state}: must hold a JSON object with confusion, prototypes and head`);
        }
        const s = state as Record<string, unknown>;
        const confusion = parseMatrix(s.confusion, "confusion");
        const k = confusion.rows;
        if (confusion.cols !== k) throw new SelmixError("INVALID_SHAPE", `confusion must be K x K, got ${k} x ${confusion.cols}`);
        const cm = fromValues(k, confusion.data, "confusion");
        const prototypes = parseMatrix(s.prototypes, "prototypes", k);
        const head = s.head as Record<string, unknown> | undefined;
        if (typeof head !== "object" || head === null) throw new SelmixError("INVALID_SHAPE", "head must be an object with weights and bias");
        const weights = parseMatrix(head.weights, "head.weights", k, prototypes.cols);
        const bias = parseVector(head.bias, "head.bias", k);
        const multipliers = s.multipliers === undefined || s.multipliers === null ? null : parseVector(s.multipliers, "multipliers", k);
        const objective = createObjective(options.objective, objectiveOptionsFrom(options));
        const result = gainMatrix(
          { confusion: cm, prototypes: prototypes.data, weights: weights.data, bias, dim: prototypes.cols, objective, state: { multipliers } },
          {
            lambdaMin: options.lambdaMin,
            targetTerm: oneOf("--target-term", options.targetTerm, ["reference", "exact"]),
            prior: oneOf("--prior", options.prior, ["uniform", "validation"]),
          },
        );
        const distribution = samplingDistribution(result.gain, {
          temperature: options.temperature,
          scale: oneOf("--scale", options.scale, ["absolute", "spread"]),
        });
        const outMultipliers = result.linearization.state.multipliers;
        if (options.json) {
          printJson({
            gain: toRowArrays(result.gain, k),
            distribution: toRowArrays(distribution, k),
            multipliers: outMultipliers === null ? null : Array.from(outMultipliers),
          });
          return;
        }
        const top = topPairs(result.gain, k, Math.max(1, Math.floor(options.top)));
        process.stdout.write(
          `objective ${objective.name}, K = ${k}, d = ${prototypes.cols}, objective value ${objective.value(cm).toFixed(4)}\n` +
            `effective number of pairs ${effectivePairs(distribution).toFixed(1)} of ${k * k}` +
            (result.fallbackEntries > 0 ? `, ${result.fallbackEntries} entries by the streaming fallback` : "") +
            "\n\n" +
            formatTable(
              ["pair (i <- j)", "gain", "probability"],
              top.map(({ i, j, value }) => [`${i} <- ${j}`, value.toExponential(3), distribution[i * k + j]!.toExponential(3)]),
            ),
        );
        if (outMultipliers !== null) process.stdout.write(`\n${describeMultipliers(outMultipliers)}\n`);
      }),
    );
}

/** All multipliers for small K; the largest few with their classes otherwise (the full vector is in --json). */
function describeMultipliers(m: Float64Array): string {
  if (m.length <= 20) return `multipliers: ${Array.from(m, (v) => v.toFixed(3)).join(" ")}`;
  const largest = topPairs(m, m.length, 5).map(({ j, value }) => `class ${j}: ${value.toFixed(3)}`);
  return `multipliers (largest 5 of ${m.length}; --json prints all): ${largest.join(", ")}`;
}
