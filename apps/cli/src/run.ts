import { readFileSync } from "node:fs";
import { isSelmixError, SelmixError } from "@selmix/core";
import { InvalidArgumentError } from "commander";

/**
 * Runs a command body and turns any failure into one line on stderr and exit code 1: `selmix: CODE: message`.
 * Unexpected errors (bugs) print their message too, never a stack trace, unless SELMIX_DEBUG is set.
 */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      if (process.env.SELMIX_DEBUG) console.error(error);
      const code = isSelmixError(error) ? error.code : "INTERNAL_ERROR";
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`selmix: ${code}: ${message.split("\n")[0]}\n`);
      process.exitCode = 1;
    }
  };
}

/** Reads and parses a JSON file, with coded errors that name the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SelmixError("NOT_FOUND", `${path}: cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SelmixError("PARSE_ERROR", `${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** Commander argument parser for a finite number (commander prints the one-line error and exits 1). */
export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("not a finite number.");
  return n;
}

/** Commander argument parser for a non-negative integer. */
export function parseInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("not a non-negative integer.");
  return n;
}

/** Prints one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
