import { isSelmixError } from "./errors.ts";

/** Exit code of a failure: 2 for a `USAGE` error (the command line is wrong), 1 for everything else. */
function exitCodeOf(error: unknown): number {
  return isSelmixError(error, "USAGE") ? 2 : 1;
}

/**
 * Prints `error` as one line `<program>: CODE: message` on stderr (newlines in the message become spaces, so
 * nothing is cut) and sets the exit code: 2 for `USAGE`, 1 otherwise. Errors that are not a `SelmixError` (bugs)
 * are `INTERNAL_ERROR`. Set SELMIX_DEBUG to see the stack.
 *
 * @example
 * {@includeCode ./examples.test.ts#reportError}
 */
export function reportError(program: string, error: unknown): void {
  if (process.env.SELMIX_DEBUG) console.error(error);
  const code = isSelmixError(error) ? error.code : "INTERNAL_ERROR";
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${program}: ${code}: ${message.replace(/\s*\n\s*/g, " ").trim()}\n`);
  process.exitCode = exitCodeOf(error);
}

/**
 * Wraps a command-line action so that any failure becomes one line on stderr, `<program>: CODE: message`, and exit
 * code 1 (2 for `USAGE`): no stack trace (set SELMIX_DEBUG to see one). Errors that are not a `SelmixError`
 * (bugs) are `INTERNAL_ERROR`.
 *
 * @example
 * {@includeCode ./examples.test.ts#withOneLineErrors}
 */
export function withOneLineErrors<A extends unknown[]>(
  program: string,
  body: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      reportError(program, error);
    }
  };
}
