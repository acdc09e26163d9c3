import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRng, isSelmixError, rngFromState, SelmixError, shuffleInPlace } from "@selmix/core";
import { execFileSync, spawn } from "node:child_process";
import { endOnBrokenPipe, reportError, runCommandLine, withOneLineErrors, writeFileAtomic } from "@selmix/core/node";
import { Command } from "commander";
import { expect, test, vi } from "vitest";

// Each region below is the `@example` of the export it is named after (pulled into the API docs with
// `{@includeCode ./examples.test.ts#name}`), so every documented example runs here.

test("SelmixError", () => {
  //#region SelmixError
  function checkTemperature(t: number): number {
    if (!(t > 0)) throw new SelmixError("INVALID_VALUE", `temperature must be > 0, got ${t}`);
    return t;
  }
  //#endregion SelmixError

  expect(checkTemperature(2)).toBe(2);
  expect(() => checkTemperature(-1)).toThrow(SelmixError);
  expect(() => checkTemperature(-1)).toThrow("temperature must be > 0, got -1");
  const error = new SelmixError("NOT_FOUND", "x", { cause: "y" });
  expect([error.name, error.code, error.cause, error instanceof Error]).toEqual(["SelmixError", "NOT_FOUND", "y", true]);
});

test("isSelmixError", () => {
  //#region isSelmixError
  let reason = "ok";
  try {
    createRng(0.5); // seeds must be integers
  } catch (error) {
    if (isSelmixError(error, "INVALID_VALUE")) reason = error.message;
    else throw error;
  }
  //#endregion isSelmixError

  expect(reason).toBe("seed must be an integer, got 0.5");
  expect(isSelmixError(new SelmixError("PARSE_ERROR", "bad"))).toBe(true);
  expect(isSelmixError(new SelmixError("PARSE_ERROR", "bad"), "NOT_FOUND")).toBe(false);
  expect(isSelmixError(new Error("plain"))).toBe(false);
});

test("createRng", () => {
  //#region createRng
  const rng = createRng(0);
  const digit = rng.int(10); // same number on every run and platform
  const weight = rng.uniform(-0.1, 0.1);
  const noise = rng.normal();
  //#endregion createRng

  const again = createRng(0);
  expect([again.int(10), again.uniform(-0.1, 0.1), again.normal()]).toEqual([digit, weight, noise]);
  expect(digit >= 0 && digit < 10 && Number.isInteger(digit)).toBe(true);
  expect(weight >= -0.1 && weight < 0.1).toBe(true);
  expect(Number.isFinite(noise)).toBe(true);
  expect(createRng(1).next()).not.toBe(createRng(0).next());
});

test("rngFromState", () => {
  //#region rngFromState
  const rng = createRng(7);
  rng.next();
  const saved = rng.state(); // e.g. stored in a checkpoint
  const resumed = rngFromState(saved);
  const same = resumed.next() === rng.next(); // true: the stream continues where it stopped
  //#endregion rngFromState

  expect(same).toBe(true);
  expect(saved).toHaveLength(4);
  expect(resumed.state()).toEqual(rng.state());
});

test("shuffleInPlace", () => {
  //#region shuffleInPlace
  const order = shuffleInPlace([0, 1, 2, 3, 4, 5, 6, 7], createRng(3));
  const labels = shuffleInPlace(Int32Array.of(0, 0, 1, 1, 2), createRng(3)); // typed arrays too
  //#endregion shuffleInPlace

  expect([...order].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(order).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(order).toEqual(shuffleInPlace([0, 1, 2, 3, 4, 5, 6, 7], createRng(3)));
  expect(labels).toBeInstanceOf(Int32Array);
  expect([...labels].sort()).toEqual([0, 0, 1, 1, 2]);
});

test("writeFileAtomic", () => {
  //#region writeFileAtomic
  const dir = mkdtempSync(join(tmpdir(), "selmix-"));
  const file = join(dir, "checkpoints", "epoch-3.json"); // missing folders are created
  writeFileAtomic(file, JSON.stringify({ epoch: 3, rng: createRng(0).state() }));
  writeFileAtomic(file, JSON.stringify({ epoch: 4 })); // readers see the old or the new file, never a mix
  //#endregion writeFileAtomic

  try {
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ epoch: 4 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("withOneLineErrors", async () => {
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const exitCode = process.exitCode;
  try {
    //#region withOneLineErrors
    const main = withOneLineErrors("selmix-train", (epochs: string) => {
      if (!(Number(epochs) > 0)) throw new SelmixError("INVALID_VALUE", `--epochs must be > 0, got ${epochs}`);
    });
    await main("0"); // stderr: "selmix-train: INVALID_VALUE: --epochs must be > 0, got 0", exit code 1
    //#endregion withOneLineErrors

    expect(stderr).toHaveBeenCalledExactlyOnceWith("selmix-train: INVALID_VALUE: --epochs must be > 0, got 0\n");
    expect(process.exitCode).toBe(1);
  } finally {
    process.exitCode = exitCode;
  }
});

test("reportError", () => {
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const exitCode = process.exitCode;
  try {
    //#region reportError
    reportError("selmix", new SelmixError("USAGE", "--steps is required")); // "selmix: USAGE: --steps is required", exit 2
    //#endregion reportError
    expect(stderr).toHaveBeenCalledExactlyOnceWith("selmix: USAGE: --steps is required\n");
    expect(process.exitCode).toBe(2);
    reportError("selmix", new Error("two\nlines"));
    expect(stderr).toHaveBeenLastCalledWith("selmix: INTERNAL_ERROR: two lines\n");
    expect(process.exitCode).toBe(1);
  } finally {
    process.exitCode = exitCode;
  }
});

test("runCommandLine", async () => {
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const exitCode = process.exitCode;
  try {
    //#region runCommandLine
    const program = new Command("train");
    program.command("fit").requiredOption("--steps <n>", "optimizer steps").action(() => {});
    await runCommandLine(program, ["fit", "--steps", "3", "--stepz", "3"]); // "train: USAGE: unknown option '--stepz' ...", exit 2
    //#endregion runCommandLine
    expect(stderr).toHaveBeenCalledExactlyOnceWith(expect.stringMatching(/^train: USAGE: unknown option '--stepz'.*\n$/));
    expect(process.exitCode).toBe(2);
    await runCommandLine(program, ["fit"]);
    expect(stderr).toHaveBeenLastCalledWith(expect.stringMatching(/^train: USAGE: required option '--steps <n>' not specified/));
    await runCommandLine(program, ["fitt", "--help"]); // a typo before --help is not the top-level help
    expect(stderr).toHaveBeenLastCalledWith("train: USAGE: unknown command 'fitt' for 'train' (commands: fit)\n");
    expect(process.exitCode).toBe(2);
  } finally {
    process.exitCode = exitCode;
  }
});

test("endOnBrokenPipe", async () => {
  // A real pipe whose reader stops after 10 bytes, as in `selmix gain --json | head -c 10`.
  const fifo = join(mkdtempSync(join(tmpdir(), "selmix-pipe-")), "out.fifo");
  execFileSync("mkfifo", [fifo]);
  spawn("head", ["-c", "10", fifo], { stdio: "ignore" });
  const output = createWriteStream(fifo);
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  //#region endOnBrokenPipe
  const ended = new Promise<void>((resolve) => endOnBrokenPipe(output, "selmix", resolve));
  //#endregion endOnBrokenPipe
  let done = false;
  const pump = (): void => {
    if (done) return;
    output.write("x".repeat(65536));
    setTimeout(pump, 5);
  };
  pump();
  await ended; // without the handler the EPIPE error event would be an uncaught exception
  done = true;
  expect(stderr).not.toHaveBeenCalled();
});
