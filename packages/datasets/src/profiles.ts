import { SelmixError } from "@selmix/core";

/** The paper's long-tail settings (method notes, section 8), and `natural`: the source's own imbalance. */
export type ProfileName = "supervised" | "semi-supervised" | "cifar100" | "stl10" | "natural";

/**
 * Every {@link ProfileName}.
 *
 * @example
 * {@includeCode ./examples.test.ts#PROFILE_NAMES}
 */
export const PROFILE_NAMES: readonly ProfileName[] = ["supervised", "semi-supervised", "cifar100", "stl10", "natural"];

/** Resolved parameters of a long-tail profile, as recorded in a manifest. */
export interface ProfileParams {
  /** Profile name. */
  readonly name: ProfileName;
  /** Labelled count of class 0 (the head); for `natural` the cap of every class. */
  readonly n1: number;
  /** Labelled imbalance ratio rho_l = N_1 / N_K; 1 (unused) for `natural`. */
  readonly rhoL: number;
  /** Unlabelled count of class 0; 0 when the profile draws no unlabelled set from the training split. */
  readonly m1: number;
  /** Unlabelled ratio rho_u (1 = uniform, < 1 = inverted); null when there is no long-tailed unlabelled set. */
  readonly rhoU: number | null;
  /** Balanced validation images per class, held out of the training split first. */
  readonly valPerClass: number;
  /** Subsample the official test split to the smallest class count (seeded) for an exactly balanced test set. */
  readonly balancedTest: boolean;
  /** Where the unlabelled set comes from: the training split, or STL-10's official unlabelled split (all of it). */
  readonly unlabeledPool: "train" | "unlabeled";
}

/** Overrides of a profile's defaults (CLI flags `--n1 --rho --rho-l --m1 --rho-u --val-per-class --balanced-test`). */
export interface ProfileOptions {
  /** Labelled count of class 0. */
  readonly n1?: number;
  /** Alias of `rhoL`. */
  readonly rho?: number;
  /** Labelled imbalance ratio N_1 / N_K. */
  readonly rhoL?: number;
  /** Unlabelled count of class 0. */
  readonly m1?: number;
  /** Unlabelled imbalance ratio (1 = uniform, < 1 = inverted). */
  readonly rhoU?: number;
  /** Validation images per class. */
  readonly valPerClass?: number;
  /** Subsample the test split to an exactly balanced one. */
  readonly balancedTest?: boolean;
}

function checkCount(name: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 0)) {
    throw new SelmixError("INVALID_VALUE", `${name} must be an integer >= 0, got ${value}`);
  }
  return value;
}

function checkRatio(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new SelmixError("INVALID_VALUE", `${name} must be finite and > 0, got ${value}`);
  return value;
}

/**
 * Resolves a named profile with overrides. Defaults:
 *
 * | profile | N1 | rho_l | M1 | rho_u | validation/class |
 * |---|---|---|---|---|---|
 * | `supervised` | 5000 | 100 | 0 | - | 500 |
 * | `semi-supervised` | 1500 | 100 | 3000 (30 when rho_u < 1) | 100 | 500 |
 * | `cifar100` | 150 | 10 | 300 | 10 | 50 |
 * | `stl10` | 450 | 10 | official unlabelled split | - | 50 |
 * | `natural` | cap 1000000 | the source's | 0 | - | 10 |
 *
 * `natural` keeps the source's own imbalance: after validation, every remaining training sample of a class is
 * labelled, at most N1 per class (the default caps nothing); it takes no `rho`/`rhoL` (recorded as 1). It is the
 * profile of the WordNet-nouns sources, whose tail category has 42 synsets (15 test + 10 validation + 17 labelled).
 *
 * For an inverted unlabelled profile (rho_u < 1) M1 is the count of class 0, the smallest: the paper's
 * `(1500, 30, 100, 0.01)`, hence the default `round(3000 * rho_u)`. STL-10's validation set is held out of the
 * training split (500/class = 450 + 50), disjoint from the labelled set, unlike the reference code's overlapping one.
 *
 * @throws `SelmixError` `INVALID_ARGUMENT` for an unknown profile, `rho` and `rhoL` both given and different,
 *   an unlabelled option on a profile without one, or a ratio for `natural`; `INVALID_VALUE` for a count that is not an integer >= 0 or a
 *   ratio that is not finite and > 0.
 * @example
 * {@includeCode ./examples.test.ts#resolveProfile}
 */
export function resolveProfile(name: string, options: ProfileOptions = {}): ProfileParams {
  if (!(PROFILE_NAMES as readonly string[]).includes(name)) {
    throw new SelmixError("INVALID_ARGUMENT", `unknown profile "${name}", expected one of ${PROFILE_NAMES.join(", ")}`);
  }
  const profile = name as ProfileName;
  if (options.rho !== undefined && options.rhoL !== undefined && options.rho !== options.rhoL) {
    throw new SelmixError("INVALID_ARGUMENT", `rho (${options.rho}) and rhoL (${options.rhoL}) disagree; give one`);
  }
  const rhoOption = options.rhoL ?? options.rho;
  const hasUnlabeled = profile === "semi-supervised" || profile === "cifar100";
  if (profile === "natural" && rhoOption !== undefined) {
    throw new SelmixError("INVALID_ARGUMENT", `profile "natural" keeps the source's imbalance; rho and rhoL do not apply`);
  }
  if (!hasUnlabeled && (options.m1 !== undefined || options.rhoU !== undefined)) {
    throw new SelmixError("INVALID_ARGUMENT", `profile "${profile}" has no long-tailed unlabelled set; m1 and rhoU do not apply`);
  }
  const defaults = {
    supervised: { n1: 5000, rhoL: 100, m1: 0, rhoU: null, valPerClass: 500 },
    "semi-supervised": { n1: 1500, rhoL: 100, m1: 3000, rhoU: 100, valPerClass: 500 },
    cifar100: { n1: 150, rhoL: 10, m1: 300, rhoU: 10, valPerClass: 50 },
    stl10: { n1: 450, rhoL: 10, m1: 0, rhoU: null, valPerClass: 50 },
    natural: { n1: 1_000_000, rhoL: 1, m1: 0, rhoU: null, valPerClass: 10 },
  }[profile];
  const rhoU = hasUnlabeled ? checkRatio("rhoU", options.rhoU ?? (defaults.rhoU as number)) : null;
  const m1Default = rhoU !== null && rhoU < 1 ? Math.round(defaults.m1 * rhoU) : defaults.m1;
  return {
    name: profile,
    n1: checkCount("n1", options.n1 ?? defaults.n1),
    rhoL: checkRatio("rhoL", rhoOption ?? defaults.rhoL),
    m1: checkCount("m1", options.m1 ?? m1Default),
    rhoU,
    valPerClass: checkCount("valPerClass", options.valPerClass ?? defaults.valPerClass),
    balancedTest: options.balancedTest ?? false,
    unlabeledPool: profile === "stl10" ? "unlabeled" : "train",
  };
}
