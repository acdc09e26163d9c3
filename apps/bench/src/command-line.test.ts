import { expect, test } from "vitest";
import { benchCommandLine } from "./command-line.ts";

test("the recorded bench command quotes arguments that a shell would split", () => {
  expect(benchCommandLine(["speed", "--throughput-args", "--backends wasm --batch 64,128"])).toBe(
    "pnpm bench speed --throughput-args '--backends wasm --batch 64,128'",
  );
  expect(benchCommandLine(["supervised", "--out", "/tmp/it's"])).toBe("pnpm bench supervised --out '/tmp/it'\\''s'");
  expect(benchCommandLine(["supervised", "--datasets", "mnist,fashion-mnist", "--seeds", "3"])).toBe(
    "pnpm bench supervised --datasets mnist,fashion-mnist --seeds 3",
  );
});
