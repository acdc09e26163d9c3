import { describe, expect, test, vi } from "vitest";
import { createProgress, formatDuration, renderBar } from "./progress.ts";

describe("progress", () => {
  test("durations and bars", () => {
    expect(formatDuration(42.4)).toBe("42s");
    expect(formatDuration(185)).toBe("3m05s");
    expect(formatDuration(3725)).toBe("1h02m");
    expect(formatDuration(Number.NaN)).toBe("?");
    expect(renderBar("pretrain", 50, 200, 0.5, 30)).toBe(`pretrain [######${".".repeat(18)}] 50/200  25%  loss 0.5000  ETA 30s`);
  });

  test("the bar's ETA comes from the measured rate; --json is silent", () => {
    let written = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written += String(chunk);
      return true;
    });
    let clock = 0;
    const bar = createProgress("run", { style: "bar", now: () => clock });
    bar.listener({ kind: "step", step: 1, total: 101, loss: 1, lr: 0.1 });
    clock = 10_000; // 10 steps per second
    bar.listener({ kind: "step", step: 101, total: 101, loss: 1, lr: 0.1 });
    bar.done();
    expect(written).toContain("101/101 100%");
    clock = 0;
    written = "";
    const half = createProgress("run", { style: "bar", now: () => clock });
    half.listener({ kind: "step", step: 1, total: 201, loss: 1, lr: 0.1 });
    clock = 10_000;
    half.listener({ kind: "step", step: 101, total: 201, loss: 1, lr: 0.1 });
    expect(written).toContain("ETA 10s");
    written = "";
    const silent = createProgress("run", { json: true });
    silent.listener({ kind: "step", step: 1, total: 2, loss: 1, lr: 0.1 });
    silent.listener({ kind: "resume", step: 1, total: 2 });
    expect(written).toBe("");
  });

  test("without a TTY a fine-tune logs its validation objective about ten times, a pre-training every validation", () => {
    let written = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written += String(chunk);
      return true;
    });
    const lines = createProgress("finetune", { style: "lines" });
    for (let step = 0; step < 1000; step += 50) {
      lines.listener({ kind: "refresh", step, total: 1000, objective: 0.5 + step / 10_000, effectivePairs: 12 });
      lines.listener({ kind: "step", step: step + 1, total: 1000, loss: 1, lr: 0.1 });
    }
    lines.done();
    const logged = written.trim().split("\n");
    expect(logged).toHaveLength(10);
    expect(logged[0]).toBe("finetune step 0/1000: validation objective 0.5000, effective pairs 12.0");
    expect(logged[9]).toBe("finetune step 900/1000: validation objective 0.5900, effective pairs 12.0");
    expect(written).not.toContain("\x1b");
  });
});
