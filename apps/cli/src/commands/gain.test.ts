import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../../test/run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-gain-"));
const state = {
  confusion: [
    [90, 5, 5],
    [20, 70, 10],
    [30, 20, 50],
  ],
  prototypes: [
    [1, 0],
    [0, 1],
    [-1, -1],
  ],
  head: { weights: [[1, 0], [0, 1], [-0.5, -0.5]], bias: [0.1, 0, -0.1] },
};
const write = (name: string, value: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
};

describe("selmix gain", () => {
  test("--json prints gain, distribution and multipliers", async () => {
    const { stdout, exitCode } = await runCli(["gain", "--state", write("s.json", state), "--objective", "min-recall", "--json"]);
    expect(exitCode).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.gain).toHaveLength(3);
    expect(out.distribution.flat().reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
    expect(out.multipliers).toHaveLength(3);
    expect(out.multipliers[2]).toBeGreaterThan(0.9); // class 2 has the lowest recall
  });

  test("mean recall has no multipliers; the summary lists top pairs", async () => {
    const json = JSON.parse((await runCli(["gain", "--state", write("s2.json", state), "--objective", "mean-recall", "--json"])).stdout);
    expect(json.multipliers).toBeNull();
    const { stdout } = await runCli(["gain", "--state", write("s3.json", state), "--objective", "mean-recall", "--top", "3"]);
    expect(stdout).toContain("effective number of pairs");
    expect(stdout.split("\n").filter((l) => /^\d <- \d/.test(l))).toHaveLength(3);
  });

  test.each([
    ["unknown objective", state, ["--objective", "max-recall"], "USAGE"],
    ["wrong prototype rows", { ...state, prototypes: [[1, 0]] }, ["--objective", "mean-recall"], "INVALID_SHAPE"],
    ["NaN bias", { ...state, head: { ...state.head, bias: [0, "NaN", 0] } }, ["--objective", "mean-recall"], "INVALID_VALUE"],
    ["negative count", { ...state, confusion: [[1, -1, 0], [0, 1, 0], [0, 0, 1]] }, ["--objective", "mean-recall"], "INVALID_VALUE"],
    ["not an object", "[1, 2]", ["--objective", "mean-recall"], "INVALID_SHAPE"],
  ])("%s exits 1 (2 for USAGE) with a one-line coded error", async (name, content, args, code) => {
    const { stderr, exitCode } = await runCli(["gain", "--state", write(`${name}.json`, content), ...args]);
    expect(exitCode).toBe(code === "USAGE" ? 2 : 1);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(new RegExp(`^selmix: ${code}: `));
  });
});
