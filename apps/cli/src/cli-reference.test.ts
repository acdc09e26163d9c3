import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { renderCliReference } from "./cli-reference.ts";

test("docs/guides/cli-reference.md is generated from the current help (run `pnpm docs:cli` after changing a command)", async () => {
  const committed = readFileSync(new URL("../../../docs/guides/cli-reference.md", import.meta.url), "utf8");
  expect(committed).toBe(await renderCliReference());
});
