/**
 * Every failure a caller may want to branch on. Add members; never rename one.
 *
 * - `INVALID_SHAPE`: an array or matrix has the wrong dimensions.
 * - `INVALID_VALUE`: a number is NaN, infinite, negative or out of its range.
 * - `INVALID_ARGUMENT`: an option or name is not one of the accepted ones.
 * - `EMPTY_CLASS`: a class has no samples where at least one is needed.
 * - `PARSE_ERROR`: a file or string could not be parsed.
 * - `CORRUPT_FILE`: a file is truncated or its content contradicts its header.
 * - `NOT_FOUND`: a file, dataset or checkpoint does not exist.
 * - `CHECKSUM_MISMATCH`: decoded content differs from the known SHA-256.
 * - `BACKEND_UNAVAILABLE`: the requested tfjs backend cannot be initialised.
 * - `MISMATCH`: two artefacts that must agree (checkpoint vs model, manifest vs data) do not.
 * - `USAGE`: the command line itself is wrong (unknown command or option, missing or malformed flag); exit code 2.
 * - `LOCKED`: a run directory is in use by another running command.
 * - `IO_ERROR`: a file or folder cannot be read or written (a file where a folder is needed, permissions, disk full).
 */
export type SelmixErrorCode =
  | "INVALID_SHAPE"
  | "INVALID_VALUE"
  | "INVALID_ARGUMENT"
  | "EMPTY_CLASS"
  | "PARSE_ERROR"
  | "CORRUPT_FILE"
  | "NOT_FOUND"
  | "CHECKSUM_MISMATCH"
  | "BACKEND_UNAVAILABLE"
  | "MISMATCH"
  | "USAGE"
  | "LOCKED"
  | "IO_ERROR";

/**
 * The one error class of @selmix. Branch on {@link SelmixError.code}; the message is for humans and names the
 * offending argument or file first.
 *
 * @example
 * {@includeCode ./examples.test.ts#SelmixError}
 */
export class SelmixError extends Error {
  /** Always `"SelmixError"`. */
  override readonly name = "SelmixError";
  /** Machine-readable reason. */
  readonly code: SelmixErrorCode;

  /**
   * @param code - Machine-readable reason.
   * @param message - For humans; names the offending argument or file first.
   * @param options - Standard `Error` options, e.g. `cause` (spelled out rather than `ErrorOptions`, which a
   *   consumer compiling for a target before ES2022 does not have).
   */
  constructor(code: SelmixErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * True when `value` is a `SelmixError`, optionally with the given `code`.
 *
 * @example
 * {@includeCode ./examples.test.ts#isSelmixError}
 */
export function isSelmixError(value: unknown, code?: SelmixErrorCode): value is SelmixError {
  return value instanceof SelmixError && (code === undefined || value.code === code);
}
