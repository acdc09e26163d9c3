//#region readme
import { createRng, isSelmixError, rngFromState, SelmixError } from "@selmix/core";
//#endregion readme
import { expect, test, vi } from "vitest";
import { expectReadmeExample } from "../../../test-support/readme-example.ts";

test("the README example runs", () => {
  const printed = vi.spyOn(console, "error").mockImplementation(() => {});
  //#region readme
  const rng = createRng(42);
  const roll = rng.int(10); // the same on every run and platform
  const saved = rng.state(); // store it in a checkpoint ...
  const resumed = rngFromState(saved); // ... and the stream continues where it stopped
  try {
    throw new SelmixError("INVALID_VALUE", "temperature must be > 0, got -1");
  } catch (e) {
    if (isSelmixError(e, "INVALID_VALUE")) console.error(e.message);
  }
  //#endregion readme

  expect(roll).toBe(createRng(42).int(10));
  expect(Number.isInteger(roll) && roll >= 0 && roll < 10).toBe(true);
  expect([resumed.next(), resumed.next()]).toEqual([rng.next(), rng.next()]);
  expect(printed).toHaveBeenCalledOnce();
  expect(String(printed.mock.calls[0]![0])).toContain("temperature must be > 0, got -1");
});

test("the README example is the tested code", () => {
  expectReadmeExample(new URL("../", import.meta.url));
});
