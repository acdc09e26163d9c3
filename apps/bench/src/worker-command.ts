import { resolve } from "node:path";
import { BACKEND_ORDER, type BackendChoice } from "@selmix/models";
import { Command, InvalidArgumentError, Option } from "commander";
import { parseQueueUrl } from "./queue.ts";
import { runQueueWorker } from "./queue-worker.ts";

interface WorkerFlags {
  queue: string;
  concurrency: number;
  backend?: BackendChoice;
  out: string;
  dataDir?: string;
  lockSeconds: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !(n >= 1)) throw new InvalidArgumentError("not a positive integer.");
  return n;
}

/** `bench worker`: runs the jobs of the tables enqueued with `--queue` on this machine. */
export function workerCommand(action: (body: (flags: WorkerFlags) => Promise<void>) => (flags: WorkerFlags) => Promise<void>, defaultOut: string): Command {
  return new Command("worker")
    .description("run the jobs that `pnpm bench <table> --queue URL` put on a Redis queue, on this machine (needs the repository, built, and the data)")
    .requiredOption("--queue <url>", "Redis of the coordinator: redis://HOST:PORT/DB")
    .option("--concurrency <n>", "jobs at the same time, each in its own child process", positiveInt, 1)
    .addOption(new Option("--backend <name>", "tfjs backend of every job (else SELMIX_BACKEND, else auto)").choices(["auto", ...BACKEND_ORDER]))
    .option("--out <dir>", "results folder of this machine (its cache/ keeps pre-trained checkpoints and interrupted runs)", defaultOut)
    .option("--data-dir <dir>", "folder with the CIFAR files on this machine (else SELMIX_DATA_DIR)")
    .option("--lock-seconds <n>", "seconds without a heartbeat before a dead worker's job goes to another worker", positiveInt, 30)
    .action(
      action(async (flags: WorkerFlags) => {
        await runQueueWorker({
          url: parseQueueUrl(flags.queue),
          concurrency: flags.concurrency,
          ...(flags.backend === undefined ? {} : { backend: flags.backend }),
          out: resolve(flags.out),
          ...(flags.dataDir === undefined ? {} : { dataDir: resolve(flags.dataDir) }),
          lockSeconds: flags.lockSeconds,
          log: (m) => console.error(m),
        });
      }),
    );
}
