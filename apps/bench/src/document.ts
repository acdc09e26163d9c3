import type { DatasetTable } from "./aggregate.ts";
import type { BenchProfile, TableName } from "./types.ts";

/** One invocation of a table command that ran jobs. */
export interface RunRecord {
  readonly command: string;
  readonly date: string;
  readonly wallSeconds: number;
  /** Null for a record recovered from a table JSON written before run records existed. */
  readonly jobsRun: number | null;
  readonly workers: number;
  /** The Redis queue the jobs ran on (`--queue`, password removed); `workers` is then unused. */
  readonly queue?: string;
  /** How the cores were split between job processes and gradient workers (see `chooseSplit`). */
  readonly split?: string;
}

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
  /** Every invocation of this table and profile on this results folder that ran jobs (oldest first). */
  readonly runs: readonly RunRecord[];
  readonly description: string;
  readonly datasets: readonly DatasetTable[];
  /** Datasets left out, e.g. CIFAR without `--data-dir`. */
  readonly skipped: readonly { readonly dataset: string; readonly reason: string }[];
  readonly failed: readonly { readonly jobId: string; readonly reason: string }[];
}
