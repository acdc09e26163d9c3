// `pnpm test`: every check, in order, stopping at the first failure; ends with one "N passed, N failed" line.
// Colour codes only on a terminal: vitest colours unless NO_COLOR is set, even in a pipe or a CI log.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
if (!process.stdout.isTTY && env.FORCE_COLOR === undefined) env.NO_COLOR = "1";
const steps = [
  ["turbo", "run", "typecheck", "lint", "check-exports", "test", "--concurrency=2"],
  ["typedoc", "--logLevel", "Warn"],
  ["node", "scripts/check-packages.mjs"],
  ["node", "scripts/check-doc-commands.mjs"],
  ["node", "scripts/test-summary.mjs"],
];
for (const [command, ...args] of steps) {
  const { status, error } = spawnSync(command, args, { stdio: "inherit", env });
  if (error !== undefined) throw error;
  if (status !== 0) process.exit(status ?? 1);
}
