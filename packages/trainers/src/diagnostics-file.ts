import { existsSync, readFileSync } from "node:fs";
import { SelmixError } from "@selmix/core";
import type { RefreshDiagnostics } from "./refresh.ts";

/**
 * The diagnostics of a resumed run's refreshes before `step`, read back from its JSON-lines file (missing file: none).
 *
 * @throws `SelmixError` `CORRUPT_FILE` naming the file and the line that is not a JSON object.
 */
export function readDiagnosticsBefore(path: string, step: number): RefreshDiagnostics[] {
  if (!existsSync(path)) return [];
  const out: RefreshDiagnostics[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        entry = undefined;
      }
      if (entry === null || typeof entry !== "object" || typeof (entry as { step?: unknown }).step !== "number") {
        throw new SelmixError("CORRUPT_FILE", `${path}: line ${i + 1} is not a diagnostics entry (JSON object with a step); start over with --no-resume`);
      }
      if ((entry as RefreshDiagnostics).step < step) out.push(entry as RefreshDiagnostics);
    });
  return out;
}
