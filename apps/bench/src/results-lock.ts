import * as fs from "node:fs";
import { join } from "node:path";
import { SelmixError } from "@selmix/core";
import { LOCK_FOLDER_FS, lockHolderIsDead, readLockOwner, writeLockOwner } from "@selmix/core/node";
import { lock, lockSync } from "proper-lockfile";

/** A holder that stopped refreshing for this long is dead (a refresh every 30 s; CPU steps block well under that). */
const STALE_MS = 300_000;
const POLL_MS = 2000;

/**
 * Takes the lock of one table's results folder (`<out>/<profile>/<table>.lock`) for this run: two bench runs of one
 * table into one `--out` would run the same jobs twice and race on their files. Released by the returned function,
 * and on exit or a signal; a lock left by a killed run of this machine is taken over at once.
 *
 * @throws `SelmixError` `LOCKED` naming the folder and the run that holds it.
 */
export function lockTableResults(dir: string, refreshMs = 30_000): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const lockPath = `${dir}.lock`;
  const options = { lockfilePath: lockPath, realpath: false, stale: STALE_MS, update: refreshMs, fs: LOCK_FOLDER_FS };
  const take = (): (() => void) => {
    const release = lockSync(dir, options);
    writeLockOwner(lockPath);
    return release;
  };
  try {
    return take();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    if (!lockHolderIsDead(lockPath)) {
      const owner = readLockOwner(lockPath);
      const who = owner === undefined ? "another bench run" : `another bench run (pid ${owner.pid} on ${owner.host})`;
      throw new SelmixError("LOCKED", `${dir} is in use by ${who}; wait for it to finish or use another --out`);
    }
    fs.rmSync(lockPath, { recursive: true, force: true });
    return take();
  }
}

/**
 * Runs `work` holding the lock of one cache entry (`<cacheDir>/<name>.lock`, proper-lockfile). A second bench process
 * that needs the same entry (another table sharing the pre-training, or a queue worker on the same cache folder)
 * waits for the first instead of training it into the same `.run` folder at the same time; `work` then finds the
 * entry made. The lock is released when `work` ends, and on exit or a signal; a killed holder's lock goes stale.
 */
export async function withCacheEntryLock<T>(cacheDir: string, name: string, log: (message: string) => void, work: () => Promise<T>): Promise<T> {
  fs.mkdirSync(cacheDir, { recursive: true });
  const target = join(cacheDir, name);
  const lockPath = `${target}.lock`;
  const options = { lockfilePath: lockPath, realpath: false, stale: STALE_MS, update: 30_000, fs: LOCK_FOLDER_FS };
  let release: (() => Promise<void>) | undefined;
  let waited = false;
  while (release === undefined) {
    try {
      release = await lock(target, options);
      writeLockOwner(lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
      if (lockHolderIsDead(lockPath)) {
        fs.rmSync(lockPath, { recursive: true, force: true });
        continue;
      }
      if (!waited) log(`waiting for another bench process to finish ${name}`);
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
  try {
    return await work();
  } finally {
    await release();
  }
}
