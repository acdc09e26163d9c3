import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

interface WasmBuild {
  readonly watPath: string;
  readonly outPath: string;
  compile(text: string): Promise<Uint8Array>;
  render(bytes: Uint8Array): string;
}

/**
 * Asserts that a package's committed `src/kernels-wasm-bytes.ts` (its `base64` constant) is a fresh compile of its
 * `wasm/kernels.wat` by `scripts/build-wasm.mjs` (gain and models each have one).
 */
export async function expectFreshWasmBuild(packageUrl: URL, base64: string): Promise<void> {
  // @ts-expect-error: a plain .mjs build script without type declarations
  const { wasmBuild } = (await import("../scripts/build-wasm.mjs")) as { wasmBuild(packageDir: string): WasmBuild };
  const build = wasmBuild(fileURLToPath(packageUrl));
  const bytes = await build.compile(await readFile(build.watPath, "utf8"));
  expect(Buffer.from(base64, "base64").equals(Buffer.from(bytes))).toBe(true);
  expect(await readFile(build.outPath, "utf8")).toBe(build.render(bytes));
}
