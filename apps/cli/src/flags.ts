import type { Command } from "commander";

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
