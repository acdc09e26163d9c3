// Test-only helpers that write tiny files in every supported format. Not part of the package's API or build.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh temporary folder and its cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "selmix-datasets-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic pseudo-pixels: byte `i` of image `n` of a file tagged `tag`. */
export function pixel(tag: number, n: number, i: number): number {
  return (tag * 31 + n * 7 + i * 13 + ((i * i) >> 3)) & 0xff;
}

/** CIFAR records (CHW planes) with the given labels (`[coarse, fine]` pairs for CIFAR-100). */
export function cifarBytes(labels: readonly (number | readonly [number, number])[], tag = 0): Uint8Array {
  const labelBytes = typeof labels[0] === "number" ? 1 : 2;
  const record = labelBytes + 3072;
  const out = new Uint8Array(labels.length * record);
  labels.forEach((label, n) => {
    if (typeof label === "number") out[n * record] = label;
    else out.set(label, n * record);
    for (let i = 0; i < 3072; i++) out[n * record + labelBytes + i] = pixel(tag, n, i);
  });
  return out;
}

/** STL-10 images: 3 column-major planes of 96 x 96 each. */
export function stlImageBytes(count: number, tag = 0): Uint8Array {
  const out = new Uint8Array(count * 27648);
  for (let n = 0; n < count; n++) for (let i = 0; i < 27648; i++) out[n * 27648 + i] = pixel(tag, n, i);
  return out;
}

/** A ustar archive holding `files` (name -> bytes), with the two zero end blocks. */
export function tarBytes(files: Readonly<Record<string, Uint8Array>>): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const [name, data] of Object.entries(files)) {
    const header = new Uint8Array(512);
    header.set(enc.encode(name), 0);
    header.set(enc.encode("0000644\0"), 100);
    header.set(enc.encode("0000000\0"), 108);
    header.set(enc.encode("0000000\0"), 116);
    header.set(enc.encode(`${data.length.toString(8).padStart(11, "0")}\0`), 124);
    header.set(enc.encode("00000000000\0"), 136);
    header[156] = 0x30;
    header.set(enc.encode("ustar\0"), 257);
    header.set(enc.encode("00"), 263);
    header.fill(0x20, 148, 156);
    const sum = header.reduce((a, b) => a + b, 0);
    header.set(enc.encode(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
    parts.push(header, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Random CIFAR files in the official binary layout, for end-to-end runs (fewer records than the official ones). */
export interface CifarFilesOptions {
  /** Training records per class. */
  readonly trainPerClass: number;
  /** Test records per class. */
  readonly testPerClass: number;
  /** Seed of the pixels and the record order. */
  readonly seed?: number;
}

/** xorshift32 bytes: random pixels without a dependency. */
function randomBytes(n: number, state: { s: number }): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let x = state.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    state.s = x >>> 0;
    out[i] = state.s & 0xff;
  }
  return out;
}

function randomRecords(variant: "cifar10" | "cifar100", perClass: number, state: { s: number }): Uint8Array {
  const k = variant === "cifar10" ? 10 : 100;
  const labelBytes = variant === "cifar10" ? 1 : 2;
  const record = labelBytes + 3072;
  const n = k * perClass;
  const out = new Uint8Array(n * record);
  for (let r = 0; r < n; r++) {
    const fine = r % k; // every class perClass times, interleaved
    const at = r * record;
    if (variant === "cifar10") out[at] = fine;
    else out.set([fine % 20, fine], at);
    out.set(randomBytes(3072, state), at + labelBytes);
  }
  return out;
}

/**
 * Writes `<dir>/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin` (CIFAR-10) or
 * `<dir>/cifar-100-binary/{train,test}.bin` (CIFAR-100) with random pixels; returns `dir`.
 */
export function writeCifarFiles(dir: string, variant: "cifar10" | "cifar100", options: CifarFilesOptions): string {
  const state = { s: (options.seed ?? 1) * 2654435761 || 1 };
  if (variant === "cifar10") {
    const folder = join(dir, "cifar-10-batches-bin");
    mkdirSync(folder, { recursive: true });
    const train = randomRecords("cifar10", options.trainPerClass, state);
    const per = 2 * options.trainPerClass * 3073; // 10·trainPerClass records over 5 batches
    for (let b = 0; b < 5; b++) writeFileSync(join(folder, `data_batch_${b + 1}.bin`), train.subarray(b * per, (b + 1) * per));
    writeFileSync(join(folder, "test_batch.bin"), randomRecords("cifar10", options.testPerClass, state));
  } else {
    const folder = join(dir, "cifar-100-binary");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "train.bin"), randomRecords("cifar100", options.trainPerClass, state));
    writeFileSync(join(folder, "test.bin"), randomRecords("cifar100", options.testPerClass, state));
  }
  return dir;
}

/** One hand-written synset of a `data.noun` fixture: category file number, lemmas, pointers and gloss. */
export interface FixtureSynset {
  readonly lexFile: number;
  readonly words: readonly string[];
  readonly pointers?: readonly string[];
  readonly gloss: string;
}

/**
 * A `data.noun` file in WordNet's format: two license lines (two leading spaces), then one line per synset whose
 * offset is its byte offset, `w_cnt` in hex, `p_cnt` in three digits, each pointer `symbol offset pos src/tgt`.
 */
export function wordnetNounFile(synsets: readonly FixtureSynset[]): string {
  let text = "  1 This is a test fixture in the format of WordNet 3.0's data.noun.  \n  2 Written for the tests of @selmix/datasets.  \n";
  for (const s of synsets) {
    const words = s.words.map((w, i) => `${w} ${i % 16}`).join(" ");
    const pointers = s.pointers ?? [];
    const lex = String(s.lexFile).padStart(2, "0");
    const rest = ` ${lex} n ${s.words.length.toString(16).padStart(2, "0")} ${words} ${String(pointers.length).padStart(3, "0")}${pointers.map((p) => ` ${p}`).join("")} | ${s.gloss}  \n`;
    text += String(text.length).padStart(8, "0") + rest;
  }
  return text;
}
