import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import { loadManifest, materialize } from "@selmix/datasets";
import { createObjective, type ObjectiveName } from "@selmix/metrics";
import { modelFromCheckpoint } from "@selmix/models";
import { type FinetuneConfig, finetune, gainSwitches, MIXING_MODES, type MixingMode, predict, refreshPolicy } from "@selmix/trainers";
import { datasetsFor } from "./datasets.ts";
import { formatDuration } from "./markdown.ts";
import { profileSettings } from "./profiles.ts";
import { spearman } from "./stats.ts";
import type { BenchProfile } from "./types.ts";

/** Options of {@link runGainFidelity}. */
export interface GainFidelityOptions {
  /** A `selmix pretrain` run directory (its best.ckpt and manifest.json): the model G is computed at. */
  readonly from: string;
  /** The profile whose full-network fine-tuning settings (lr, T, augmentation) the brief runs use. */
  readonly profile: BenchProfile;
  readonly objective: ObjectiveName;
  /** Pairs measured, evenly spaced over the ranks of G. */
  readonly pairs: number;
  /** Fine-tuning steps on each pair. */
  readonly steps: number;
  readonly modes: readonly MixingMode[];
  /** Writes `gain-fidelity-<objective>.json` and `.md` here. */
  readonly out: string;
  readonly command: string;
  readonly log: (message: string) => void;
}

/** One measured pair: its gain and the realised change of the validation objective per mixing mode. */
interface PairMeasure {
  readonly i: number;
  readonly j: number;
  readonly gain: number;
  readonly delta: Record<string, number>;
}

/** `pairs` pair indices evenly spaced over the ranks of `gain` (highest first). */
export function spreadPairs(gain: Float64Array, pairs: number): number[] {
  const order = Array.from(gain.keys()).sort((a, b) => gain[b]! - gain[a]! || a - b);
  const n = Math.min(pairs, order.length);
  return Array.from({ length: n }, (_, m) => order[n === 1 ? 0 : Math.round((m * (order.length - 1)) / (n - 1))]!);
}

/**
 * How well the gain's first-order model predicts what training on a pair does, per mixing mode: G(i, j) at the
 * pre-trained model, then for each chosen pair a brief full-network fine-tune on that pair only (uniform policy,
 * a one-pair distribution, no selection) from the same weights; the Spearman rank correlation of G with the realised
 * change of the validation objective. Returns the Markdown it writes.
 *
 * @throws `SelmixError` `INVALID_VALUE` for fewer than 3 pairs; the trainer's and the dataset's codes.
 */
export async function runGainFidelity(o: GainFidelityOptions): Promise<string> {
  if (!(o.pairs >= 3)) throw new SelmixError("INVALID_VALUE", `--pairs must be at least 3 for a rank correlation, got ${o.pairs}`);
  const t0 = performance.now();
  const manifest = await loadManifest(join(o.from, "manifest.json"));
  const splits = await materialize(manifest);
  const { model } = modelFromCheckpoint(join(o.from, "best.ckpt"));
  const dataset = datasetsFor("ablations", [manifest.source.name]).find((d) => d.source === manifest.source.name)!;
  const settings = profileSettings(o.profile);
  const base: FinetuneConfig = {
    ...settings.fullNetwork(o.objective, 0, dataset),
    policy: "uniform",
    steps: o.steps,
    refreshEvery: o.steps,
    earlyStop: false,
    selectBest: false,
    workers: 1,
  };
  const k = model.numClasses;
  try {
    const start = model.getWeights();
    const val = splits.validation;
    const view = await predict(model, val.dataset, val.indices, { withFeatures: true });
    const labels = Int32Array.from(val.indices, (i) => val.dataset.labels[i]!);
    const objective = createObjective(o.objective, base.objectiveOptions);
    const refresh = refreshPolicy(
      0,
      { labels, features: view.features!, probabilities: view.probabilities, predicted: view.predicted },
      model.headWeights(),
      k,
      model.featureDim,
      objective,
      undefined,
      { policy: "selmix", lambdaMin: base.lambdaMin, temperature: base.temperature, temperatureScale: base.temperatureScale, gain: gainSwitches(base) },
    );
    const measures: PairMeasure[] = spreadPairs(refresh.gain, o.pairs).map((p) => ({ i: Math.floor(p / k), j: p % k, gain: refresh.gain[p]!, delta: {} }));
    const seconds: Record<string, number> = {};
    for (const mode of o.modes) {
      const t = performance.now();
      for (const m of measures) {
        model.setWeights(start);
        const onePair = new Float64Array(k * k);
        onePair[m.i * k + m.j] = 1;
        const config = { ...base, ...(mode === "feature" ? {} : { mixing: mode }) };
        const r = await finetune(model, { labeled: splits.labeled, validation: splits.validation }, config, { pairDistribution: onePair });
        m.delta[mode] = r.diagnostics.at(-1)!.objective - r.diagnostics[0]!.objective;
        o.log(`${mode} (${m.i}, ${m.j}): G ${m.gain.toExponential(3)}, change ${(100 * m.delta[mode]).toFixed(2)} points`);
      }
      seconds[mode] = (performance.now() - t) / 1000;
    }
    const rho = Object.fromEntries(o.modes.map((mode) => [mode, spearman(measures.map((m) => m.gain), measures.map((m) => m.delta[mode]!))]));
    const md = renderFidelity(o, `${manifest.source.name}, ${startOf(o.from, model.arch)}`, base, measures, rho, seconds, (performance.now() - t0) / 1000);
    const name = `gain-fidelity-${o.objective}`;
    writeFileAtomic(join(o.out, `${name}.json`), `${JSON.stringify({ command: o.command, from: o.from, objective: o.objective, steps: o.steps, config: base, pairs: measures, spearman: rho, seconds }, null, 2)}\n`);
    writeFileAtomic(join(o.out, `${name}.md`), md);
    return md;
  } finally {
    model.dispose();
  }
}

/** What the pre-training run was, from its config.json (the model only when there is none). */
function startOf(from: string, arch: string): string {
  const path = join(from, "config.json");
  if (!existsSync(path)) return arch;
  const c = JSON.parse(readFileSync(path, "utf8")) as { method?: string; model?: string; steps?: number; augment?: string; seed?: number };
  return `${c.method?.toUpperCase() ?? "?"} ${c.model ?? arch}, ${c.steps ?? "?"} pre-training steps, augment ${c.augment ?? "?"}, seed ${c.seed ?? "?"}`;
}

function renderFidelity(
  o: GainFidelityOptions,
  start: string,
  base: FinetuneConfig,
  measures: readonly PairMeasure[],
  rho: Record<string, number>,
  seconds: Record<string, number>,
  total: number,
): string {
  const header = ["pair (i, j)", "G(i, j)", ...o.modes.map((m) => `Δ ${m} (points)`)];
  const lines = [
    `## Gain fidelity: G(i, j) vs the realised change of validation ${o.objective} (${start})`,
    "",
    `Rendered by \`${o.command}\` in ${formatDuration(total)}. G at the pre-trained model (${base.gainVariant} gain); each pair: ` +
      `${o.steps} full-network steps on that pair only (batch ${base.batchSize}, lr ${base.lr}, backbone × ${base.backboneLrFactor}, λ ~ U(${base.lambdaMin}, 1), x₁'s label) from the same weights; ` +
      `${measures.length} pairs evenly spaced over the ranks of G.`,
    "",
    `| ${header.join(" | ")} |`,
    `|---|${header.slice(1).map(() => "---:").join("|")}|`,
    ...measures.map((m) => `| (${m.i}, ${m.j}) | ${m.gain.toExponential(2)} | ${o.modes.map((mode) => (100 * m.delta[mode]!).toFixed(2)).join(" | ")} |`),
    `| **Spearman ρ** | | ${o.modes.map((mode) => `**${rho[mode]!.toFixed(2)}**`).join(" | ")} |`,
    `| time | | ${o.modes.map((mode) => formatDuration(seconds[mode]!)).join(" | ")} |`,
    "",
  ];
  return `${lines.join("\n")}\n`;
}

/** The modes of `--modes` (comma-separated). */
export function parseModes(list: string): MixingMode[] {
  const modes = list.split(",").map((s) => s.trim());
  for (const m of modes) {
    if (!MIXING_MODES.includes(m as MixingMode)) throw new SelmixError("INVALID_ARGUMENT", `--modes: unknown mixing "${m}"; expected ${MIXING_MODES.join(", ")}`);
  }
  return modes as MixingMode[];
}
