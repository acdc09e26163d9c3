import { readFileSync } from "node:fs";
import { SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";

/**
 * Replaces the text between `<!-- bench:<key>:start -->` and `<!-- bench:<key>:end -->` in `path` with `body`.
 * The markers must already be in the file, so the README's layout stays hand-written and only the numbers are
 * generated.
 *
 * @throws `SelmixError` `NOT_FOUND` when the file or its markers are missing.
 */
export function updateReadme(path: string, key: string, body: string): void {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new SelmixError("NOT_FOUND", `${path}: cannot read the README`);
  }
  const start = `<!-- bench:${key}:start -->`;
  const end = `<!-- bench:${key}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new SelmixError("NOT_FOUND", `${path}: markers ${start} … ${end} are missing`);
  writeFileAtomic(path, `${text.slice(0, i + start.length)}\n${body.trimEnd()}\n${text.slice(j)}`);
}
