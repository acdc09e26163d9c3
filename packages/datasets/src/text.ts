/**
 * Token ids of a text dataset: the hashed n-gram buckets of every sample, concatenated (CSR layout): sample `n`
 * owns `ids[offsets[n]..offsets[n + 1])`.
 */
export interface TextTokens {
  /** Bucket ids `0..buckets-1`, every sample's in text order (unigrams, then bigrams). */
  readonly ids: Int32Array;
  /** `[n + 1]`, non-decreasing, `offsets[0] = 0` and `offsets[n] = ids.length`. */
  readonly offsets: Int32Array;
  /** Number of hash buckets B (the width of a text batch). */
  readonly buckets: number;
}

/**
 * Hash buckets of the text sources: 2^14 keeps the bag batch `[b, 1, B, 1]` at 64 KiB per sample while most of the
 * distinct gloss words and bigrams land in buckets of their own.
 *
 * @example
 * {@includeCode ./examples.test.ts#TEXT_BUCKETS}
 */
export const TEXT_BUCKETS = 16384;

/** FNV-1a, 32 bits, over the UTF-16 code units: the same ids on every platform. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Hashed bag of n-grams of `text`: lower-cased words (runs of letters and digits), every unigram and every
 * bigram of neighbouring words, each hashed (FNV-1a, 32 bits) into one of `buckets` ids. Deterministic.
 *
 * @param text - Any text.
 * @param buckets - Number of buckets B ≥ 1.
 * @returns The unigram ids in word order, then the bigram ids.
 * @example
 * {@includeCode ./examples.test.ts#hashedNgrams}
 */
export function hashedNgrams(text: string, buckets: number = TEXT_BUCKETS): number[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const ids = words.map((w) => fnv1a(w) % buckets);
  for (let i = 1; i < words.length; i++) ids.push(fnv1a(`${words[i - 1]} ${words[i]}`) % buckets);
  return ids;
}

/** @internal Packs the ids of many texts into {@link TextTokens}. */
export function packTokens(perSample: readonly ArrayLike<number>[], buckets: number): TextTokens {
  const offsets = new Int32Array(perSample.length + 1);
  perSample.forEach((ids, n) => {
    offsets[n + 1] = offsets[n]! + ids.length;
  });
  const ids = new Int32Array(offsets[perSample.length]!);
  perSample.forEach((sample, n) => {
    ids.set(sample, offsets[n]!);
  });
  return { ids, offsets, buckets };
}

/** @internal The tokens of `indices` (in that order) as a new {@link TextTokens}. */
export function selectTokens(tokens: TextTokens, indices: ArrayLike<number>): TextTokens {
  const samples: Int32Array[] = [];
  for (let i = 0; i < indices.length; i++) samples.push(tokens.ids.subarray(tokens.offsets[indices[i]!]!, tokens.offsets[indices[i]! + 1]!));
  return packTokens(samples, tokens.buckets);
}

/**
 * @internal The bag batch of `indices`: row `i` holds, per bucket, the count of sample `i`'s n-grams hashed there
 * over √n (TensorFlow's "sqrtn" combiner: `bag · E` has the scale of one embedding whatever the length, and the
 * embedding's gradient the scale of a dense layer's; the mean, 1/n, learnt markedly slower). An empty text gives a
 * zero row. `[b * buckets]`.
 */
export function bagOfBuckets(tokens: TextTokens, indices: ArrayLike<number>): Float32Array {
  const { buckets } = tokens;
  const out = new Float32Array(indices.length * buckets);
  for (let i = 0; i < indices.length; i++) {
    const start = tokens.offsets[indices[i]!]!;
    const end = tokens.offsets[indices[i]! + 1]!;
    const weight = 1 / Math.sqrt(end - start);
    for (let t = start; t < end; t++) out[i * buckets + tokens.ids[t]!]! += weight;
  }
  return out;
}
