// `pnpm test`: turbo's typecheck, lint, check-exports and test of every package; then the API site and the
// packed-package checks side by side (two cores); then the documented commands (after the packing: they run turbo,
// which may rewrite dist/); then one "N passed, N failed" line.
// Colour codes only on a terminal: vitest colours unless NO_COLOR is set, even in a pipe or a CI log.
import { spawn, spawnSync } from "node:child_process";

const env = { ...process.env };
if (!process.stdout.isTTY && env.FORCE_COLOR === undefined) env.NO_COLOR = "1";

const turbo = spawnSync("turbo", ["run", "typecheck", "lint", "check-exports", "test", "--concurrency=2"], { stdio: "inherit", env });
if (turbo.error !== undefined) throw turbo.error;
if (turbo.status !== 0) process.exit(turbo.status ?? 1);

/** Runs a command with its output collected, so parallel steps print one after the other. */
function collect(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ label: [command, ...args].join(" "), code, output }));
  });
}
const results = await Promise.all([collect("typedoc", ["--logLevel", "Warn"]), collect("node", ["scripts/check-packages.mjs"])]);
for (const { label, code, output } of results) {
  process.stdout.write(`\n> ${label}${code === 0 ? "" : ` (exit ${code})`}\n${output}`);
}
if (results.some((r) => r.code !== 0)) process.exit(1);

const commands = spawnSync("node", ["scripts/check-doc-commands.mjs"], { stdio: "inherit", env });
if (commands.status !== 0) process.exit(commands.status ?? 1);

const summary = spawnSync("node", ["scripts/test-summary.mjs"], { stdio: "inherit", env });
process.exit(summary.status ?? 1);
