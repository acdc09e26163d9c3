import { expect, test } from "vitest";
import { workerEnv } from "./gpu-env.ts";

test("one GPU per worker with SELMIX_GPUS, memory growth on by default", () => {
  const env = { SELMIX_GPUS: "0, 1", PATH: "/bin" };
  expect(workerEnv(0, env)).toMatchObject({ CUDA_VISIBLE_DEVICES: "0", TF_FORCE_GPU_ALLOW_GROWTH: "true", PATH: "/bin" });
  expect(workerEnv(1, env).CUDA_VISIBLE_DEVICES).toBe("1");
  expect(workerEnv(2, env).CUDA_VISIBLE_DEVICES).toBe("0");
  expect(workerEnv(0, { PATH: "/bin" }).CUDA_VISIBLE_DEVICES).toBeUndefined();
  expect(workerEnv(0, { TF_FORCE_GPU_ALLOW_GROWTH: "false" }).TF_FORCE_GPU_ALLOW_GROWTH).toBe("false");
});
