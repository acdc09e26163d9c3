import { createHash } from "node:crypto";
import { SelmixError } from "@selmix/core";

/** Which trainer wrote a resumable state. */
export type RunKind = "pretrain" | "fixmatch" | "finetune" | "finetune-features";

/** What a resumable state records about its run; resuming is allowed only into the same run. */
export interface RunIdentity {
  /** The trainer that wrote it. */
  readonly kind: RunKind;
  /** SHA-256 (hex, 16 digits) of the trainer's settings. */
  readonly configHash: string;
  /** The dataset manifest id (or, for arrays, a SHA-256 of the inputs); null when none was given. */
  readonly datasetId: string | null;
}

/** JSON with sorted keys, so a hash does not depend on the order a config was written in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The identity of a run of `kind` with these settings on this dataset. */
export function runIdentity(kind: RunKind, config: object, datasetId: string | undefined): RunIdentity {
  return { kind, configHash: createHash("sha256").update(canonicalJson(config)).digest("hex").slice(0, 16), datasetId: datasetId ?? null };
}

const short = (id: string | null): string => (id === null ? "(none)" : id.slice(0, 12));

/**
 * Checks that the state saved in `path` belongs to the run about to resume from it, naming what differs (the
 * trainer, the dataset or the settings).
 *
 * @throws `SelmixError` `MISMATCH` naming `path` and the first difference.
 */
export function assertSameRunIdentity(path: string, recorded: unknown, now: RunIdentity): void {
  const r = recorded as Partial<RunIdentity> | undefined;
  const advice = "start over (--no-resume, or resume: false) or use another directory";
  if (r === undefined || r === null || typeof r !== "object" || typeof r.kind !== "string") {
    throw new SelmixError("MISMATCH", `${path} records no run identity (another program or version wrote it); ${advice}`);
  }
  if (r.kind !== now.kind) throw new SelmixError("MISMATCH", `${path} was written by a ${r.kind} run, this is a ${now.kind} run; ${advice}`);
  if ((r.datasetId ?? null) !== now.datasetId) {
    throw new SelmixError("MISMATCH", `${path} belongs to dataset ${short(r.datasetId ?? null)}, this run uses ${short(now.datasetId)}; ${advice}`);
  }
  if (r.configHash !== now.configHash) {
    throw new SelmixError("MISMATCH", `${path} was written with other settings (config hash ${r.configHash}, this run ${now.configHash}); ${advice}`);
  }
}
