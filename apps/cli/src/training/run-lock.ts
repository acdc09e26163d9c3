import * as fs from "node:fs";
import { join } from "node:path";
import { SelmixError } from "@selmix/core";
import { isLockOwner, LOCK_FOLDER_FS, lockHolderIsDead, readLockOwner, writeLockOwner } from "@selmix/core/node";
import { lockSync } from "proper-lockfile";

/** The lock is a folder in the run directory (mkdir is atomic); `owner.json` inside says who holds it. */
export const LOCK_NAME = ".selmix.lock";
/**
 * proper-lockfile refreshes the lock's mtime every minute; a lock 10 minutes old has lost its holder. A holder that
 * died on this machine is detected at once by its pid, so the age only matters for another host's lock, and it
 * must outlast the longest stretch a busy CPU training step keeps the event loop from refreshing.
 */
const STALE_MS = 600_000;

/**
 * Takes the lock of a run directory for this process: two commands never write one run directory at once. The lock
 * is released by the returned function, and on exit or a signal (proper-lockfile); a lock whose holder died
 * (kill -9) is taken over at once when the holder was on this machine, else after 10 minutes without a refresh.
 *
 * @throws `SelmixError` `LOCKED` naming the directory and the holder; `IO_ERROR` when the lock cannot be made.
 */
export function lockRunDir(dir: string, command: string, refreshMs = 60_000): () => void {
  const lockPath = join(dir, LOCK_NAME);
  const options = {
    lockfilePath: lockPath,
    realpath: false,
    stale: STALE_MS,
    update: refreshMs,
    fs: LOCK_FOLDER_FS,
    // A refresh came too late (the event loop was blocked): harmless while the lock is still ours.
    onCompromised: (error: Error) => {
      if (!isLockOwner(lockPath)) process.stderr.write(`selmix: warning: ${dir} was taken over by another command (${error.message})\n`);
    },
  };
  let release: () => void;
  try {
    release = lockSync(dir, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") {
      throw new SelmixError("IO_ERROR", `${lockPath}: cannot create the lock (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (!lockHolderIsDead(lockPath)) {
      const owner = readLockOwner(lockPath);
      const who = owner === undefined ? "another selmix command" : `selmix ${String(owner.command)} (pid ${owner.pid} on ${owner.host})`;
      throw new SelmixError("LOCKED", `${dir} is in use by ${who}; wait for it to finish or use another --out`);
    }
    fs.rmSync(lockPath, { recursive: true, force: true }); // its holder was killed: the lock is stale
    release = lockSync(dir, options);
  }
  writeLockOwner(lockPath, { command });
  return () => {
    try {
      release();
    } catch {
      // proper-lockfile gave the lock up after a late refresh; the folder is still ours to remove
      if (isLockOwner(lockPath)) fs.rmSync(lockPath, { recursive: true, force: true });
    }
  };
}
