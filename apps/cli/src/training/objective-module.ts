import { existsSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { SelmixError } from "@selmix/core";
import { type Objective, pluginObjective } from "@selmix/metrics";

/**
 * Loads a plug-in objective from a JavaScript module that exports `psi(confusion)` (named, or as the default
 * export) and optionally `name`. `confusion` is `{ numClasses, values }`, the joint matrix row-major (rows = true
 * class, entries sum to 1); larger ψ is better. The derivative is computed numerically by `pluginObjective`.
 *
 * The module runs with the user's privileges, like any npm dependency: load only code you trust.
 *
 * @throws SelmixError `NOT_FOUND` when the file is missing; `PARSE_ERROR` when it cannot be imported;
 *   `INVALID_ARGUMENT` when it exports no psi function. Later, while training, `INVALID_VALUE` naming the module
 *   when psi throws or returns something other than a finite number.
 */
export async function loadObjectiveModule(path: string): Promise<Objective> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new SelmixError("NOT_FOUND", `objective module ${path} does not exist`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    throw new SelmixError("PARSE_ERROR", `objective module ${path} cannot be loaded: ${(error as Error).message.split("\n")[0]}`);
  }
  const fallback = mod.default as { psi?: unknown } | ((...args: unknown[]) => unknown) | undefined;
  const psi = mod.psi ?? (typeof fallback === "function" ? fallback : fallback?.psi);
  if (typeof psi !== "function") {
    throw new SelmixError("INVALID_ARGUMENT", `objective module ${path} must export a function psi(confusion) (named export "psi" or default)`);
  }
  const name = typeof mod.name === "string" && mod.name !== "" ? mod.name : basename(path, extname(path));
  const user = psi as (cm: { numClasses: number; values: Float64Array }) => number;
  // The module is the user's code: its failures name it, not the trainer that called it.
  const guarded = (cm: { numClasses: number; values: Float64Array }): number => {
    let value: unknown;
    try {
      value = user(cm);
    } catch (error) {
      throw new SelmixError("INVALID_VALUE", `objective module ${path}: psi threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new SelmixError("INVALID_VALUE", `objective module ${path}: psi returned ${typeof value === "number" ? value : typeof value}, not a finite number`);
    }
    return value;
  };
  return pluginObjective({ name, psi: guarded });
}
