// Writes docs/guides/cli-reference.md from the built CLI's own help (pnpm docs:cli).
import { writeFileSync } from "node:fs";
import { renderCliReference } from "../apps/cli/dist/cli-reference.js";

writeFileSync(new URL("../docs/guides/cli-reference.md", import.meta.url), await renderCliReference());
console.log("wrote docs/guides/cli-reference.md");
