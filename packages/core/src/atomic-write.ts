import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { SelmixError } from "./errors.ts";

/** Why a write failed, in words (a file where a folder is needed is the usual surprise). */
function reason(error: NodeJS.ErrnoException, path: string): string {
  if (error.code === "ENOTDIR" || error.code === "EEXIST") return `a file stands where a folder of ${path} is needed`;
  if (error.code === "EISDIR") return `${path} is a folder`;
  return error.code ?? error.message;
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one, never a part:
 * a temporary file beside it (`<path>.<pid>.<random>.tmp`), fsync'd, then renamed over the target. Parent
 * folders are created.
 *
 * @throws `SelmixError` `IO_ERROR` naming `path` when it cannot be written.
 * @example
 * {@includeCode ./examples.test.ts#writeFileAtomic}
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data, { flush: true });
    renameSync(tmp, path);
  } catch (error) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the temporary file could not even be created there
    }
    throw new SelmixError("IO_ERROR", `${path}: cannot write (${reason(error as NodeJS.ErrnoException, path)})`, { cause: error });
  }
}
