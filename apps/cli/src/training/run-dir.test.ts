import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { openRunDir } from "./run-dir.ts";
import { LOCK_NAME, lockRunDir } from "./run-lock.ts";

const root = mkdtempSync(join(tmpdir(), "selmix-run-dir-"));
let n = 0;
const newDir = (): string => join(root, `run-${n++}`);
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

/**
 * Another process holding the lock as `lockRunDir` does (proper-lockfile, owner.json inside, removed with it on
 * release); resolves once it holds it.
 */
async function holdLockInAnotherProcess(dir: string): Promise<ChildProcess> {
  const lockfile = createRequire(import.meta.url).resolve("proper-lockfile");
  const script = `
    const fs = require("node:fs"), path = require("node:path"), os = require("node:os");
    const dir = ${JSON.stringify(dir)}, lockPath = path.join(dir, ${JSON.stringify(LOCK_NAME)});
    fs.mkdirSync(dir, { recursive: true });
    const lockFs = { ...fs, rmdirSync: (p) => fs.rmSync(p, { recursive: true }) };
    require(${JSON.stringify(lockfile)}).lockSync(dir, { lockfilePath: lockPath, realpath: false, stale: 30000, fs: lockFs });
    fs.writeFileSync(path.join(lockPath, "owner.json"), JSON.stringify({ pid: process.pid, host: os.hostname(), command: "finetune" }));
    process.stdout.write("locked\\n");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes("locked") && resolve());
    child.on("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

const exited = (child: ChildProcess): Promise<unknown> => new Promise((resolve) => child.on("exit", resolve));

describe("openRunDir", () => {
  test("--out must name a directory other than --from, and not a file", () => {
    expect(() => openRunDir("", true, "pretrain")).toThrow(expect.objectContaining({ code: "USAGE", message: '--out must name a directory, got ""' }));
    expect(() => openRunDir("  ", false, "pretrain")).toThrow(expect.objectContaining({ code: "USAGE" }));
    const from = newDir();
    expect(() => openRunDir(`${from}/`, false, "finetune", from)).toThrow(
      expect.objectContaining({ code: "USAGE", message: `--out ${from}/ is the --from directory: the run would overwrite its own start; use another --out` }),
    );
    const file = join(root, "a-file");
    writeFileSync(file, "x");
    expect(() => openRunDir(file, true, "pretrain")).toThrow(expect.objectContaining({ code: "IO_ERROR", message: `--out ${file} is a file, not a directory` }));
  });

  test("two commands never write one directory: the second is LOCKED until the first releases it", () => {
    const dir = newDir();
    const release = openRunDir(dir, true, "pretrain");
    expect(() => openRunDir(dir, false, "pretrain")).toThrow(
      expect.objectContaining({ code: "LOCKED", message: `${dir} is in use by selmix pretrain (pid ${process.pid} on ${hostname()}); wait for it to finish or use another --out` }),
    );
    release();
    expect(existsSync(join(dir, LOCK_NAME))).toBe(false);
    openRunDir(dir, true, "pretrain")();
  });

  test("the lock goes on being refreshed: writing owner.json keeps the folder's mtime proper-lockfile checks", async () => {
    const dir = newDir();
    mkdirSync(dir, { recursive: true });
    const release = lockRunDir(dir, "pretrain", 500);
    const before = statSync(join(dir, LOCK_NAME)).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 1800));
    expect(statSync(join(dir, LOCK_NAME)).mtimeMs).toBeGreaterThan(before);
    release();
  });

  test("a lock held by a live process is respected; after that process is killed with -9 it is taken over at once", async () => {
    const dir = newDir();
    const holder = await holdLockInAnotherProcess(dir);
    expect(() => openRunDir(dir, true, "finetune")).toThrow(
      expect.objectContaining({ code: "LOCKED", message: expect.stringContaining(`is in use by selmix finetune (pid ${holder.pid} on `) }),
    );
    holder.kill("SIGKILL");
    await exited(holder);
    const release = openRunDir(dir, true, "finetune");
    release();
  });

  test("a holder ended by a signal releases the lock", async () => {
    const dir = newDir();
    const holder = await holdLockInAnotherProcess(dir);
    holder.kill("SIGTERM");
    await exited(holder);
    expect(existsSync(join(dir, LOCK_NAME))).toBe(false);
  });

  test("stale temporary files of a killed write are removed; --no-resume clears exactly the command's own files", () => {
    const dir = newDir();
    mkdirSync(dir);
    const names = ["config.json", "manifest.json", "last.ckpt", "best.ckpt", "diagnostics.jsonl", "metrics.json", "report.svg", "notes.txt", "data.tmp"];
    for (const name of names) writeFileSync(join(dir, name), name === "config.json" ? '{"command": "finetune"}' : "x");
    writeFileSync(join(dir, "last.ckpt.4242.0badc0de.tmp"), "half a checkpoint");
    openRunDir(dir, true, "finetune")();
    expect(readdirSync(dir).sort()).toEqual([...names].sort()); // only the killed write's temporary file is gone
    openRunDir(dir, false, "finetune")();
    expect(readdirSync(dir).sort()).toEqual(["data.tmp", "notes.txt"]); // the user's own files stay
  });

  test("a directory holding another command's run is refused, with or without --no-resume", () => {
    const dir = newDir();
    mkdirSync(dir);
    for (const name of ["config.json", "diagnostics.jsonl", "report.svg"]) writeFileSync(join(dir, name), name === "config.json" ? '{"command": "finetune"}' : "x");
    for (const resume of [true, false]) {
      expect(() => openRunDir(dir, resume, "pretrain")).toThrow(
        expect.objectContaining({ code: "MISMATCH", message: `${dir} holds a finetune run (config.json); a pretrain run needs another --out` }),
      );
    }
    expect(readdirSync(dir).sort()).toEqual(["config.json", "diagnostics.jsonl", "report.svg"]);
  });
});
