import { SelmixError } from "@selmix/core";
import type { Dataset } from "./dataset.ts";
import { sha256Hex } from "./hash.ts";
import { hashedNgrams, packTokens, TEXT_BUCKETS } from "./text.ts";

/** One noun synset of a WordNet `data.noun` file. */
export interface WordnetSynset {
  /** Byte offset of the line in the file (the synset's id), as the 8 digits of the file. */
  readonly offset: string;
  /** Lexicographer file number, 3..28 for nouns (noun.Tops..noun.time). */
  readonly lexFile: number;
  /** The synset's words (lemmas, underscores for spaces), in file order. */
  readonly words: readonly string[];
  /** The gloss: definition and examples, after `| `. */
  readonly gloss: string;
}

/**
 * The 26 noun lexicographer files of WordNet 3.0 (`lexnames`), indexed by file number − 3.
 *
 * @example
 * {@includeCode ./examples.test.ts#WORDNET_NOUN_CATEGORIES}
 */
export const WORDNET_NOUN_CATEGORIES: readonly string[] = [
  "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute", "noun.body", "noun.cognition",
  "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive",
  "noun.object", "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity",
  "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
];

/**
 * Debian's `wordnet-base` folder with `data.noun`.
 *
 * @example
 * {@includeCode ./examples.test.ts#DEBIAN_WORDNET_DIR}
 */
export const DEBIAN_WORDNET_DIR = "/usr/share/wordnet";

/**
 * Synsets per category in the fixed, balanced test split of the WordNet sources: the tail (noun.motive) has 42, so
 * 15 test + 10 validation leave it 17 to learn from; more test synsets would leave the tail almost nothing.
 *
 * @example
 * {@includeCode ./examples.test.ts#WORDNET_TEST_PER_CLASS}
 */
export const WORDNET_TEST_PER_CLASS = 15;

const FIRST_NOUN_FILE = 3;

/**
 * Parses and validates a WordNet `data.noun` file (WordNet's `wndb(5WN)` format): license lines start with two
 * spaces; every other line is `offset lex_filenum n w_cnt (word lex_id){w_cnt} p_cnt (ptr offset pos src/tgt){p_cnt}
 * | gloss`, where `offset` is the line's own byte offset, `w_cnt` two hex digits, `lex_id` one hex digit and `p_cnt`
 * three decimal digits.
 *
 * @param bytes - The file's bytes (ASCII).
 * @param file - Name for messages (the path).
 * @throws `SelmixError` `CORRUPT_FILE` naming the file and line when a line does not follow the format, its
 *   offset is not its byte offset, its category is not a noun file, or the file has no synset.
 * @example
 * {@includeCode ./examples.test.ts#parseWordnetNouns}
 */
export function parseWordnetNouns(bytes: Uint8Array, file: string): WordnetSynset[] {
  const text = new TextDecoder("latin1").decode(bytes);
  const synsets: WordnetSynset[] = [];
  let start = 0;
  for (let line = 1; start < text.length; line++) {
    const newline = text.indexOf("\n", start);
    if (newline < 0) throw corrupt(file, line, "the last line has no newline (truncated file?)");
    const content = text.slice(start, newline);
    if (!content.startsWith("  ")) synsets.push(parseSynset(content, start, file, line));
    start = newline + 1;
  }
  if (synsets.length === 0) throw new SelmixError("CORRUPT_FILE", `${file}: no synset lines (not a WordNet data.noun file?)`);
  return synsets;
}

function corrupt(file: string, line: number, reason: string): SelmixError {
  return new SelmixError("CORRUPT_FILE", `${file}:${line}: ${reason}`);
}

function parseSynset(content: string, byteOffset: number, file: string, line: number): WordnetSynset {
  const bar = content.indexOf(" | ");
  if (bar < 0) throw corrupt(file, line, "no ' | ' before the gloss");
  const fields = content.slice(0, bar).split(" ");
  const at = (i: number, what: string, pattern: RegExp): string => {
    const value = fields[i];
    if (value === undefined || !pattern.test(value)) throw corrupt(file, line, `field ${i + 1} (${what}) is '${value ?? ""}'`);
    return value;
  };
  const offset = at(0, "synset offset", /^\d{8}$/);
  if (Number(offset) !== byteOffset) throw corrupt(file, line, `synset offset ${offset} is not the line's byte offset ${byteOffset}`);
  const lexFile = Number(at(1, "lex_filenum", /^\d\d$/));
  if (lexFile < FIRST_NOUN_FILE || lexFile >= FIRST_NOUN_FILE + WORDNET_NOUN_CATEGORIES.length) {
    throw corrupt(file, line, `lex_filenum ${lexFile} is not a noun file (03..28)`);
  }
  at(2, "ss_type", /^n$/);
  const wordCount = Number.parseInt(at(3, "w_cnt", /^[0-9a-f]{2}$/), 16);
  if (wordCount === 0) throw corrupt(file, line, "w_cnt is 0");
  const words: string[] = [];
  for (let w = 0; w < wordCount; w++) {
    words.push(at(4 + 2 * w, "word", /^\S+$/));
    at(5 + 2 * w, "lex_id", /^[0-9a-f]$/);
  }
  const p = 4 + 2 * wordCount;
  const pointerCount = Number(at(p, "p_cnt", /^\d{3}$/));
  for (let k = 0; k < pointerCount; k++) {
    at(p + 1 + 4 * k, "pointer symbol", /^(?:!|@i?|~i?|#[msp]|%[msp]|=|\+|[;-][cru]|\*|>|\^|\$|&|<|\\)$/);
    at(p + 2 + 4 * k, "pointer offset", /^\d{8}$/);
    at(p + 3 + 4 * k, "pointer pos", /^[nvasr]$/);
    at(p + 4 + 4 * k, "pointer source/target", /^[0-9a-f]{4}$/);
  }
  if (fields.length !== p + 1 + 4 * pointerCount) {
    throw corrupt(file, line, `${fields.length} fields before the gloss, expected ${p + 1 + 4 * pointerCount} for ${wordCount} words and ${pointerCount} pointers`);
  }
  return { offset, lexFile, words, gloss: content.slice(bar + 3).trim() };
}

/** @internal What the WordNet source loader hands to `loadSource`. */
export interface WordnetSplit {
  readonly train: Dataset;
  readonly test: Dataset;
}

/**
 * @internal The WordNet-nouns datasets of parsed synsets. Labels are the categories ordered by synset count,
 * largest first (ties by file number), so class 0 is the head as in the long-tailed image profiles. Per class the
 * {@link WORDNET_TEST_PER_CLASS} synsets with the smallest SHA-256 of their offset form the fixed, balanced test
 * split; the rest are the training pool. Input text: the gloss, and with `lemmas` the words too (underscores as
 * spaces).
 */
export function wordnetDatasets(synsets: readonly WordnetSynset[], lemmas: boolean, file: string): WordnetSplit {
  const perFile = new Array<number>(WORDNET_NOUN_CATEGORIES.length).fill(0);
  for (const s of synsets) perFile[s.lexFile - FIRST_NOUN_FILE]! += 1;
  const order = perFile.map((count, f) => ({ count, f })).sort((a, b) => b.count - a.count || a.f - b.f);
  const small = order.find((o) => o.count < WORDNET_TEST_PER_CLASS + 2);
  if (small !== undefined) {
    throw new SelmixError("CORRUPT_FILE", `${file}: ${WORDNET_NOUN_CATEGORIES[small.f]} has ${small.count} synsets; every noun category needs ${WORDNET_TEST_PER_CLASS + 2}`);
  }
  const labelOfFile = new Array<number>(order.length);
  order.forEach((o, label) => {
    labelOfFile[o.f] = label;
  });
  const classNames = order.map((o) => WORDNET_NOUN_CATEGORIES[o.f]!);
  const byClass: { synset: WordnetSynset; key: string }[][] = order.map(() => []);
  const encoder = new TextEncoder();
  for (const synset of synsets) byClass[labelOfFile[synset.lexFile - FIRST_NOUN_FILE]!]!.push({ synset, key: sha256Hex(encoder.encode(synset.offset)) });
  const train: WordnetSynset[] = [];
  const test: WordnetSynset[] = [];
  for (const members of byClass) {
    const ranked = [...members].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const held = new Set(ranked.slice(0, WORDNET_TEST_PER_CLASS).map((m) => m.synset));
    for (const m of members) (held.has(m.synset) ? test : train).push(m.synset);
  }
  const byOffset = (a: WordnetSynset, b: WordnetSynset): number => Number(a.offset) - Number(b.offset);
  const make = (part: WordnetSynset[]): Dataset => {
    part.sort(byOffset);
    const texts = part.map((s) => (lemmas ? `${s.words.join(" ").replaceAll("_", " ")} ${s.gloss}` : s.gloss));
    return {
      images: new Uint8Array(0),
      labels: Uint8Array.from(part, (s) => labelOfFile[s.lexFile - FIRST_NOUN_FILE]!),
      height: 1,
      width: TEXT_BUCKETS,
      channels: 1,
      numClasses: classNames.length,
      classNames,
      text: packTokens(texts.map((t) => hashedNgrams(t, TEXT_BUCKETS)), TEXT_BUCKETS),
    };
  };
  return { train: make(train), test: make(test) };
}
