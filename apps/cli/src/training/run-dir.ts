import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import { readJsonFile } from "../run.ts";

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
