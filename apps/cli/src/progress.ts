import type { ProgressEvent, ProgressListener } from "@selmix/trainers";

/** How a {@link createProgress} renderer writes: a redrawn bar, one line per validation, or nothing. */
export type ProgressStyle = "bar" | "lines" | "silent";

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Machine output on stdout: nothing goes to stderr. */
  readonly json?: boolean;
  /** Override the TTY detection (tests). */
  readonly style?: ProgressStyle;
  /** Clock in milliseconds (tests). @defaultValue Date.now */
  readonly now?: () => number;
}

/** A progress renderer for one training run. */
export interface Progress {
  readonly listener: ProgressListener;
  /** Clears the bar line (call once the run ends, also on errors). */
  done(): void;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** One bar line: `label [#####.......] 1200/2000  60%  loss 0.1234  ETA 5s`. */
export function renderBar(label: string, step: number, total: number, loss: number, etaSeconds: number): string {
  const fraction = total > 0 ? Math.min(1, step / total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const lossText = Number.isFinite(loss) ? `  loss ${loss.toFixed(4)}` : "";
  return `${label} [${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${step}/${total} ${String(Math.round(100 * fraction)).padStart(3)}%${lossText}  ETA ${formatDuration(etaSeconds)}`;
}

/** Refresh lines a fine-tune prints without a TTY: the first, then one per tenth of the run (logs stay short). */
const REFRESH_LINES = 10;

/**
 * A progress bar with ETA on stderr, redrawn at most every 100 ms, when stderr is a TTY and the output is not JSON;
 * otherwise one line per validation of a pre-training and about ten lines of validation objective per fine-tune,
 * or, with `--json`, nothing. The ETA is measured from the first step this process ran, so a resumed run does not
 * count the steps it skipped.
 */
export function createProgress(label: string, options: ProgressOptions = {}): Progress {
  const style: ProgressStyle = options.style ?? (options.json ? "silent" : process.stderr.isTTY ? "bar" : "lines");
  const now = options.now ?? Date.now;
  const write = (text: string): void => void process.stderr.write(text);
  let origin: { step: number; time: number } | undefined;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;
  let lastRefreshBucket = -1;

  const eta = (step: number, total: number): number => {
    if (origin === undefined || step <= origin.step) return Number.NaN;
    const perStep = (now() - origin.time) / 1000 / (step - origin.step);
    return perStep * (total - step);
  };
  const listener = (event: ProgressEvent): void => {
    if (style === "silent") return;
    if (event.kind === "resume") {
      if (drawn) write("\r\x1b[2K");
      write(`${label}: resuming at step ${event.step}/${event.total}\n`);
      drawn = false;
      return;
    }
    if (origin === undefined) origin = { step: event.step, time: now() };
    if (event.kind === "eval" && style === "lines") {
      const m = event.metrics;
      write(
        `${label} step ${event.step}/${event.total}: validation mean recall ${(100 * m.meanRecall).toFixed(2)}, min recall ${(100 * m.minRecall).toFixed(2)}${event.best ? " (best)" : ""}\n`,
      );
      return;
    }
    if (event.kind === "refresh" && style === "lines") {
      const bucket = event.total > 0 ? Math.floor((REFRESH_LINES * event.step) / event.total) : 0;
      if (bucket === lastRefreshBucket) return;
      lastRefreshBucket = bucket;
      write(
        `${label} step ${event.step}/${event.total}: validation objective ${event.objective.toFixed(4)}, effective pairs ${event.effectivePairs.toFixed(1)}\n`,
      );
      return;
    }
    if (event.kind !== "step" || style !== "bar") return;
    const t = now();
    if (t - lastDraw < REDRAW_MS && event.step < event.total) return;
    lastDraw = t;
    write(`\r\x1b[2K${renderBar(label, event.step, event.total, event.loss, eta(event.step, event.total))}`);
    drawn = true;
  };
  return {
    listener,
    done() {
      if (drawn) write("\r\x1b[2K");
      drawn = false;
    },
  };
}
