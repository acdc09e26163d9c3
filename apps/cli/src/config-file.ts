import { SelmixError } from "@selmix/core";
import type { z } from "zod";

/** `batchSize` → `--batch-size`: config keys and flags share their names. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The value at `path` of the validated input, for the message. */
function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[key] : undefined), value);
}

/** zod's wording for humans: `must be one of a, b, c (got "x")` rather than `expected one of "a"|"b"|"c"`. */
function issueText(issue: z.core.$ZodIssue, value: unknown): string {
  const got = `(got ${JSON.stringify(valueAt(value, issue.path))})`;
  if (issue.code === "invalid_value") {
    const values = issue.values.map(String);
    return values.length === 1 ? `must be ${values[0]} ${got}` : `must be one of ${values.join(", ")} ${got}`;
  }
  if (issue.code === "invalid_type") return `must be ${issue.expected === "int" ? "an integer" : `a ${issue.expected}`} ${got}`;
  if (issue.code === "too_small" && issue.origin === "string") return `must not be empty ${got}`;
  if (issue.code === "too_small" || issue.code === "too_big") {
    const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
    const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
    return `must be ${op} ${String(bound)} ${got}`;
  }
  return issue.message;
}

function describeIssue(issue: z.core.$ZodIssue, asFlag: boolean, value: unknown): string {
  if (issue.code === "unrecognized_keys") return `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
  const key = issue.path.map(String).join(".");
  if (key === "") return issue.message;
  return `${asFlag && issue.path.length === 1 ? flagName(key) : key}: ${issueText(issue, value)}`;
}

/**
 * Validates options with a zod schema and throws one coded line naming the first bad key.
 *
 * @param origin - the config file (its keys are named as written) or `undefined` for command-line flags (named
 *   `--flag`).
 * @throws `SelmixError` `INVALID_ARGUMENT` for an unknown key, a wrong type or an out-of-range value in a file;
 *   `USAGE` (exit code 2) for a bad flag.
 */
export function validateOptions<S extends z.ZodType>(schema: S, value: unknown, origin: string | undefined): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = origin === undefined ? "" : `${origin}: `;
  throw new SelmixError(origin === undefined ? "USAGE" : "INVALID_ARGUMENT", `${where}${describeIssue(issue, origin === undefined, value)}`);
}
