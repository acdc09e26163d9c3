/**
 * Run by `bench worker` at start (`node backend-probe.js [NAME]`): starts the tfjs backend once, prints
 * `{"name": ...}` or `{"code": ..., "message": ...}` as one JSON line, and exits. The worker process itself never
 * starts tfjs, so it holds no GPU memory that its training children would then lack.
 */
import { isSelmixError } from "@selmix/core";
import { type BackendChoice, initBackend } from "@selmix/models";

const choice = process.argv[2] as BackendChoice | undefined;
try {
  const { name } = await initBackend(choice === undefined ? {} : { name: choice });
  process.stdout.write(`${JSON.stringify({ name })}\n`);
} catch (error) {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  process.stdout.write(`${JSON.stringify({ code: isSelmixError(error) ? error.code : "INTERNAL_ERROR", message })}\n`);
}
process.exit(0);
