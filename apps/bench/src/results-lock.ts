import * as fs from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { SelmixError } from "@selmix/core";
import { lock, lockSync } from "proper-lockfile";

/** A holder that stopped refreshing for this long is dead (a refresh every 30 s; CPU steps block well under that). */
const STALE_MS = 300_000;
const POLL_MS = 2000;

// Release removes the lock folder with owner.json in it (proper-lockfile's own rmdir needs it empty).
const lockFs = {
  ...fs,
  rmdir: (path: fs.PathLike, cb: (error: NodeJS.ErrnoException | null) => void) => fs.rm(path, { recursive: true, force: true }, cb),
  rmdirSync: (path: fs.PathLike) => fs.rmSync(path, { recursive: true, force: true }),
};

interface Owner {
  readonly pid: number;
  readonly host: string;
}

function readOwner(lockPath: string): Owner | undefined {
  try {
    return JSON.parse(fs.readFileSync(join(lockPath, "owner.json"), "utf8")) as Owner;
  } catch {
    return undefined; // being written, or its holder died right after taking the lock (then its mtime ages)
  }
}

/**
 * Writes who holds the lock into the lock folder, keeping the folder's mtime: proper-lockfile checks at every refresh
 * that the mtime is still the one it set, and a new file in the folder would change it (the lock would be dropped).
 */
function writeOwner(lockPath: string): void {
  const { atime, mtime } = fs.statSync(lockPath);
  fs.writeFileSync(join(lockPath, "owner.json"), JSON.stringify({ pid: process.pid, host: hostname() } satisfies Owner));
  fs.utimesSync(lockPath, atime, mtime);
}

/** Whether the lock's holder was a process of this machine that is gone (kill -9): then the lock is free at once. */
function holderIsDead(lockPath: string): boolean {
  const owner = readOwner(lockPath);
  if (owner === undefined || owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

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
  const options = { lockfilePath: lockPath, realpath: false, stale: STALE_MS, update: refreshMs, fs: lockFs };
  const take = (): (() => void) => {
    const release = lockSync(dir, options);
    writeOwner(lockPath);
    return release;
  };
  try {
    return take();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    if (!holderIsDead(lockPath)) {
      const owner = readOwner(lockPath);
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
  const options = { lockfilePath: lockPath, realpath: false, stale: STALE_MS, update: 30_000, fs: lockFs };
  let release: (() => Promise<void>) | undefined;
  let waited = false;
  while (release === undefined) {
    try {
      release = await lock(target, options);
      writeOwner(lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
      if (holderIsDead(lockPath)) {
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
