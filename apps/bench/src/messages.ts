import type { Job } from "./types.ts";

/** Parent → worker: run a job, or finish. */
export type ToWorker = { readonly type: "job"; readonly job: Job; readonly outDir: string; readonly cacheDir: string } | { readonly type: "exit" };

/** Worker → parent: progress, a finished job, or a failed one. */
export type FromWorker =
  | { readonly type: "log"; readonly jobId: string; readonly text: string }
  | { readonly type: "done"; readonly jobId: string; readonly seconds: number }
  | { readonly type: "error"; readonly jobId: string; readonly code: string; readonly message: string };
