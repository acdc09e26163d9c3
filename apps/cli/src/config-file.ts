import { SelmixError } from "@selmix/core";
import type { z } from "zod";

/** `batchSize` → `--batch-size`: config keys and flags share their names. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function describeIssue(issue: z.core.$ZodIssue, asFlag: boolean): string {
  if (issue.code === "unrecognized_keys") return `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
  const key = issue.path.map(String).join(".");
  if (key === "") return issue.message;
  return `${asFlag && issue.path.length === 1 ? flagName(key) : key}: ${issue.message}`;
}

/**
 * Validates options with a zod schema and throws one coded line naming the first bad key.
 *
 * @param origin - the config file (its keys are named as written) or `undefined` for command-line flags (named
 *   `--flag`).
 * @throws `SelmixError` `INVALID_ARGUMENT` for an unknown key, a wrong type or an out-of-range value.
 */
export function validateOptions<S extends z.ZodType>(schema: S, value: unknown, origin: string | undefined): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = origin === undefined ? "" : `${origin}: `;
  throw new SelmixError("INVALID_ARGUMENT", `${where}${describeIssue(issue, origin === undefined)}`);
}
