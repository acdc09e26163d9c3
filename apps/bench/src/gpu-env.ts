/**
 * The environment of bench worker `slot`. With `SELMIX_GPUS=0,1` each worker sees one GPU (slot i gets GPU
 * i mod n through `CUDA_VISIBLE_DEVICES`), so two workers never share a device unless there are more workers than
 * GPUs. `TF_FORCE_GPU_ALLOW_GROWTH=true` (unless set) makes each TensorFlow process take GPU memory as it needs it
 * instead of nearly all of it at start, so workers that do share one GPU both fit.
 */
export function workerEnv(slot: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const gpus = (env.SELMIX_GPUS ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  return {
    ...env,
    TF_FORCE_GPU_ALLOW_GROWTH: env.TF_FORCE_GPU_ALLOW_GROWTH ?? "true",
    ...(gpus.length > 0 ? { CUDA_VISIBLE_DEVICES: gpus[slot % gpus.length] } : {}),
  };
}
