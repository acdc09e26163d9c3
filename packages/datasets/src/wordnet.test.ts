import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { createRng, SelmixError } from "@selmix/core";
import { describe, expect, test } from "vitest";
import { createBatchIterator, toFloatBatch } from "./batches.ts";
import { createManifest } from "./manifest.ts";
import { resolveProfile } from "./profiles.ts";
import { loadSource } from "./sources.ts";
import { hashedNgrams, packTokens } from "./text.ts";
import { type FixtureSynset, tempDir, wordnetNounFile } from "./testing/fixtures.ts";
import { DEBIAN_WORDNET_DIR, parseWordnetNouns, WORDNET_NOUN_CATEGORIES, WORDNET_TEST_PER_CLASS } from "./wordnet.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const SAMPLE: FixtureSynset[] = [
  { lexFile: 3, words: ["entity"], pointers: ["~ 00000200 n 0000"], gloss: "that which is perceived or known to exist" },
  { lexFile: 16, words: ["rational_motive", "reason"], pointers: ["@ 00000100 n 0000", "~i 00000300 n 0102"], gloss: 'a motive that can be defended; "the reason for the delay"' },
];

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof SelmixError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("did not throw");
}

describe("parseWordnetNouns", () => {
  test("reads the fixture's synsets: offsets, categories, words and glosses", () => {
    const synsets = parseWordnetNouns(bytes(wordnetNounFile(SAMPLE)), "data.noun");
    expect(synsets.map((s) => s.lexFile)).toEqual([3, 16]);
    expect(synsets[1]!.words).toEqual(["rational_motive", "reason"]);
    expect(synsets[1]!.gloss).toBe('a motive that can be defended; "the reason for the delay"');
    expect(Number(synsets[0]!.offset)).toBe(wordnetNounFile(SAMPLE).indexOf("\n", 80) + 1);
  });

  test.each([
    ["a wrong offset", (t: string) => t.replace(/^(\d{8})/m, "00000001"), /data\.noun:3: synset offset 00000001 is not the line's byte offset/],
    ["a verb line", (t: string) => t.replace(" 03 n ", " 03 v "), /data\.noun:3: field 3 \(ss_type\) is 'v'/],
    ["a category outside the noun files", (t: string) => t.replace(" 03 n ", " 29 n "), /data\.noun:3: lex_filenum 29 is not a noun file/],
    ["a missing gloss bar", (t: string) => t.replace(" | that", " that"), /data\.noun:3: no ' \| ' before the gloss/],
    ["a short pointer list", (t: string) => t.replace(" 001 ~ 00000200 n 0000", " 002 ~ 00000200 n 0000"), /data\.noun:3: field 12 \(pointer symbol\) is ''/],
    ["a truncated file", (t: string) => t.slice(0, -3), /data\.noun:4: the last line has no newline/],
    ["no synsets", (t: string) => `${t.split("\n").slice(0, 2).join("\n")}\n`, /data\.noun: no synset lines/],
  ])("%s is CORRUPT_FILE naming the file and line", (_name, damage, pattern) => {
    const damaged = damage(wordnetNounFile(SAMPLE));
    const { code, message } = codeOf(() => parseWordnetNouns(bytes(damaged), "data.noun"));
    expect(code).toBe("CORRUPT_FILE");
    expect(message).toMatch(pattern);
  });
});

describe("hashedNgrams", () => {
  test("lower-cases, hashes unigrams then bigrams, deterministically", () => {
    const ids = hashedNgrams("A Motive, a motive", 1000);
    expect(ids).toHaveLength(4 + 3);
    expect(ids[0]).toBe(ids[2]);
    expect(ids[1]).toBe(ids[3]);
    expect(ids[4]).toBe(ids[6]);
    expect(ids.every((i) => Number.isInteger(i) && i >= 0 && i < 1000)).toBe(true);
    expect(hashedNgrams("a motive a motive", 1000)).toEqual(ids);
    expect(hashedNgrams("", 1000)).toEqual([]);
  });
});

describe("the wordnet-nouns source on a fixture", () => {
  // 20 synsets of each noun category, numbered; the category's name word is in every gloss.
  const synsets: FixtureSynset[] = WORDNET_NOUN_CATEGORIES.flatMap((name, f) =>
    Array.from({ length: 20 + (f === 5 ? 3 : 0) }, (_, i) => ({ lexFile: f + 3, words: [`w${f}_${i}`], gloss: `item ${i} of ${name.slice(5)}` })),
  );

  test("loads from --data-dir, orders classes by size, holds out the balanced test split", async () => {
    const tmp = tempDir();
    mkdirSync(join(tmp.dir, "wordnet"));
    writeFileSync(join(tmp.dir, "wordnet", "data.noun"), wordnetNounFile(synsets));
    try {
      const src = await loadSource("wordnet-nouns", { dataDir: tmp.dir, strictCounts: false });
      expect(src.checksum).toBe("mismatch");
      expect(src.flip).toBe(false);
      expect(src.train.classNames![0]).toBe("noun.body");
      expect(src.test.labels.length).toBe(26 * WORDNET_TEST_PER_CLASS);
      expect(src.train.labels.length).toBe(26 * 20 + 3 - 26 * WORDNET_TEST_PER_CLASS);
      expect(src.train.text!.offsets.length).toBe(src.train.labels.length + 1);
      const lemmas = await loadSource("wordnet-nouns-lemmas", { dataDir: tmp.dir, strictCounts: false });
      expect(lemmas.train.text!.ids.length).toBeGreaterThan(src.train.text!.ids.length);
      const m = createManifest(src, resolveProfile("natural", { valPerClass: 2 }), 0);
      expect(m.counts.labeled).toEqual([6, ...new Array(25).fill(3)]);
      await expect(loadSource("wordnet-nouns", { dataDir: tmp.dir })).rejects.toThrow(/expected 82115 noun synsets/);
    } finally {
      tmp.cleanup();
    }
  });
});

const real = existsSync(join(DEBIAN_WORDNET_DIR, "data.noun"));
if (!real) console.warn(`skipping the real WordNet tests: ${DEBIAN_WORDNET_DIR}/data.noun is missing (apt-get install -y wordnet-base)`);

describe.skipIf(!real)("WordNet 3.0 data.noun (Debian wordnet-base)", () => {
  test("has the issue's counts, verifies its checksum and gives the natural split", async () => {
    const src = await loadSource("wordnet-nouns", { checksums: "strict" });
    expect(src.checksum).toBe("verified");
    const total = src.train.labels.length + src.test.labels.length;
    expect(total).toBe(82115);
    const names = src.train.classNames!;
    expect(names).toHaveLength(26);
    const m = createManifest(src, resolveProfile("natural"), 0);
    const sizes = names.map((_, k) => m.counts.labeled[k]! + m.counts.validation[k]! + m.counts.test[k]!);
    const count = (name: string): number => sizes[names.indexOf(name)]!;
    expect([count("noun.artifact"), count("noun.person"), count("noun.plant")]).toEqual([11587, 11087, 8030]);
    expect([count("noun.shape"), count("noun.Tops"), count("noun.motive")]).toEqual([341, 51, 42]);
    expect(names[0]).toBe("noun.artifact");
    expect(names[25]).toBe("noun.motive");
    expect(m.counts.test).toEqual(new Array(26).fill(15));
    expect(m.counts.validation).toEqual(new Array(26).fill(10));
    expect(m.counts.labeled[25]).toBe(17);
  });
});

describe("text batches", () => {
  test("a text batch is the bag of buckets (count / sqrt(n)) and takes no augmentation", async () => {
    await tf.setBackend("cpu");
    const dataset = { images: new Uint8Array(0), labels: Uint8Array.from([0, 1]), height: 1, width: 8, channels: 1, numClasses: 2, text: packTokens([[1, 1, 5], []], 8) };
    const x = toFloatBatch(dataset, [0, 1]);
    expect(x.shape).toEqual([2, 1, 8, 1]);
    expect(Array.from(x.dataSync()).map((v) => Math.round(v * Math.sqrt(3) * 1000) / 1000)).toEqual([0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    x.dispose();
    expect(codeOf(() => toFloatBatch(dataset, [0], { kind: "weak", rng: createRng(0), options: { flip: false } })).code).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => createBatchIterator(dataset, [0, 1], { batchSize: 2, augment: "weak", augmentOptions: { flip: false } })).code).toBe("INVALID_ARGUMENT");
  });
});
