import type { Command } from "commander";
import { buildProgram, EXIT_CODES } from "./program.ts";

function helpOf(command: Command): string {
  command.configureHelp({ helpWidth: 110 });
  return command.helpInformation().trimEnd();
}

/**
 * The CLI reference (docs/guides/cli-reference.md) generated from the commands' own help, so the docs never say
 * something the CLI does not.
 */
export async function renderCliReference(): Promise<string> {
  const program = await buildProgram();
  const sections = [`## selmix\n\n\`\`\`text\n${helpOf(program)}\n\`\`\``];
  const walk = (command: Command, prefix: string): void => {
    for (const sub of command.commands) {
      const name = `${prefix} ${sub.name()}`;
      sections.push(`## ${name}\n\n\`\`\`text\n${helpOf(sub)}\n\`\`\``);
      walk(sub, name);
    }
  };
  walk(program, "selmix");
  return [
    "# CLI reference",
    "",
    "Generated from the commands' own `--help` by `pnpm docs:cli`; a test fails when this page is out of date.",
    EXIT_CODES.replace(/\n/g, " "),
    "",
    ...sections.flatMap((s) => [s, ""]),
  ].join("\n");
}
