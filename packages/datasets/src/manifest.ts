import { readFile } from "node:fs/promises";
import { SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import { classHistogram, type Dataset } from "./dataset.ts";
import { sha256Hex } from "./hash.ts";
import { canonicalJson, stringifyCompact } from "./json.ts";
import { PROFILE_NAMES, type ProfileName, type ProfileParams } from "./profiles.ts";
import { type ChecksumStatus, type LoadSourceOptions, loadSource, SOURCE_NAMES, type Source, type SourceName } from "./sources.ts";
import { drawSplits } from "./splits.ts";

/** The pool a split indexes: the official training, test or (STL-10) unlabelled split. */
export type SplitPool = "train" | "test" | "unlabeled";

/** The names of the four splits. */
export type SplitName = "labeled" | "unlabeled" | "validation" | "test";

/** One split in a manifest: sorted indices into a pool. */
export interface ManifestSplit {
  /** The pool the indices point into. */
  readonly pool: SplitPool;
  /** Sorted indices into the pool. */
  readonly indices: readonly number[];
}

/** Per-split values (counts per class, totals, index lists). */
export type PerSplit<T> = { readonly [S in SplitName]: T };

/**
 * A dataset manifest: everything needed to rebuild the exact splits. Written as JSON with a fixed key order and no
 * timestamps, so the same source, profile and seed give byte-identical files.
 */
export interface Manifest {
  /** Format tag, always `selmix-datasets-manifest`. */
  readonly format: "selmix-datasets-manifest";
  /** Format version. */
  readonly version: 1;
  /** SHA-256 of the canonical JSON (sorted keys, no whitespace) of every other field. */
  readonly id: string;
  /** The data source the splits were drawn from. */
  readonly source: {
    /** Source name. */
    readonly name: SourceName;
    /** Checksum verification outcome when the manifest was created. */
    readonly checksum: ChecksumStatus;
    /** Decoded files and their SHA-256, in load order. */
    readonly files: readonly {
      /** Decoded file name. */
      readonly name: string;
      /** SHA-256 of the decoded bytes. */
      readonly sha256: string;
    }[];
    /** Image height in pixels. */
    readonly height: number;
    /** Image width in pixels. */
    readonly width: number;
    /** Channels per pixel. */
    readonly channels: number;
    /** Number of classes K. */
    readonly numClasses: number;
    /** Images in each pool (`unlabeled` is null without an official unlabelled split). */
    readonly sizes: {
      /** Images in the training pool. */
      readonly train: number;
      /** Images in the test pool. */
      readonly test: number;
      /** Images in the unlabelled pool, or null. */
      readonly unlabeled: number | null;
    };
  };
  /** Seed the splits were drawn with. */
  readonly seed: number;
  /** Resolved long-tail profile. */
  readonly profile: ProfileParams;
  /** Per-class counts; `unlabeled` is `[]` when there is no unlabelled set or its labels are unknown (STL-10). */
  readonly counts: PerSplit<readonly number[]>;
  /** Number of images per split. */
  readonly totals: PerSplit<number>;
  /** Indices of every split. */
  readonly splits: PerSplit<ManifestSplit>;
}

/** A split as data: the pool's dataset and the indices into it. */
export interface Subset {
  /** The pool's dataset. */
  readonly dataset: Dataset;
  /** Indices of the split's images in `dataset`. */
  readonly indices: Int32Array;
}

/** The materialised splits of a manifest. */
export interface Splits {
  /** The manifest the splits were materialised from. */
  readonly manifest: Manifest;
  /** The loaded source. */
  readonly source: Source;
  /** Labelled training split. */
  readonly labeled: Subset;
  /** Unlabelled training split. */
  readonly unlabeled: Subset;
  /** Balanced validation split. */
  readonly validation: Subset;
  /** Test split. */
  readonly test: Subset;
}

const SPLITS: readonly SplitName[] = ["labeled", "unlabeled", "validation", "test"];

function withId(body: Omit<Manifest, "id">): Manifest {
  const id = sha256Hex(canonicalJson(body));
  const { format, version, ...rest } = body;
  return { format, version, id, ...rest };
}

function poolOf(pools: { train: Dataset; test: Dataset; unlabeled?: Dataset }, pool: SplitPool): Dataset | undefined {
  return pools[pool];
}

/**
 * Draws the splits of `params` from `source` with `seed` (see {@link drawSplits}) and records them in a manifest.
 *
 * @param source - The loaded source.
 * @param params - Resolved long-tail profile.
 * @param seed - Seed of the splits (an integer).
 * @throws `SelmixError` `INVALID_ARGUMENT` when a class is too small for the profile, `INVALID_VALUE` for a
 *   bad seed.
 * @example
 * {@includeCode ./examples.test.ts#createManifest}
 */
export function createManifest(source: Source, params: ProfileParams, seed: number): Manifest {
  const drawn = drawSplits(source, params, seed);
  const k = source.train.numClasses;
  const pools: PerSplit<SplitPool> = {
    labeled: "train",
    unlabeled: params.unlabeledPool === "unlabeled" ? "unlabeled" : "train",
    validation: "train",
    test: "test",
  };
  const hist = (split: SplitName): number[] => {
    if (split === "unlabeled" && (pools.unlabeled === "unlabeled" || drawn.unlabeled.length === 0)) return [];
    const dataset = poolOf(source, pools[split])!;
    return classHistogram(dataset.labels, k, drawn[split]);
  };
  return withId({
    format: "selmix-datasets-manifest",
    version: 1,
    source: {
      name: source.name,
      checksum: source.checksum,
      files: source.files.map((f) => ({ name: f.name, sha256: f.sha256 })),
      height: source.train.height,
      width: source.train.width,
      channels: source.train.channels,
      numClasses: k,
      sizes: {
        train: source.train.labels.length,
        test: source.test.labels.length,
        unlabeled: source.unlabeled === undefined ? null : source.unlabeled.labels.length,
      },
    },
    seed,
    profile: { ...params },
    counts: { labeled: hist("labeled"), unlabeled: hist("unlabeled"), validation: hist("validation"), test: hist("test") },
    totals: {
      labeled: drawn.labeled.length,
      unlabeled: drawn.unlabeled.length,
      validation: drawn.validation.length,
      test: drawn.test.length,
    },
    splits: {
      labeled: { pool: pools.labeled, indices: Array.from(drawn.labeled) },
      unlabeled: { pool: pools.unlabeled, indices: Array.from(drawn.unlabeled) },
      validation: { pool: pools.validation, indices: Array.from(drawn.validation) },
      test: { pool: pools.test, indices: Array.from(drawn.test) },
    },
  });
}

/**
 * The manifest's JSON text: fixed key order, 2-space indentation, index lists on one line, final newline.
 *
 * @example
 * {@includeCode ./examples.test.ts#serializeManifest}
 */
export function serializeManifest(manifest: Manifest): string {
  return `${stringifyCompact(manifest)}\n`;
}

/**
 * Writes `manifest` to `path` atomically (temporary file + rename; parent folders are created).
 * @example
 * {@includeCode ./examples.test.ts#writeManifest}
 */
export function writeManifest(path: string, manifest: Manifest): void {
  writeFileAtomic(path, serializeManifest(manifest));
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

class Invalid extends Error {}

function fail(path: string, what: string): never {
  throw new Invalid(`${path} ${what}`);
}

function obj(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(path, "must be an object");
  return value as Record<string, unknown>;
}

function int(value: unknown, path: string, min = 0): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) fail(path, `must be an integer >= ${min}`);
  return value;
}

function positive(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) fail(path, "must be a finite number > 0");
  return value;
}

function oneOf<T extends string>(value: unknown, options: readonly T[], path: string): T {
  if (typeof value !== "string" || !(options as readonly string[]).includes(value)) fail(path, `must be one of ${options.join(", ")}`);
  return value as T;
}

function intArray(value: unknown, path: string): number[] {
  if (!Array.isArray(value)) fail(path, "must be an array of integers");
  value.forEach((v, i) => {
    int(v, `${path}[${i}]`);
  });
  return value as number[];
}

function hex64(value: unknown, path: string): string {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) fail(path, "must be a lower-case hex SHA-256");
  return value;
}

function parseProfile(value: unknown): ProfileParams {
  const p = obj(value, "profile");
  if (typeof p.balancedTest !== "boolean") fail("profile.balancedTest", "must be a boolean");
  return {
    name: oneOf<ProfileName>(p.name, PROFILE_NAMES, "profile.name"),
    n1: int(p.n1, "profile.n1"),
    rhoL: positive(p.rhoL, "profile.rhoL"),
    m1: int(p.m1, "profile.m1"),
    rhoU: p.rhoU === null ? null : positive(p.rhoU, "profile.rhoU"),
    valPerClass: int(p.valPerClass, "profile.valPerClass"),
    balancedTest: p.balancedTest,
    unlabeledPool: oneOf(p.unlabeledPool, ["train", "unlabeled"] as const, "profile.unlabeledPool"),
  };
}

function parseUnchecked(value: unknown): Manifest {
  const m = obj(value, "manifest");
  if (m.format !== "selmix-datasets-manifest") fail("format", `must be "selmix-datasets-manifest"`);
  if (m.version !== 1) fail("version", "must be 1 (the only version this package reads)");
  const id = hex64(m.id, "id");
  const s = obj(m.source, "source");
  if (!Array.isArray(s.files)) fail("source.files", "must be an array");
  const sizes = obj(s.sizes, "source.sizes");
  const source: Manifest["source"] = {
    name: oneOf<SourceName>(s.name, SOURCE_NAMES, "source.name"),
    checksum: oneOf<ChecksumStatus>(s.checksum, ["verified", "mismatch", "unknown"], "source.checksum"),
    files: s.files.map((f, i) => {
      const file = obj(f, `source.files[${i}]`);
      if (typeof file.name !== "string" || file.name === "") fail(`source.files[${i}].name`, "must be a non-empty string");
      return { name: file.name, sha256: hex64(file.sha256, `source.files[${i}].sha256`) };
    }),
    height: int(s.height, "source.height", 1),
    width: int(s.width, "source.width", 1),
    channels: int(s.channels, "source.channels", 1),
    numClasses: int(s.numClasses, "source.numClasses", 2),
    sizes: {
      train: int(sizes.train, "source.sizes.train"),
      test: int(sizes.test, "source.sizes.test"),
      unlabeled: sizes.unlabeled === null ? null : int(sizes.unlabeled, "source.sizes.unlabeled"),
    },
  };
  const counts = obj(m.counts, "counts");
  const totals = obj(m.totals, "totals");
  const splits = obj(m.splits, "splits");
  const per = <T>(f: (name: SplitName) => T): PerSplit<T> =>
    ({ labeled: f("labeled"), unlabeled: f("unlabeled"), validation: f("validation"), test: f("test") }) as PerSplit<T>;
  const parsedSplits = per((name) => {
    const split = obj(splits[name], `splits.${name}`);
    return {
      pool: oneOf<SplitPool>(split.pool, ["train", "test", "unlabeled"], `splits.${name}.pool`),
      indices: intArray(split.indices, `splits.${name}.indices`),
    };
  });
  const parsedCounts = per((name) => intArray(counts[name], `counts.${name}`));
  const parsedTotals = per((name) => int(totals[name], `totals.${name}`));
  for (const name of SPLITS) {
    const { indices, pool } = parsedSplits[name];
    if (indices.length !== parsedTotals[name]) fail(`totals.${name}`, `is ${parsedTotals[name]} but the split lists ${indices.length} indices`);
    const c = parsedCounts[name];
    if (c.length !== 0 && c.length !== source.numClasses) fail(`counts.${name}`, `must list ${source.numClasses} classes`);
    if (c.length !== 0 && c.reduce((a, b) => a + b, 0) !== indices.length) fail(`counts.${name}`, `does not sum to ${indices.length}`);
    const size = source.sizes[pool];
    if (size === null) fail(`splits.${name}.pool`, `is "${pool}" but the source has no such split`);
    for (let i = 0; i < indices.length; i++) {
      if (indices[i]! >= size) fail(`splits.${name}.indices[${i}]`, `= ${indices[i]} is out of range 0..${size - 1}`);
      if (i > 0 && indices[i]! <= indices[i - 1]!) fail(`splits.${name}.indices`, "must be strictly increasing");
    }
  }
  const seen = new Uint8Array(source.sizes.train);
  for (const name of SPLITS) {
    if (parsedSplits[name].pool !== "train") continue;
    for (const i of parsedSplits[name].indices) {
      if (seen[i] === 1) fail(`splits.${name}.indices`, `shares index ${i} with another split of the training pool`);
      seen[i] = 1;
    }
  }
  const body: Omit<Manifest, "id"> = {
    format: "selmix-datasets-manifest",
    version: 1,
    source,
    seed: int(m.seed, "seed"),
    profile: parseProfile(m.profile),
    counts: parsedCounts,
    totals: parsedTotals,
    splits: parsedSplits,
  };
  const manifest = withId(body);
  if (manifest.id !== id) {
    throw new SelmixError("MISMATCH", `manifest id ${id} does not match its content (${manifest.id}): the file was edited`);
  }
  return manifest;
}

/**
 * Validates a parsed manifest JSON value and returns it with the canonical key order.
 *
 * @throws `SelmixError` `PARSE_ERROR` naming the first bad field, `MISMATCH` if the `id` does not match the
 *   content (the file was edited by hand).
 * @example
 * {@includeCode ./examples.test.ts#parseManifest}
 */
export function parseManifest(value: unknown): Manifest {
  try {
    return parseUnchecked(value);
  } catch (error) {
    if (error instanceof Invalid) throw new SelmixError("PARSE_ERROR", `manifest: ${error.message}`);
    throw error;
  }
}

/**
 * {@link parseManifest} as a result: `{ success: true, data }` or `{ success: false, error }`. Never throws.
 *
 * @example
 * {@includeCode ./examples.test.ts#safeParseManifest}
 */
export function safeParseManifest(
  value: unknown,
):
  | {
      /** The value parsed. */
      readonly success: true;
      /** The parsed manifest. */
      readonly data: Manifest;
    }
  | {
      /** The value did not parse. */
      readonly success: false;
      /** The error {@link parseManifest} would have thrown. */
      readonly error: SelmixError;
    } {
  try {
    return { success: true, data: parseManifest(value) };
  } catch (error) {
    if (error instanceof SelmixError) return { success: false, error };
    throw error;
  }
}

/**
 * Reads and validates a manifest file.
 *
 * @throws `SelmixError` `NOT_FOUND` if it cannot be read, `PARSE_ERROR` (naming the file) if it is not JSON or
 *   a field is invalid, `MISMATCH` if its id does not match its content.
 * @example
 * {@includeCode ./examples.test.ts#loadManifest}
 */
export async function loadManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new SelmixError("NOT_FOUND", `${path}: cannot read manifest (${(error as NodeJS.ErrnoException).code ?? "error"})`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SelmixError("PARSE_ERROR", `${path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  try {
    return parseManifest(json);
  } catch (error) {
    if (error instanceof SelmixError) throw new SelmixError(error.code, `${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Rebuilds the splits of `manifest` from an already loaded `source`, checking that the source is the one the
 * manifest was built from (name, decoded-file SHA-256, shapes, sizes) and that the recorded per-class counts match
 * the labels.
 *
 * @throws `SelmixError` `MISMATCH` naming what differs.
 * @example
 * {@includeCode ./examples.test.ts#splitsFromManifest}
 */
export function splitsFromManifest(source: Source, manifest: Manifest): Splits {
  const s = manifest.source;
  const mismatch = (what: string): never => {
    throw new SelmixError("MISMATCH", `manifest ${manifest.id.slice(0, 12)} does not match source ${source.name}: ${what}`);
  };
  if (s.name !== source.name) mismatch(`it was built from ${s.name}`);
  const found = new Map(source.files.map((f) => [f.name, f.sha256]));
  for (const f of s.files) {
    const sha = found.get(f.name);
    if (sha === undefined) mismatch(`file ${f.name} was not loaded`);
    if (sha !== f.sha256) mismatch(`file ${f.name} has SHA-256 ${sha}, the manifest recorded ${f.sha256}`);
  }
  const t = source.train;
  if (t.height !== s.height || t.width !== s.width || t.channels !== s.channels || t.numClasses !== s.numClasses) {
    mismatch(`shape ${t.height}x${t.width}x${t.channels}/${t.numClasses} classes, recorded ${s.height}x${s.width}x${s.channels}/${s.numClasses}`);
  }
  const pools = { train: source.train, test: source.test, unlabeled: source.unlabeled };
  const subset = (name: SplitName): Subset => {
    const split = manifest.splits[name];
    const dataset = pools[split.pool];
    if (dataset === undefined) return mismatch(`split ${name} needs the ${split.pool} pool, which was not loaded`);
    if (dataset.labels.length !== s.sizes[split.pool]) {
      mismatch(`the ${split.pool} pool has ${dataset.labels.length} images, recorded ${s.sizes[split.pool]}`);
    }
    const indices = Int32Array.from(split.indices);
    const counts = manifest.counts[name];
    if (counts.length > 0 && classHistogram(dataset.labels, s.numClasses, indices).join() !== counts.join()) {
      mismatch(`the labels of split ${name} do not give the recorded counts`);
    }
    return { dataset, indices };
  };
  return {
    manifest,
    source,
    labeled: subset("labeled"),
    unlabeled: subset("unlabeled"),
    validation: subset("validation"),
    test: subset("test"),
  };
}

/**
 * Loads the manifest's source (see {@link loadSource}; the recorded STL-10 size and unlabelled count are reused)
 * and rebuilds its splits exactly, checking the decoded files' SHA-256 against the manifest.
 *
 * @throws `SelmixError` the codes of {@link loadSource}, and `MISMATCH` if the data differ from those the
 *   manifest was built from.
 * @example
 * {@includeCode ./examples.test.ts#materialize}
 */
export async function materialize(manifest: Manifest, options: LoadSourceOptions = {}): Promise<Splits> {
  const s = manifest.source;
  const stl = s.name === "stl10";
  // The manifest's SHA-256s pin the files, so subsets (fewer records than the official files) need no count check.
  const source = await loadSource(s.name, {
    strictCounts: false,
    ...options,
    ...(stl ? { stl10Size: s.height, includeUnlabeled: s.sizes.unlabeled !== null } : {}),
    ...(stl && s.sizes.unlabeled !== null ? { unlabeledLimit: s.sizes.unlabeled } : {}),
  });
  return splitsFromManifest(source, manifest);
}

/**
 * Loads `source`, draws the profile's splits with `seed` and returns them with their manifest: the one-call way to
 * build a long-tailed dataset.
 *
 * @param sourceName - Name of the data source to load.
 * @param params - Resolved long-tail profile.
 * @param seed - Seed of the splits.
 * @param options - Where and how to load the source.
 * @throws `SelmixError` the codes of {@link loadSource} and {@link createManifest}.
 * @example
 * {@includeCode ./examples.test.ts#buildSplits}
 */
export async function buildSplits(
  sourceName: string,
  params: ProfileParams,
  seed: number,
  options: LoadSourceOptions = {},
): Promise<Splits> {
  const source = await loadSource(sourceName, options);
  return splitsFromManifest(source, createManifest(source, params, seed));
}
