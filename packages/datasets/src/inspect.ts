import { type FileHandle, open, readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { SelmixError } from "@selmix/core";
import { cifarRecordSize, parseCifar } from "./cifar.ts";
import { classHistogram } from "./dataset.ts";
import { sha256Hex } from "./hash.ts";
import { parseIdx, readMaybeGzip } from "./idx.ts";
import { parseStl10Labels, readStl10Images, STL10_SIZE } from "./stl10.ts";
import { readTarMembers } from "./tar.ts";

/** File formats {@link inspectFile} recognises. */
export type FileFormat = "idx" | "cifar10" | "cifar100" | "stl10-images" | "stl10-labels" | "tar";

/**
 * Every {@link FileFormat}.
 *
 * @example
 * {@includeCode ./examples.test.ts#FILE_FORMATS}
 */
export const FILE_FORMATS: readonly FileFormat[] = ["idx", "cifar10", "cifar100", "stl10-images", "stl10-labels", "tar"];

/** What {@link inspectFile} found. */
export interface FileReport {
  /** The inspected path (or tar member). */
  readonly file: string;
  /** The detected or given format. */
  readonly format: FileFormat;
  /** Records (images or labels); for a tar archive, the sum over its members. */
  readonly count: number;
  /** Shape of one record (`[28, 28]` for IDX images, `[]` for labels, `[32, 32, 3]` for CIFAR, HWC). */
  readonly shape: readonly number[];
  /** Images per label, when the file holds labels. */
  readonly labelHistogram?: readonly number[];
  /** SHA-256 of the decoded content (of the whole file; not given for tar archives). */
  readonly sha256?: string;
  /** Tar archives: one report per dataset member. */
  readonly members?: readonly FileReport[];
}

async function head(path: string, n: number): Promise<{ bytes: Uint8Array; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new SelmixError("NOT_FOUND", `${path}: cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`, {
      cause: error,
    });
  }
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(Math.min(n, size));
    await handle.read(bytes, 0, bytes.length, 0);
    return { bytes, size };
  } finally {
    await handle.close();
  }
}

function histogram(labels: ArrayLike<number>): number[] {
  let max = -1;
  for (let i = 0; i < labels.length; i++) max = Math.max(max, labels[i]!);
  return classHistogram(labels, max + 1);
}

/** Guesses a file's format from its name, magic and length. @internal */
export async function detectFormat(path: string): Promise<FileFormat> {
  const name = basename(path);
  if (/\.(tar\.gz|tgz|tar)$/.test(name)) return "tar";
  const { bytes, size } = await head(path, 4);
  if ((bytes[0] === 0x1f && bytes[1] === 0x8b) || (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 8)) return "idx";
  if (/_X\.bin$/.test(name)) return "stl10-images";
  if (/_y\.bin$/.test(name)) return "stl10-labels";
  if (/^(data_batch_\d+|test_batch)\.bin$/.test(name)) return "cifar10";
  if (/^(train|test)\.bin$/.test(name)) return "cifar100";
  if (size > 0 && size % cifarRecordSize("cifar10") === 0) return "cifar10";
  if (size > 0 && size % cifarRecordSize("cifar100") === 0) return "cifar100";
  if (size > 0 && size % (3 * STL10_SIZE * STL10_SIZE) === 0) return "stl10-images";
  throw new SelmixError("PARSE_ERROR", `${path}: cannot tell the format (not IDX, CIFAR or STL-10 by name, magic or length); pass a format`);
}

function reportBytes(file: string, format: Exclude<FileFormat, "tar" | "stl10-images">, bytes: Uint8Array): FileReport {
  const sha256 = sha256Hex(bytes);
  if (format === "idx") {
    const idx = parseIdx(bytes, file);
    const [count = 0, ...shape] = idx.dims;
    return idx.dims.length === 1
      ? { file, format, count, shape, labelHistogram: histogram(idx.data), sha256 }
      : { file, format, count, shape, sha256 };
  }
  if (format === "stl10-labels") {
    const labels = parseStl10Labels(bytes, file);
    return { file, format, count: labels.length, shape: [], labelHistogram: histogram(labels), sha256 };
  }
  const batch = parseCifar(bytes, format, file);
  return { file, format, count: batch.count, shape: [32, 32, 3], labelHistogram: histogram(batch.labels), sha256 };
}

/**
 * Reads and validates one data file and summarises it: format, record shape, count, label histogram, SHA-256.
 * Recognises IDX (raw or gzipped), CIFAR-10/100 `.bin` batches, STL-10 `*_X.bin`/`*_y.bin` and CIFAR `.tar.gz`
 * archives (each `.bin` member is reported). The format is guessed from the name, magic and length unless given.
 *
 * @throws `SelmixError` `NOT_FOUND` if the file cannot be read, `CORRUPT_FILE` naming the file and the
 *   problem if it is truncated or corrupt, `PARSE_ERROR` if the format cannot be told, `INVALID_ARGUMENT` for an
 *   unknown `format` or a folder.
 * @example
 * {@includeCode ./examples.test.ts#inspectFile}
 */
export async function inspectFile(path: string, format?: string): Promise<FileReport> {
  if (format !== undefined && !(FILE_FORMATS as readonly string[]).includes(format)) {
    throw new SelmixError("INVALID_ARGUMENT", `unknown format "${format}", expected one of ${FILE_FORMATS.join(", ")}`);
  }
  if ((await stat(path).catch(() => undefined))?.isDirectory()) {
    throw new SelmixError("INVALID_ARGUMENT", `${path} is a folder, not a data file (inspect one of the files in it)`);
  }
  const fmt = (format as FileFormat | undefined) ?? (await detectFormat(path));
  if (fmt === "tar") {
    const members = await readTarMembers(path, (n) => n.endsWith(".bin"));
    const reports = members.map((m) => {
      const name = basename(m.name);
      const kind = /^(data_batch_\d+|test_batch)\.bin$/.test(name) ? "cifar10" : /^(train|test)\.bin$/.test(name) ? "cifar100" : undefined;
      if (kind === undefined) return { file: `${path}:${m.name}`, format: "tar" as const, count: 0, shape: [], sha256: sha256Hex(m.data) };
      return reportBytes(`${path}:${m.name}`, kind, m.data);
    });
    return { file: path, format: "tar", count: reports.reduce((a, r) => a + r.count, 0), shape: [], members: reports };
  }
  if (fmt === "stl10-images") {
    const images = await readStl10Images(path, { limit: 1 });
    const { size } = await head(path, 0);
    return { file: path, format: fmt, count: size / (3 * STL10_SIZE * STL10_SIZE), shape: [96, 96, 3], sha256: images.sha256 };
  }
  const bytes = fmt === "idx" ? await readMaybeGzip(path) : await readAll(path);
  return reportBytes(path, fmt, bytes);
}

async function readAll(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new SelmixError("NOT_FOUND", `${path}: cannot read file (${(error as NodeJS.ErrnoException).code ?? "error"})`, {
      cause: error,
    });
  }
}
