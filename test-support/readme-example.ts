import { readFileSync } from "node:fs";
import { expect } from "vitest";

/** The HTML comment that marks a README's tested example; the fenced block must follow on the next line. */
export const README_MARKER = "<!-- tested in src/package-readme.test.ts -->";

/** Strips leading and trailing blank lines and the indentation common to every non-blank line. */
export function dedent(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  while (lines.length > 0 && lines[0]!.trim() === "") lines.shift();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(cut).trimEnd()).join("\n");
}

/** The fenced block of `lang` right after the marker comment in `readme` (exactly one marker allowed). */
export function readmeBlock(readme: string, lang = "ts"): string {
  const lines = readme.replace(/\r\n/g, "\n").split("\n");
  const markers = lines.flatMap((l, i) => (l.trim() === README_MARKER ? [i] : []));
  if (markers.length !== 1) throw new Error(`README: expected one "${README_MARKER}", found ${markers.length}`);
  const start = markers[0]! + 1;
  if (lines[start]?.trim() !== `\`\`\`${lang}`) throw new Error(`README: the marker must be followed by a \`\`\`${lang} block`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === "```");
  if (end < 0) throw new Error("README: the tested block is not closed");
  return dedent(lines.slice(start + 1, end).join("\n"));
}

/**
 * The text of every `//#region readme` ... `//#endregion readme` of a test file, each dedented on its own, joined
 * by one blank line (so imports can sit in a top-level region and the code in a region inside the test).
 */
export function regionText(source: string): string {
  const regions: string[] = [];
  let current: string[] | undefined;
  for (const line of source.replace(/\r\n/g, "\n").split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "//#region readme") {
      if (current) throw new Error("package-readme.test.ts: nested //#region readme");
      current = [];
    } else if (trimmed === "//#endregion readme") {
      if (!current) throw new Error("package-readme.test.ts: //#endregion readme without //#region readme");
      regions.push(dedent(current.join("\n")));
      current = undefined;
    } else current?.push(line);
  }
  if (current) throw new Error("package-readme.test.ts: //#region readme is not closed");
  if (regions.length === 0) throw new Error("package-readme.test.ts: no //#region readme");
  return regions.join("\n\n");
}

/** The first line of the README's first fenced block, which must be a ```sh block (the install line). */
export function installLine(readme: string): string {
  const lines = readme.replace(/\r\n/g, "\n").split("\n");
  const start = lines.findIndex((l) => l.startsWith("```"));
  if (start < 0 || lines[start]!.trim() !== "```sh") throw new Error("README: the first code block must be a ```sh install block");
  return (lines[start + 1] ?? "").trim();
}

/** Where to read the expected example from instead of `src/package-readme.test.ts` (e.g. a CLI session built from test args). */
export interface ReadmeExpectation {
  /** Language tag of the fenced block after the marker. */
  readonly lang: string;
  /** The exact text the block must hold. */
  readonly code: string;
}

/**
 * Asserts that the example after the marker in `<packageDir>/README.md` is exactly the `readme` region(s) of
 * `<packageDir>/src/package-readme.test.ts` (or `expected.code` for a non-TypeScript block), so the README cannot drift
 * from the tested code, and that the README's first code block installs the package named in its package.json.
 * `packageDir` must end with a slash, e.g. `new URL("../", import.meta.url)`.
 */
export function expectReadmeExample(packageDir: URL, expected?: ReadmeExpectation): void {
  const readme = readFileSync(new URL("README.md", packageDir), "utf8");
  const { name } = JSON.parse(readFileSync(new URL("package.json", packageDir), "utf8")) as { name: string };
  expect(installLine(readme)).toMatch(new RegExp(`^npm install (-g )?${name}$`));
  const block = readmeBlock(readme, expected?.lang ?? "ts");
  const tested = expected ? dedent(expected.code) : regionText(readFileSync(new URL("src/package-readme.test.ts", packageDir), "utf8"));
  expect(block).toBe(tested);
}
