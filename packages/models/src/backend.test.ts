import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, test } from "vitest";
import { activeBackend, initBackend } from "./backend.ts";

describe("initBackend", () => {
  test("auto skips the missing native packages and runs on wasm", async () => {
    const info = await initBackend({ env: {} });
    expect(info.name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(activeBackend()).toBe("wasm");
    expect(info.tried.map((t) => [t.name, t.ok])).toEqual([
      ["tensorflow-gpu", false],
      ["tensorflow", false],
      ["wasm", true],
    ]);
    expect(info.tried[0]!.reason).not.toBe("ok");
  });

  test("a named backend is used exactly", async () => {
    const info = await initBackend({ name: "cpu" });
    expect(info).toEqual({ name: "cpu", tried: [{ name: "cpu", ok: true, reason: "ok" }] });
    expect(tf.getBackend()).toBe("cpu");
  });

  test("SELMIX_BACKEND is read when no name is given", async () => {
    const info = await initBackend({ env: { SELMIX_BACKEND: "wasm" } });
    expect(info.tried).toHaveLength(1);
    expect(info.name).toBe("wasm");
  });

  test("a named native backend that is not installed throws BACKEND_UNAVAILABLE", async () => {
    await expect(initBackend({ name: "tensorflow-gpu" })).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
    await expect(initBackend({ env: { SELMIX_BACKEND: "tensorflow" } })).rejects.toMatchObject({
      code: "BACKEND_UNAVAILABLE",
    });
    expect(tf.getBackend()).not.toBe("tensorflow");
  });

  test("an unknown name throws INVALID_ARGUMENT", async () => {
    await expect(initBackend({ name: "webgl" as never })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(initBackend({ env: { SELMIX_BACKEND: "gpu" } })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
