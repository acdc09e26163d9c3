import { readFileSync } from "node:fs";
import { SelmixError } from "@selmix/core";
import { withOneLineErrors } from "@selmix/core/node";
import { InvalidArgumentError } from "commander";

/**
 * Runs a command body; any failure becomes one line `selmix: CODE: message` on stderr and exit code 1 (2 for a
 * `USAGE` error).
 */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return withOneLineErrors("selmix", body);
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
    throw new SelmixError("PARSE_ERROR", `${path}: not valid JSON (${jsonErrorText(error as Error, text)})`);
  }
}

/**
 * V8's JSON error without the quoted excerpt of the file (it may hold newlines and quotes, and a one-line error
 * would cut it), with "at position N" as a line and column.
 */
function jsonErrorText(error: Error, text: string): string {
  const message = error.message.replace(/, ".*is not valid JSON$/s, "").replace(/ in JSON at position \d+.*$/s, "");
  const at = /at position (\d+)/.exec(error.message);
  if (at === null) return message;
  const before = text.slice(0, Number(at[1]));
  const line = before.split("\n").length;
  return `${message} at line ${line}, column ${before.length - before.lastIndexOf("\n")}`;
}

/** Commander argument parser for a finite number (a bad value is a one-line `USAGE` error, exit code 2). */
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
