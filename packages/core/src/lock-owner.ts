import * as fs from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/**
 * Who holds a lock folder (a proper-lockfile lock made with `lockfilePath` = that folder): `owner.json` inside it.
 * Apps add their own fields (the CLI: the command).
 */
export interface LockOwner {
  /** Process id of the holder. */
  readonly pid: number;
  /** Host name of the holder's machine (a pid says nothing about another machine's processes). */
  readonly host: string;
  /** The app's own fields. */
  readonly [field: string]: unknown;
}

const OWNER_FILE = "owner.json";

/** An `fs` for proper-lockfile whose release removes the lock folder with `owner.json` in it (its own rmdir needs it empty). */
export const LOCK_FOLDER_FS: typeof fs = {
  ...fs,
  rmdir: (path: fs.PathLike, cb: (error: NodeJS.ErrnoException | null) => void): void => fs.rm(path, { recursive: true, force: true }, cb),
  rmdirSync: (path: fs.PathLike): void => fs.rmSync(path, { recursive: true, force: true }),
} as typeof fs;

/** The holder recorded in `lockPath`, or undefined while it is being written (or its holder died right after taking the lock). */
export function readLockOwner(lockPath: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(join(lockPath, OWNER_FILE), "utf8")) as LockOwner;
    return Number.isInteger(owner.pid) && typeof owner.host === "string" ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records this process as the holder of the lock folder just taken, keeping the folder's mtime: proper-lockfile checks
 * at every refresh that the mtime is the one it set, and a new file in the folder changes it (the lock would then
 * silently stop being refreshed and go stale under a live holder).
 */
export function writeLockOwner(lockPath: string, fields: Readonly<Record<string, string>> = {}): void {
  const { atime, mtime } = fs.statSync(lockPath);
  fs.writeFileSync(join(lockPath, OWNER_FILE), JSON.stringify({ pid: process.pid, host: hostname(), ...fields }));
  fs.utimesSync(lockPath, atime, mtime);
}

/** Whether this process is the recorded holder of `lockPath`. */
export function isLockOwner(lockPath: string): boolean {
  const owner = readLockOwner(lockPath);
  return owner?.pid === process.pid && owner.host === hostname();
}

/** Whether the lock's holder was a process of this machine that is gone (kill -9): then the lock is free at once. */
export function lockHolderIsDead(lockPath: string): boolean {
  const owner = readLockOwner(lockPath);
  if (owner === undefined || owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
