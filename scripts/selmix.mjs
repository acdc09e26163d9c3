// `pnpm -s selmix ...` from anywhere in the clone: pnpm runs root scripts in the repository root, so without this
// a relative path would resolve against the root instead of the directory the command was typed in.
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by pnpm for the script, never read by a turbo task
process.chdir(process.env.INIT_CWD ?? process.cwd());
await import("../apps/cli/dist/main.js");
