import { readFileSync } from "node:fs";
import { SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import type { HeadSnapshot } from "./head-learner.ts";
import type { LoopState } from "./finetune-loop.ts";
import type { RunIdentity } from "./run-identity.ts";

/** What a feature-array run saves at every refresh to resume with identical numbers. */
export interface HeadRunState {
  /** Who wrote it. */
  readonly run: RunIdentity;
  /** The loop's counters, RNG and multipliers. */
  readonly loop: LoopState;
  /** The head being trained (float64, exact). */
  readonly head: HeadSnapshot;
  /** The best head so far, when one was kept. */
  readonly best: HeadSnapshot | null;
}

const FORMAT = "selmix-head-state";

// Float64 values as base64 of their little-endian bytes: exact, unlike JSON numbers (which lose -0).
const encode = (a: Float64Array): string => Buffer.from(Float64Array.from(a).buffer).toString("base64");
function decode(text: unknown, length: number, path: string, what: string): Float64Array {
  const bytes = typeof text === "string" ? Buffer.from(text, "base64") : Buffer.alloc(0);
  if (bytes.length !== length * 8) throw new SelmixError("CORRUPT_FILE", `${path}: ${what} does not hold ${length} float64 values`);
  return new Float64Array(Uint8Array.from(bytes).buffer);
}

/** Writes the state atomically (a kill leaves the previous state or the new one). */
export function writeHeadState(path: string, state: HeadRunState): void {
  const snapshot = (h: HeadSnapshot): { weight: string; bias: string } => ({ weight: encode(h.weight), bias: encode(h.bias) });
  const json = { format: FORMAT, version: 1, run: state.run, loop: state.loop, head: snapshot(state.head), best: state.best && snapshot(state.best) };
  writeFileAtomic(path, `${JSON.stringify(json)}\n`);
}

/**
 * Reads a state written by {@link writeHeadState} for a head of `numClasses` × `dim`.
 *
 * @throws `SelmixError` `CORRUPT_FILE` naming the file when it is not such a state.
 */
export function readHeadState(path: string, numClasses: number, dim: number): Omit<HeadRunState, "run"> & { readonly run: unknown } {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new SelmixError("CORRUPT_FILE", `${path}: not a readable head state (${(error as Error).message.split(",")[0]}); start over with --no-resume`);
  }
  if (json?.format !== FORMAT || typeof json.loop !== "object" || json.loop === null) {
    throw new SelmixError("CORRUPT_FILE", `${path}: not a ${FORMAT} file; start over with --no-resume`);
  }
  const snapshot = (h: unknown, what: string): HeadSnapshot => {
    const s = (h ?? {}) as { weight?: unknown; bias?: unknown };
    return { weight: decode(s.weight, numClasses * dim, path, `${what}.weight`), bias: decode(s.bias, numClasses, path, `${what}.bias`) };
  };
  const loop = json.loop as LoopState;
  return {
    run: json.run,
    loop: { ...loop, bestValue: loop.bestValue ?? Number.NEGATIVE_INFINITY }, // JSON wrote -Infinity as null
    head: snapshot(json.head, "head"),
    best: json.best === null || json.best === undefined ? null : snapshot(json.best, "best"),
  };
}
