import type { Command } from "commander";
import { readJsonFile } from "./run.ts";

/** Flags that steer a command but are not part of a run's config (never read from a config file). */
const RUN_FLAGS = new Set(["out", "config", "json", "resume", "quick", "run", "checkpoint", "split"]);

/**
 * The config options actually given on the command line: commander's defaults (e.g. `selectBest: true` implied by
 * `--no-select-best`) are dropped, so they never override a `--config` file.
 */
export function givenOptions(command: Command): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(command.opts()).filter(([key, value]) => value !== undefined && !RUN_FLAGS.has(key) && command.getOptionValueSource(key) !== "default"),
  );
}

/** Seconds since `start` (a `performance.now()` value), one decimal. */
export function elapsedSeconds(start: number): string {
  return ((performance.now() - start) / 1000).toFixed(1);
}

/** The flags every run command shares (not part of the run's config). */
export interface RunFlags {
  readonly out: string;
  readonly config?: string;
  readonly json?: boolean;
  readonly resume: boolean;
}

/**
 * A command's options: the `--config` file first, then the flags given on the command line (flags win), both
 * validated by the same `parse` (whose errors name the key and, for the file, the file).
 */
export function mergedInput<T>(command: Command, configPath: string | undefined, parse: (value: unknown, origin: string | undefined) => T): T {
  const file = configPath === undefined ? {} : parse(readJsonFile(configPath), configPath);
  return { ...file, ...parse(givenOptions(command), undefined) };
}
