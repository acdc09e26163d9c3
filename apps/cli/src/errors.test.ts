import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../test/run-cli.ts";

// The one error contract: every failure is one line `selmix: CODE: message` on stderr naming the file or argument,
// exit code 1 for a runtime error and 2 for a usage error, nothing on stdout, no stack trace.

const dir = mkdtempSync(join(tmpdir(), "selmix-errors-"));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const confusion = file("c.json", "[[8,2],[1,4]]");

async function expectOneLine(args: readonly string[], exitCode: number, line: string | RegExp): Promise<void> {
  const r = await runCli(args);
  expect(r.stdout).toBe("");
  expect(r.stderr.endsWith("\n") && r.stderr.trim().split("\n").length === 1).toBe(true);
  if (typeof line === "string") expect(r.stderr).toBe(`${line}\n`);
  else expect(r.stderr).toMatch(line);
  expect(r.exitCode).toBe(exitCode);
}

describe("usage errors: one line `selmix: USAGE: ...`, exit code 2", () => {
  test("commander's own errors: an unknown option, a missing required flag, a malformed number", async () => {
    await expectOneLine(["metrics", "--confusion", confusion, "--stepz", "3"], 2, "selmix: USAGE: unknown option '--stepz' (see --help)");
    await expectOneLine(["metrics"], 2, "selmix: USAGE: required option '--confusion <file>' not specified (see --help)");
    await expectOneLine(
      ["metrics", "--confusion", confusion, "--head-fraction", "NaN"],
      2,
      "selmix: USAGE: option '--head-fraction <f>' argument 'NaN' is invalid. not a finite number. (see --help)",
    );
    await expectOneLine(["metricz"], 2, /^selmix: USAGE: unknown command 'metricz'/);
  });

  test("an unknown command followed by --help is a usage error, not the top-level help", async () => {
    await expectOneLine(["postfix", "--help"], 2, /^selmix: USAGE: unknown command 'postfix' for 'selmix' \(commands: metrics, gain, /);
    await expectOneLine(["datasets", "biuld", "--help"], 2, "selmix: USAGE: unknown command 'biuld' for 'selmix datasets' (commands: build, inspect)");
  });

  test("a bad choice reads as words: must be one of ..., with the value given", async () => {
    await expectOneLine(
      ["pretrain", "--out", join(dir, "never"), "--schedule", "linear"],
      2,
      'selmix: USAGE: --schedule: must be one of cosine, fixmatch-cosine, constant (got "linear")',
    );
  });

  test("--out \"\" would write into the current directory: refused by every command that writes one", async () => {
    for (const args of [["datasets", "build", "--source", "mnist"], ["demo"], ["pretrain"], ["finetune-head"]]) {
      await expectOneLine([...args, "--out", ""], 2, 'selmix: USAGE: --out must name a directory, got ""');
    }
  });

  test("help and version still exit 0, and the top-level help documents the exit codes", async () => {
    const help = await runCli(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("Exit codes: 0 ok; 1 runtime error");
    expect(help.stdout).toContain("2 usage error");
    const sub = await runCli(["metrics", "--help"]);
    expect(sub.exitCode).toBe(0);
    expect(sub.stdout).toContain("--confusion <file>");
    expect((await runCli(["--version"])).exitCode).toBe(0);
  });
});

describe("runtime errors: one coded line naming the file, exit code 1", () => {
  test("a non-JSON file: the message is whole (no excerpt cut in the middle of a quote)", async () => {
    const garbage = file("garbage.json", 'garbage\n"with a quote" and\nmore lines');
    await expectOneLine(["metrics", "--confusion", garbage], 1, `selmix: PARSE_ERROR: ${garbage}: not valid JSON (Unexpected token 'g')`);
    const late = file("late.json", '[[1, 2],\n [3 4]]');
    await expectOneLine(["metrics", "--confusion", late], 1, `selmix: PARSE_ERROR: ${late}: not valid JSON (Expected ',' or ']' after array element at line 2, column 5)`);
  });

  test("counts near 1e308 give the right metrics instead of recall 0 and accuracy NaN", async () => {
    const huge = file("huge.json", "[[1.5e308, 1e307], [1e307, 1.5e308]]");
    const r = await runCli(["metrics", "--confusion", huge, "--json"]);
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.recall).toEqual([0.9375, 0.9375]);
    expect(report.accuracy).toBeCloseTo(0.9375, 12);
  });

  test("datasets inspect of a folder and datasets build --out of a file name them", async () => {
    await expectOneLine(["datasets", "inspect", dir], 1, `selmix: INVALID_ARGUMENT: ${dir} is a folder, not a data file (inspect one of the files in it)`);
    const existing = file("existing-file", "x");
    const target = join(existing, "manifest.json");
    await expectOneLine(
      ["datasets", "build", "--source", "mnist", "--out", existing],
      1,
      `selmix: IO_ERROR: ${target}: cannot write (a file stands where a folder of ${target} is needed)`,
    );
  });
});
