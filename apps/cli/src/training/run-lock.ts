import * as fs from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { SelmixError } from "@selmix/core";
import { lockSync } from "proper-lockfile";

/** The lock is a folder in the run directory (mkdir is atomic); `owner.json` inside says who holds it. */
export const LOCK_NAME = ".selmix.lock";
/**
 * proper-lockfile refreshes the lock's mtime every minute; a lock 10 minutes old has lost its holder. A holder that
 * died on this machine is detected at once by its pid, so the age only matters for another host's lock, and it
 * must outlast the longest stretch a busy CPU training step keeps the event loop from refreshing.
 */
const STALE_MS = 600_000;

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
}

// Release removes the folder with owner.json in it (proper-lockfile's own rmdir needs it empty).
const lockFs = { ...fs, rmdirSync: (path: fs.PathLike) => fs.rmSync(path, { recursive: true }) };

function readOwner(lockPath: string): Owner | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(join(lockPath, "owner.json"), "utf8")) as Owner;
    return Number.isInteger(owner.pid) && typeof owner.host === "string" ? owner : undefined;
  } catch {
    return undefined; // being written, or the holder died right after taking the lock (then the mtime ages)
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the lock of a run directory for this process: two commands never write one run directory at once. The lock
 * is released by the returned function, and on exit or a signal (proper-lockfile); a lock whose holder died
 * (kill -9) is taken over at once when the holder was on this machine, else after 10 minutes without a refresh.
 *
 * @throws `SelmixError` `LOCKED` naming the directory and the holder; `IO_ERROR` when the lock cannot be made.
 */
export function lockRunDir(dir: string, command: string, refreshMs = 60_000): () => void {
  const lockPath = join(dir, LOCK_NAME);
  const ours = (): boolean => readOwner(lockPath)?.pid === process.pid && readOwner(lockPath)?.host === hostname();
  const options = {
    lockfilePath: lockPath,
    realpath: false,
    stale: STALE_MS,
    update: refreshMs,
    fs: lockFs,
    // A refresh came too late (the event loop was blocked): harmless while the lock is still ours.
    onCompromised: (error: Error) => {
      if (!ours()) process.stderr.write(`selmix: warning: ${dir} was taken over by another command (${error.message})\n`);
    },
  };
  let release: () => void;
  try {
    release = lockSync(dir, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") {
      throw new SelmixError("IO_ERROR", `${lockPath}: cannot create the lock (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const owner = readOwner(lockPath);
    if (owner === undefined || owner.host !== hostname() || isAlive(owner.pid)) {
      const who = owner === undefined ? "another selmix command" : `selmix ${owner.command} (pid ${owner.pid} on ${owner.host})`;
      throw new SelmixError("LOCKED", `${dir} is in use by ${who}; wait for it to finish or use another --out`);
    }
    fs.rmSync(lockPath, { recursive: true, force: true }); // its holder was killed: the lock is stale
    release = lockSync(dir, options);
  }
  const owner: Owner = { pid: process.pid, host: hostname(), command };
  // Keep the folder's mtime: proper-lockfile checks at every refresh that it is the one it set, and a new file in the
  // folder would change it, so the lock would silently stop being refreshed and go stale under a live holder.
  const { atime, mtime } = fs.statSync(lockPath);
  fs.writeFileSync(join(lockPath, "owner.json"), JSON.stringify(owner));
  fs.utimesSync(lockPath, atime, mtime);
  return () => {
    try {
      release();
    } catch {
      // proper-lockfile gave the lock up after a late refresh; the folder is still ours to remove
      if (ours()) fs.rmSync(lockPath, { recursive: true, force: true });
    }
  };
}
