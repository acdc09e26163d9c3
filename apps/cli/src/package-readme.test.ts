import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { expectReadmeExample } from "../../../test-support/readme-example.ts";
import { runCli } from "../test/run-cli.ts";

// The README's session, built from exactly what this test runs.
const matrix = "[[45, 5, 0], [10, 30, 10], [0, 2, 8]]";
const args = ["metrics", "--confusion", "confusion.json", "--json"];
const session = [`echo '${matrix}' > confusion.json`, `selmix ${args.join(" ")}`].join("\n");

// The session writes confusion.json in the working directory: run it in a scratch one.
const home = process.cwd();
const scratch = mkdtempSync(join(tmpdir(), "selmix-cli-readme-"));
beforeAll(() => process.chdir(scratch));
afterAll(() => {
  process.chdir(home);
  rmSync(scratch, { recursive: true, force: true });
});

test("the README session runs", async () => {
  writeFileSync("confusion.json", `${matrix}\n`); // what `echo` writes
  const { stdout, stderr, exitCode } = await runCli(args);
  expect(exitCode).toBe(0);
  expect(stderr).toBe("");
  const report = JSON.parse(stdout);
  expect(report.recall).toEqual([0.9, 0.6, 0.8]);
  expect(report.accuracy).toBeCloseTo(83 / 110, 12);
  expect(report.meanRecall).toBeCloseTo(2.3 / 3, 12);
  expect(report.minRecall).toBeCloseTo(0.6, 12);
});

test("`selmix --help` (the README's install check) lists the commands", async () => {
  const { stdout, exitCode } = await runCli(["--help"]);
  expect(exitCode).toBe(0);
  for (const command of ["metrics", "gain", "datasets", "pretrain", "finetune", "eval", "demo"]) expect(stdout).toContain(command);
});

test("the README session is the tested one", () => {
  expectReadmeExample(new URL("../", import.meta.url), { lang: "sh", code: session });
});
