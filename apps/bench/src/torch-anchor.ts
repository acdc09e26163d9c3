import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const TORCH_SCRIPT = fileURLToPath(new URL("../../../packages/models/bench/torch_throughput.py", import.meta.url));

/** Debian's python3-torch interpreter, if torch imports there. */
function torchPython(): string | undefined {
  const py = "/usr/bin/python3";
  if (!existsSync(py) || !existsSync(TORCH_SCRIPT)) return undefined;
  return spawnSync(py, ["-c", "import torch"], { encoding: "utf8" }).status === 0 ? py : undefined;
}

/**
 * PyTorch's CPU training rate (img/s, median of `reps`) of the same small CNN with `threads` threads, or undefined
 * without torch. The thread count goes into the BLAS environment too: OpenBLAS ignores `torch.set_num_threads`.
 */
export function torchCnnRate(shape: readonly number[], batch: number, threads: number, seconds: number, reps: number): number | undefined {
  const py = torchPython();
  if (py === undefined) return undefined;
  const n = String(threads);
  const r = spawnSync(py, [TORCH_SCRIPT, "--batch", String(batch), "--seconds", String(seconds), "--reps", String(reps), "--threads", n, "--models", `cnn:${shape.join("x")}`], {
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n },
  });
  if (r.status !== 0) return undefined;
  const line = r.stdout.trim().split("\n").at(-1);
  return line === undefined ? undefined : (JSON.parse(line) as { median: number }).median;
}
