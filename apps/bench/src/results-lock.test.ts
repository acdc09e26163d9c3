import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { lockTableResults, withCacheEntryLock } from "./results-lock.ts";

const root = mkdtempSync(join(tmpdir(), "selmix-bench-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A pid that was a process of this machine and is gone. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
}

function orphanLock(lockPath: string): void {
  mkdirSync(lockPath, { recursive: true });
  writeFileSync(join(lockPath, "owner.json"), JSON.stringify({ pid: deadPid(), host: hostname() }));
}

test("a second run of one table into one --out is refused with LOCKED naming the folder and the holder", () => {
  const dir = join(root, "full", "supervised");
  const release = lockTableResults(dir);
  expect(() => lockTableResults(dir)).toThrow(expect.objectContaining({ code: "LOCKED", message: expect.stringContaining(`${dir} is in use by another bench run (pid ${process.pid}`) }));
  release();
  lockTableResults(dir)(); // free again once released
});

test("the lock survives its refreshes (writing the owner keeps the folder's mtime)", async () => {
  const dir = join(root, "full", "semi-supervised");
  const compromised: unknown[] = [];
  const onError = (error: unknown): void => void compromised.push(error);
  process.on("uncaughtException", onError);
  try {
    const release = lockTableResults(dir, 1000);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // two refreshes
    expect(compromised).toEqual([]);
    expect(() => lockTableResults(dir)).toThrow(expect.objectContaining({ code: "LOCKED" }));
    release();
  } finally {
    process.off("uncaughtException", onError);
  }
});

test("locks left by a killed run of this machine are taken over at once", async () => {
  const dir = join(root, "full", "ablations");
  orphanLock(`${dir}.lock`);
  lockTableResults(dir)();
  orphanLock(join(root, "cache", "pretrain-orphan.lock"));
  const logs: string[] = [];
  expect(await withCacheEntryLock(join(root, "cache"), "pretrain-orphan", (l) => logs.push(l), async () => "ran")).toBe("ran");
  expect(logs).toEqual([]); // no waiting
});
