import type { ObjectiveName } from "@selmix/metrics";
import { OBJECTIVE_NAMES } from "@selmix/metrics";

/**
 * The reference's per-setting fine-tuning values, each with where it comes from: a section of the method notes
 * (`selmix-method.md`, which reads the released configs `configs/cifar10/*`, `configs/cifar100/*`).
 */
export interface ReferenceValues {
  /** Temperature T of the pair distribution (`DistTemp`). */
  readonly temperature: number;
  /** Largest coverage multiplier λ_max (coverage objectives only; recorded for all). */
  readonly lambdaMax: number;
  /** Head learning rate (backbone lr/10). */
  readonly lr: number;
  /** The method-notes section of each value. */
  readonly sources: { readonly temperature: string; readonly lambdaMax: string; readonly lr: string };
}

/** A bench dataset setting the paper profile runs: its dataset id (see `datasets.ts`) and what it stands for. */
export interface ReferenceSetting {
  readonly id: string;
  /** The reference config family whose values it takes, and why when it has none of its own. */
  readonly basis: string;
}

/** The paper profile's settings: the semi-supervised CIFAR ones have reference configs; the supervised ones do not. */
export const REFERENCE_SETTINGS: readonly ReferenceSetting[] = [
  { id: "cifar10-lt-u100", basis: "CIFAR-10 ρ_l = 100, ρ_u = 100 (method notes §6 per-config table)" },
  { id: "cifar10-lt-u1", basis: "CIFAR-10 ρ_l = 100, ρ_u = 1 (method notes §6 per-config table)" },
  { id: "cifar10-lt-u0.01", basis: "CIFAR-10 ρ_u = 0.01, M1 = 30 (method notes §6 per-config table)" },
  { id: "cifar100-lt-u10", basis: "CIFAR-100 ρ_l = ρ_u = 10 (method notes §6 per-config table)" },
  {
    id: "cifar10-lt",
    basis: "supervised CIFAR-10-LT: no released config (§6: the MiSLAS fine-tuning code is not released), so the CIFAR-10 ρ_u = 100 values",
  },
  {
    id: "cifar100-lt",
    basis: "supervised CIFAR-100-LT: no released config (§6: the MiSLAS fine-tuning code is not released), so the CIFAR-100 values",
  },
];

const T_DEFAULT = "§5.1 T table / §6 per-config table: T = 0.1 for every CIFAR-10 objective not listed otherwise";
const LAMBDA_DEFAULT = "§3.3 item 4 / §6: λ_max = 100 in every coverage config except CIFAR-10 ρ_u = 0.01";
const LR_DEFAULT = "§6 schedule table: base lr 3e-4 for every config except CIFAR-10 ρ_u = 0.01 mean recall / min coverage";
const REFERENCE_DEFAULT: ReferenceValues = {
  temperature: 0.1,
  lambdaMax: 100,
  lr: 3e-4,
  sources: { temperature: T_DEFAULT, lambdaMax: LAMBDA_DEFAULT, lr: LR_DEFAULT },
};

/** The configs whose values differ from the default, exactly as the notes list them. */
const EXCEPTIONS: readonly { readonly family: "cifar10-u0.01" | "cifar100"; readonly objective: ObjectiveName; readonly values: Partial<ReferenceValues> }[] = [
  {
    family: "cifar10-u0.01",
    objective: "min-recall",
    values: { temperature: 0.05, sources: { ...REFERENCE_DEFAULT.sources, temperature: "§5.1 T table, §6 per-config table: CIFAR-10 ρ_u = 0.01 min_recall T = 0.05" } },
  },
  {
    family: "cifar10-u0.01",
    objective: "mean-recall-min-coverage",
    values: {
      temperature: 0.01,
      lambdaMax: 1000,
      lr: 1e-4,
      sources: {
        temperature: "§5.1 T table, §6 per-config table: CIFAR-10 ρ_u = 0.01 mean_recall_min_coverage T = 0.01",
        lambdaMax: "§3.3 item 4, §6 per-config table: λ_max = 1000 for the CIFAR-10 ρ_u = 0.01 config",
        lr: "§6 schedule table and per-config table: lr = 1e-4 for CIFAR-10 ρ_u = 0.01 mean recall / min coverage",
      },
    },
  },
  {
    family: "cifar100",
    objective: "mean-recall",
    values: { temperature: 1, sources: { ...REFERENCE_DEFAULT.sources, temperature: "§5.1 T table, §6 per-config table: CIFAR-100 mean_recall T = 1.0" } },
  },
  {
    family: "cifar100",
    objective: "min-head-tail-recall",
    values: { temperature: 0.05, sources: { ...REFERENCE_DEFAULT.sources, temperature: "§5.1 T table, §6 per-config table: CIFAR-100 min_HT_recall T = 0.05" } },
  },
];

function familyOf(settingId: string): "cifar10" | "cifar10-u0.01" | "cifar100" {
  if (settingId.startsWith("cifar100")) return "cifar100";
  return settingId === "cifar10-lt-u0.01" ? "cifar10-u0.01" : "cifar10";
}

/**
 * The reference's T, λ_max and lr for a bench dataset setting and objective, with their sources. CIFAR-100 objectives
 * other than mean recall and min head-tail recall have no reference config (§6 lists only those two); they take the
 * default T = 0.1 of §12 / §13.2, and their source says so.
 */
export function referenceValues(settingId: string, objective: ObjectiveName): ReferenceValues {
  if (!REFERENCE_SETTINGS.some((s) => s.id === settingId)) {
    const none = `no reference config for ${settingId} (the released configs are CIFAR only, §6): the §13.2 default`;
    return { ...REFERENCE_DEFAULT, sources: { temperature: `${none} T = 0.1`, lambdaMax: `${none} λ_max = 100`, lr: `${none} lr = 3e-4` } };
  }
  const family = familyOf(settingId);
  const hit = EXCEPTIONS.find((e) => e.family === family && e.objective === objective);
  if (hit !== undefined) return { ...REFERENCE_DEFAULT, ...hit.values };
  if (family === "cifar100") {
    const none = "no CIFAR-100 config for this objective (§6 lists mean_recall and min_HT_recall only): the §12 / §13.2 default";
    return { ...REFERENCE_DEFAULT, sources: { temperature: `${none} T = 0.1`, lambdaMax: `${none} λ_max = 100`, lr: `${none} lr = 3e-4` } };
  }
  return REFERENCE_DEFAULT;
}

/** Values every paper-profile fine-tune shares, each with its method-notes section. */
export const REFERENCE_SHARED = [
  { key: "steps", value: 10_000, source: "§6 schedule table: up to 10,000 iterations" },
  { key: "refreshEvery", value: 50, source: "§5.2: gain, λ, P and sampler rebuilt every 50 iterations" },
  { key: "batchSize", value: 64, source: "§5.3, §6: batch 64 labelled x1 + 64 partners" },
  { key: "backboneLrFactor", value: 0.1, source: "§5.5, §6: backbone lr = lr/10" },
  { key: "weightDecay", value: 5e-4, source: "§5.5, §6: weight decay 5e-4" },
  { key: "lambdaMin", value: 0.6, source: "§5.4: mixup λ ~ U(0.6, 1)" },
  { key: "augment", value: "weak", source: "§5.3 item 4: weak crop 32 (padding 4) + horizontal flip on both x1 and x2" },
  { key: "earlyStop", value: true, source: "§5.2, §10 item 6: early stop when the last max gain is within 5% of the mean of the last 10" },
  { key: "prior", value: "uniform", source: "§2, §10 item 4: 1/π = K, exact for the balanced CIFAR validation sets" },
] as const;

/** Every (setting, objective) pair of the paper profile with its values: the table the bench README prints. */
export function referenceTable(): { setting: ReferenceSetting; objective: ObjectiveName; values: ReferenceValues }[] {
  return REFERENCE_SETTINGS.flatMap((setting) => OBJECTIVE_NAMES.map((objective) => ({ setting, objective, values: referenceValues(setting.id, objective) })));
}

/** The reference values as Markdown (the bench README's `paper-reference` section is this, byte for byte). */
export function referenceTableMarkdown(): string {
  const shared = REFERENCE_SHARED.map(({ key, value, source }) => `| \`${key}\` | ${String(value)} | ${source} |`);
  const rows = referenceTable().map(
    ({ setting, objective, values: v }) =>
      `| \`${setting.id}\` | ${objective} | ${v.temperature} | ${v.lambdaMax} | ${v.lr} | ${v.sources.temperature}; ${v.sources.lambdaMax}; ${v.sources.lr} |`,
  );
  const settings = REFERENCE_SETTINGS.map((s) => `| \`${s.id}\` | ${s.basis} |`);
  return [
    "Generated from `apps/bench/src/paper-settings.ts` (sections of the method notes, `selmix-method.md`).",
    "",
    "| setting | values from |",
    "|---|---|",
    ...settings,
    "",
    "| shared | value | source |",
    "|---|---|---|",
    ...shared,
    "",
    "| setting | objective | T | λ_max | lr | sources (T; λ_max; lr) |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}
