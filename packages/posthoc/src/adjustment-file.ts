import { SelmixError } from "@selmix/core";
import type { LogitOffsets } from "./fit.ts";

/** The `format` tag of an adjustment file. */
export const ADJUSTMENT_FORMAT = "selmix-posthoc-adjustment";

/**
 * An adjustment as the text of a JSON file (the CLI's `adjustment.json`): format tag, version, kind, objective,
 * offsets and the fit's ψ before and after. {@link parseAdjustment} reads it back exactly.
 *
 * @example
 * {@includeCode ./examples.test.ts#adjustmentJson}
 */
export function adjustmentJson(adjustment: LogitOffsets): string {
  const { kind, objective, offsets, fit, iterations } = adjustment;
  return `${JSON.stringify({ format: ADJUSTMENT_FORMAT, version: 1, kind, objective, offsets: Array.from(offsets), fit, iterations }, null, 2)}\n`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads an adjustment written by {@link adjustmentJson}.
 *
 * @param text - The file's content.
 * @param origin - Names the file in error messages.
 * @param numClasses - When given, the number of offsets the model needs.
 * @throws `SelmixError` `PARSE_ERROR` for text that is not JSON; `CORRUPT_FILE` for another format or a missing
 *   or non-finite field; `MISMATCH` when the offsets are not `numClasses`.
 * @example
 * {@includeCode ./examples.test.ts#parseAdjustment}
 */
export function parseAdjustment(text: string, origin: string, numClasses?: number): LogitOffsets {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SelmixError("PARSE_ERROR", `${origin} is not valid JSON: ${(error as Error).message}`);
  }
  const bad = (what: string): SelmixError => new SelmixError("CORRUPT_FILE", `${origin}: ${what}`);
  if (!isRecord(value) || value.format !== ADJUSTMENT_FORMAT) throw bad(`not a post-hoc adjustment (format must be "${ADJUSTMENT_FORMAT}")`);
  if (value.version !== 1) throw bad(`unsupported version ${JSON.stringify(value.version)} (expected 1)`);
  if (value.kind !== "logit-offsets") throw bad(`kind must be "logit-offsets", got ${JSON.stringify(value.kind)}`);
  if (typeof value.objective !== "string") throw bad("objective must be a string");
  const offsets = value.offsets;
  if (!Array.isArray(offsets) || offsets.length < 2 || !offsets.every((o) => typeof o === "number" && Number.isFinite(o))) {
    throw bad("offsets must be an array of at least 2 finite numbers");
  }
  if (numClasses !== undefined && offsets.length !== numClasses) {
    throw new SelmixError("MISMATCH", `${origin} has ${offsets.length} offsets but the model has ${numClasses} classes`);
  }
  const fit = value.fit;
  if (!isRecord(fit) || typeof fit.before !== "number" || typeof fit.after !== "number" || typeof fit.samples !== "number") {
    throw bad("fit must hold numbers before, after and samples");
  }
  const iterations = typeof value.iterations === "number" ? value.iterations : 0;
  return {
    kind: "logit-offsets",
    objective: value.objective,
    offsets: Float64Array.from(offsets as number[]),
    fit: { before: fit.before, after: fit.after, samples: fit.samples },
    iterations,
  };
}
