/**
 * A bench worker process: starts its own tfjs backend, then runs the jobs its parent sends one at a time, writing
 * each job's result JSON atomically before it reports back.
 */
import { isSelmixError } from "@selmix/core";
import { initBackend } from "@selmix/models";
import type { FromWorker, ToWorker } from "./messages.ts";
import { runJobToFile } from "./run-job.ts";

const send = (m: FromWorker): void => {
  process.send?.(m);
};

let backend: Promise<unknown> | undefined;

process.on("message", (message: ToWorker) => {
  if (message.type === "exit") {
    process.exit(0);
    return;
  }
  const { job, outDir, cacheDir } = message;
  const log = (text: string): void => send({ type: "log", jobId: job.id, text });
  void (async () => {
    try {
      backend ??= initBackend();
      await backend;
      const result = await runJobToFile(job, outDir, { cacheDir, log });
      send({ type: "done", jobId: job.id, seconds: result.seconds });
    } catch (error) {
      if (process.env.SELMIX_DEBUG) console.error(error);
      const code = isSelmixError(error) ? error.code : "INTERNAL_ERROR";
      const text = error instanceof Error ? error.message : String(error);
      send({ type: "error", jobId: job.id, code, message: text.split("\n")[0] ?? "" });
    }
  })();
});
