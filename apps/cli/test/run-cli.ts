import { runCommandLine } from "@selmix/core/node";
import { vi } from "vitest";
import { buildProgram } from "../src/program.ts";

/** Runs the CLI in-process, through the same error handling as `main.ts`, and captures its output and exit code. */
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
    await runCommandLine(await buildProgram(args), args);
    exitCode = Number(process.exitCode ?? 0);
  } finally {
    process.exitCode = previous;
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr, exitCode };
}
