import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import { readJsonFile } from "../run.ts";
import { lockRunDir } from "./run-lock.ts";

/** The commands that own a run directory, each with the files it writes there. */
export const RUN_FILES = {
  pretrain: ["config.json", "manifest.json", "last.ckpt", "best.ckpt", "metrics.json"],
  finetune: ["config.json", "manifest.json", "last.ckpt", "best.ckpt", "diagnostics.jsonl", "metrics.json", "report.svg"],
  "finetune-head": ["config.json", "last-state.json", "diagnostics.jsonl", "head-weights.npy", "head-bias.npy", "metrics.json"],
} as const;

/** A command that writes a run directory. */
export type RunCommand = keyof typeof RUN_FILES;

/** What `writeFileAtomic` leaves behind when killed between write and rename: `<file>.<pid>.<hex>.tmp`. */
const TEMPORARY = /\.\d+\.[0-9a-f]{8}\.tmp$/;

/**
 * `--out ""` would write into the current directory.
 *
 * @throws `SelmixError` `USAGE` for an empty or blank `--out`.
 */
export function requireOutDir(out: string): void {
  if (out.trim() === "") throw new SelmixError("USAGE", `--out must name a directory, got ${JSON.stringify(out)}`);
}

/** The `command` recorded in DIR/config.json, if any. */
function recordedCommand(dir: string): unknown {
  const path = join(dir, "config.json");
  if (!existsSync(path)) return undefined;
  const config = readJsonFile(path);
  return typeof config === "object" && config !== null ? (config as Record<string, unknown>).command : undefined;
}

/**
 * Opens `out` for a command: checks the path, takes the directory's lock (two commands never write one directory),
 * removes temporary files a killed run left, refuses a directory that holds another command's run, and with
 * `resume` off deletes exactly the files the command owns (nothing else in the directory is touched). Returns the
 * function that releases the lock (it is also released on exit).
 *
 * @throws `SelmixError` `USAGE` for an empty `--out` or one equal to `--from`; `IO_ERROR` when `out` is a file;
 *   `LOCKED` when another command holds it; `MISMATCH` when it holds another command's run.
 */
export function openRunDir(out: string, resume: boolean, command: RunCommand, from?: string): () => void {
  requireOutDir(out);
  const dir = resolve(out);
  if (from !== undefined && resolve(from) === dir) {
    throw new SelmixError("USAGE", `--out ${out} is the --from directory: the run would overwrite its own start; use another --out`);
  }
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new SelmixError("IO_ERROR", `--out ${out} is a file, not a directory`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new SelmixError("IO_ERROR", `--out ${out}: cannot create the directory (${(error as NodeJS.ErrnoException).code})`);
  }
  const release = lockRunDir(dir, command);
  try {
    for (const name of readdirSync(dir)) if (TEMPORARY.test(name)) rmSync(join(dir, name), { force: true });
    const there = recordedCommand(dir);
    if (there !== undefined && there !== command) {
      throw new SelmixError("MISMATCH", `${out} holds a ${String(there)} run (config.json); a ${command} run needs another --out`);
    }
    if (!resume) for (const name of RUN_FILES[command]) rmSync(join(dir, name), { force: true });
  } catch (error) {
    release();
    throw error;
  }
  return release;
}

/** The post-hoc logit offsets of a run: written by `selmix posthoc`, applied by `selmix eval` when present. */
export const ADJUSTMENT_FILE = "adjustment.json";

/** Writes pretty JSON atomically (readers never see half a file, even if the run is killed). */
export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Checks that a run directory and the files a command needs from it exist.
 *
 * @throws `SelmixError` `NOT_FOUND` naming the directory or the first missing file.
 */
export function requireRunFiles(dir: string, files: readonly string[], what: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SelmixError("NOT_FOUND", `${what} ${dir} does not exist`);
  for (const file of files) {
    const path = join(dir, file);
    if (!existsSync(path)) throw new SelmixError("NOT_FOUND", `${path} does not exist (is ${dir} a finished ${what}?)`);
  }
}

/**
 * Before resuming into `dir`, checks that the config.json already there (if any) describes the same run: resuming
 * someone else's checkpoints would silently mix two experiments.
 *
 * @throws `SelmixError` `MISMATCH` naming the first key that differs.
 */
export function assertSameRun(dir: string, config: object): void {
  const path = join(dir, "config.json");
  if (!existsSync(path)) return;
  const previous = readJsonFile(path);
  const before = (typeof previous === "object" && previous !== null ? previous : {}) as Record<string, unknown>;
  const now = config as Record<string, unknown>;
  for (const key of new Set([...Object.keys(before), ...Object.keys(now)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(now[key])) {
      throw new SelmixError(
        "MISMATCH",
        `${dir} holds another run (${key}: ${JSON.stringify(before[key])} there, ${JSON.stringify(now[key])} now); use another --out or --no-resume`,
      );
    }
  }
}
