import { vi } from "vitest";
import { buildProgram } from "../src/program.ts";

/** Runs the CLI in-process and captures what it prints and its exit code. */
export async function runCli(args: readonly string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const previous = process.exitCode;
  process.exitCode = 0;
  let exitCode = 0;
  try {
    const program = (await buildProgram(args)).exitOverride();
    program.configureOutput({ writeOut: (s) => void (stdout += s), writeErr: (s) => void (stderr += s) });
    for (const command of program.commands) command.exitOverride();
    await program.parseAsync(["node", "selmix", ...args]);
    exitCode = Number(process.exitCode ?? 0);
  } catch (error) {
    exitCode = typeof (error as { exitCode?: number }).exitCode === "number" ? (error as { exitCode: number }).exitCode : 1;
  } finally {
    process.exitCode = previous;
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr, exitCode };
}
