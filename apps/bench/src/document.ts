import type { DatasetTable } from "./aggregate.ts";
import type { BenchProfile, TableName } from "./types.ts";

/** Everything one table command produced: what the Markdown, the JSON and the SVGs are rendered from. */
export interface TableDocument {
  readonly format: "selmix-bench-table";
  readonly version: 1;
  readonly table: TableName;
  readonly profile: BenchProfile;
  /** The command line that produced it. */
  readonly command: string;
  /** ISO date-time of the end of the run. */
  readonly date: string;
  /** Wall-clock seconds of this invocation (small when every job was already done). */
  readonly wallSeconds: number;
  /** Sum of the jobs' own seconds (what a fresh run costs on one process). */
  readonly computeSeconds: number;
  readonly workers: number;
  readonly description: string;
  readonly datasets: readonly DatasetTable[];
  /** Datasets left out, e.g. CIFAR without `--data-dir`. */
  readonly skipped: readonly { readonly dataset: string; readonly reason: string }[];
  readonly failed: readonly { readonly jobId: string; readonly reason: string }[];
}
