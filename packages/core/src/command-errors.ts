import { isSelmixError } from "./errors.ts";

/**
 * Wraps a command-line action so that any failure becomes one line on stderr, `<program>: CODE: message`, and exit
 * code 1: no stack trace (set SELMIX_DEBUG to see one). Errors that are not a `SelmixError` (bugs) are
 * `INTERNAL_ERROR`.
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
      if (process.env.SELMIX_DEBUG) console.error(error);
      const code = isSelmixError(error) ? error.code : "INTERNAL_ERROR";
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${program}: ${code}: ${message.split("\n")[0]}\n`);
      process.exitCode = 1;
    }
  };
}
