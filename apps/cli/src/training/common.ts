import type { Splits } from "@selmix/datasets";
import { BACKEND_ORDER, type BackendChoice, type BackendName } from "@selmix/models";
import type { ProgressListener } from "@selmix/trainers";

/** Values of `--backend` (and the `backend` config key). */
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", ...BACKEND_ORDER];

/** `workers` only above 1: a one-thread run's config.json stays as before, so older run directories still resume. */
export function workersKey(workers: number): { readonly workers?: number } {
  return workers > 1 ? { workers } : {};
}

/** Help of `--workers` (pretrain, finetune). */
export const WORKERS_HELP = "gradient worker threads, data parallel; 1 = in this thread (default: every core on wasm/cpu, 1 for mlp or tfjs-node)";

/** Where and how a training command runs (flags that are not part of the experiment's config). */
export interface RunContext {
  /** The run directory: config.json, manifest.json, checkpoints, metrics.json, ... */
  readonly out: string;
  /** Continue from `out/last.ckpt` when it exists (`--no-resume` starts over). */
  readonly resume: boolean;
  /** Machine output: no progress on stderr. */
  readonly json: boolean;
  /** The backend already started by the command. */
  readonly backend: BackendName;
  /** Prefix of the progress bar. */
  readonly label: string;
  /** Data already loaded for the same manifest (the demo reuses the pre-training's), to skip reading it again. */
  readonly splits?: Splits;
  /** Sees every progress event after the progress bar (tests simulate a kill by throwing from it). */
  readonly onProgress?: ProgressListener;
}

/** The progress bar's listener, then the run's own (if any). */
export function withRunListener(bar: ProgressListener, run: { readonly onProgress?: ProgressListener }): ProgressListener {
  const extra = run.onProgress;
  return extra === undefined ? bar : (event) => {
    bar(event);
    extra(event);
  };
}
