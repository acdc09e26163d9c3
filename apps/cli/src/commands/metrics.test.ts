import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../../test/run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "selmix-metrics-"));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe("selmix metrics", () => {
  test("--json prints exactly one object with the documented keys", async () => {
    const { stdout, exitCode } = await runCli(["metrics", "--confusion", file("a.json", "[[8,2],[1,4]]"), "--json"]);
    expect(exitCode).toBe(0);
    const report = JSON.parse(stdout);
    expect(Object.keys(report).sort()).toEqual(
      ["accuracy", "coverage", "gMean", "hMean", "meanRecall", "minCoverage", "minHeadTailRecall", "minRecall", "recall"].sort(),
    );
    expect(report.meanRecall).toBeCloseTo(0.8, 12);
    expect(report.recall).toEqual([0.8, 0.8]);
  });

  test("joint probabilities give the same metrics as counts", async () => {
    const counts = JSON.parse((await runCli(["metrics", "--confusion", file("c.json", "[[6,2],[1,1]]"), "--json"])).stdout);
    const joint = JSON.parse((await runCli(["metrics", "--confusion", file("j.json", "[[0.6,0.2],[0.1,0.1]]"), "--json"])).stdout);
    expect(joint.hMean).toBeCloseTo(counts.hMean, 12);
  });

  test("the readable table lists every class", async () => {
    const { stdout } = await runCli(["metrics", "--confusion", file("b.json", "[[8,2,0],[1,4,0],[0,1,9]]")]);
    expect(stdout).toContain("min head/tail recall");
    expect(stdout.split("\n").filter((l) => /^\d\s/.test(l))).toHaveLength(3);
  });

  test.each([
    ["ragged.json", "[[1,2],[3]]", "INVALID_SHAPE"],
    ["nan.json", '[[1,"x"],[3,4]]', "INVALID_VALUE"],
    ["neg.json", "[[1,-2],[3,4]]", "INVALID_VALUE"],
    ["broken.json", "[[1,2],", "PARSE_ERROR"],
    ["empty-class.json", "[[0,0],[3,4]]", "EMPTY_CLASS"],
  ])("%s exits 1 with a one-line %s error", async (name, content, code) => {
    const { stderr, exitCode, stdout } = await runCli(["metrics", "--confusion", file(name, content)]);
    expect(exitCode).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(new RegExp(`^selmix: ${code}: `));
  });

  test("a missing file is NOT_FOUND", async () => {
    const { stderr, exitCode } = await runCli(["metrics", "--confusion", join(dir, "nope.json")]);
    expect(exitCode).toBe(1);
    expect(stderr).toContain("NOT_FOUND");
  });
});
