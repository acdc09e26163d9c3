import { type Rng, SelmixError } from "@selmix/core";
import { aliasBuffers, buildAlias, drawAlias } from "./alias.ts";
import { type ClassIndex, checkBatchSize, checkNumClasses, classSize, indexPool, type Pool } from "./pool.ts";

/** Options of {@link createPairSampler}. */
export interface PairSamplerOptions {
  /**
   * K×K row-major weights P(i, j) of mixing a class-`i` sample with a class-`j` partner, before exploration. Finite,
   * >= 0, with a positive sum; normalised to sum 1 internally (the caller's array is not modified).
   */
  readonly distribution: ArrayLike<number>;
  /** K, the number of classes. */
  readonly numClasses: number;
  /** Pool of the first samples x1 (the labelled set). */
  readonly first: Pool;
  /**
   * Pool of the partners x2: the labelled set in the supervised setting, the unlabelled set with pseudo-labels (see
   * {@link pseudoLabelPool}) in the semi-supervised one. Never pass true labels of unlabelled data.
   */
  readonly partner: Pool;
  /** The only source of randomness; the sampler calls nothing but `rng.next()`. */
  readonly rng: Rng;
  /**
   * Mix in the reference implementation's exploration, P_eff = (P + 1/K³) / (1 + 1/K) (see {@link withExploration}).
   * @defaultValue true
   */
  readonly exploration?: boolean;
}

/** One batch of pairs; entry `b` of each array describes pair `b`. */
export interface PairBatch {
  /** Dataset indices of the first samples, drawn from the `first` pool. */
  readonly first: Int32Array;
  /** Dataset indices of the partners, drawn from the `partner` pool. */
  readonly partner: Int32Array;
  /** Class of each first sample (its label in the `first` pool). */
  readonly firstClass: Int32Array;
  /** Class of each partner (its label, or pseudo-label, in the `partner` pool). */
  readonly partnerClass: Int32Array;
}

/** A seeded sampler of (first, partner) pairs; see {@link createPairSampler}. */
export interface PairSampler {
  /** K. */
  readonly numClasses: number;
  /**
   * The K×K row-major joint distribution the class pairs are drawn from: P_eff (or the normalised P without
   * exploration) with rows of classes absent from the first pool and columns of classes absent from the partner pool
   * set to 0, renormalised to sum 1. A copy: changing it does not change the sampler.
   */
  readonly effective: Float64Array;
  /**
   * Draws `batchSize` pairs with replacement.
   *
   * @throws `SelmixError` `INVALID_VALUE` unless `batchSize` is an integer >= 0.
   */
  sample(batchSize: number): PairBatch;
}

function normalisedCopy(distribution: ArrayLike<number>, k: number): Float64Array {
  if (distribution.length !== k * k) {
    throw new SelmixError(
      "INVALID_SHAPE",
      `distribution must have K*K = ${k * k} entries (K = ${k}), got ${distribution.length}`,
    );
  }
  let total = 0;
  for (let idx = 0; idx < distribution.length; idx++) {
    const v = distribution[idx]!;
    if (!(Number.isFinite(v) && v >= 0)) {
      const i = Math.floor(idx / k);
      throw new SelmixError("INVALID_VALUE", `distribution[${i}][${idx - i * k}] must be finite and >= 0, got ${v}`);
    }
    total += v;
  }
  if (!(total > 0 && Number.isFinite(total))) {
    throw new SelmixError("INVALID_VALUE", `distribution must have a finite positive sum, got ${total}`);
  }
  const out = new Float64Array(k * k);
  for (let idx = 0; idx < out.length; idx++) out[idx] = distribution[idx]! / total;
  return out;
}

/**
 * The reference implementation's exploration mix, P_eff(i, j) = (P(i, j) + 1/K³) / (1 + 1/K), of a K×K row-major
 * distribution P. P is first normalised to sum 1 (a no-op, bit for bit, when its sum is exactly 1), so P_eff sums to
 * 1; every pair gets at least 1/(K³ + K²), about 1/K of the mass in total.
 *
 * @throws `SelmixError` `INVALID_VALUE` if `numClasses` is not an integer >= 1, or an entry of `distribution`
 *   is NaN, infinite or negative, or they sum to 0; `INVALID_SHAPE` if `distribution.length !== numClasses²`.
 * @example
 * {@includeCode ./examples.test.ts#withExploration}
 */
export function withExploration(distribution: ArrayLike<number>, numClasses: number): Float64Array {
  checkNumClasses(numClasses);
  const p = normalisedCopy(distribution, numClasses);
  const k = numClasses;
  const eps = 1 / (k * k * k);
  const scale = 1 + 1 / k;
  for (let idx = 0; idx < p.length; idx++) p[idx] = (p[idx]! + eps) / scale;
  return p;
}

function presentClasses(index: ClassIndex): string {
  const present: number[] = [];
  for (let c = 0; c < index.numClasses; c++) if (classSize(index, c) > 0) present.push(c);
  return present.length === 0 ? "none (empty pool)" : `[${present.join(", ")}]`;
}

/**
 * A seeded sampler of mixup pairs, as in the reference `FastJointSampler` (SelMix §5.3). For each pair it draws the
 * first class i from the row marginal of the joint distribution and a first sample uniformly among the class-i
 * members of the `first` pool, then the partner class j from the conditional distribution of row i and a partner
 * uniformly among the class-j members of the `partner` pool. Sampling is with replacement.
 *
 * The joint distribution is P_eff = (P + 1/K³) / (1 + 1/K) (or P itself with `exploration: false`). A class with no
 * sample in the `first` pool gets its row zeroed, a class with no sample in the `partner` pool its column; the rest
 * is renormalised (see {@link PairSampler.effective}).
 *
 * Classes come only from the `labels` of the pools the caller passes: the sampler cannot see true labels of
 * unlabelled data unless the caller hands them over. Build the partner pool of unlabelled data with
 * {@link pseudoLabelPool}.
 *
 * Construction is O(K² + N); the K conditional alias tables are built lazily (O(K) each, at most O(K²) in all), and
 * each pair then costs O(1): six `rng.next()` calls. The sampler holds no random state of its own, so saving
 * `rng.state()` and rebuilding the sampler with `rngFromState(saved)` and the same inputs resumes the same stream.
 *
 * @throws `SelmixError` `INVALID_VALUE` / `INVALID_SHAPE` for a bad `numClasses` or `distribution` (as in
 *   {@link withExploration}), or a pool whose `labels` differ in length from its `indices` (`INVALID_SHAPE`), hold a
 *   value that is not an integer in [0, K), or whose `indices` hold a negative value (`INVALID_VALUE`);
 *   `EMPTY_CLASS` if no pair (i, j) with positive probability has a class-i sample in the first pool and a class-j
 *   sample in the partner pool (always the case when a pool is empty).
 * @example
 * {@includeCode ./examples.test.ts#createPairSampler}
 */
export function createPairSampler(options: PairSamplerOptions): PairSampler {
  const { numClasses: k, rng, exploration = true } = options;
  checkNumClasses(k);
  const p = exploration ? withExploration(options.distribution, k) : normalisedCopy(options.distribution, k);
  const first = indexPool(options.first, k, "first");
  const partner = indexPool(options.partner, k, "partner");

  let masked = false;
  for (let i = 0; i < k; i++) {
    const rowEmpty = classSize(first, i) === 0;
    const colEmpty = classSize(partner, i) === 0;
    if (!(rowEmpty || colEmpty)) continue;
    masked = true;
    if (rowEmpty) p.fill(0, i * k, i * k + k);
    if (colEmpty) for (let r = 0; r < k; r++) p[r * k + i] = 0;
  }
  const marginal = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += p[i * k + j]!;
    marginal[i] = s;
    total += s;
  }
  if (!(total > 0)) {
    throw new SelmixError(
      "EMPTY_CLASS",
      `no class pair with positive probability has samples in both pools: first pool has classes ` +
        `${presentClasses(first)}, partner pool has classes ${presentClasses(partner)}`,
    );
  }
  if (masked) {
    for (let idx = 0; idx < p.length; idx++) p[idx] = p[idx]! / total;
    for (let i = 0; i < k; i++) marginal[i] = marginal[i]! / total;
    total = 1;
  }

  const rowTable = aliasBuffers(k, 1);
  buildAlias(marginal, 0, k, total, rowTable, 0);
  const conditional = aliasBuffers(k, k);
  const built = new Uint8Array(k);
  const firstOffsets = first.offsets;
  const firstMembers = first.members;
  const partnerOffsets = partner.offsets;
  const partnerMembers = partner.members;

  return {
    numClasses: k,
    effective: p.slice(),
    sample(batchSize) {
      checkBatchSize(batchSize);
      const out: PairBatch = {
        first: new Int32Array(batchSize),
        partner: new Int32Array(batchSize),
        firstClass: new Int32Array(batchSize),
        partnerClass: new Int32Array(batchSize),
      };
      for (let b = 0; b < batchSize; b++) {
        const i = drawAlias(rowTable, 0, k, rng);
        const i0 = firstOffsets[i]!;
        const x1 = firstMembers[i0 + Math.floor(rng.next() * (firstOffsets[i + 1]! - i0))]!;
        const off = i * k;
        if (built[i] === 0) {
          buildAlias(p, off, k, marginal[i]!, conditional, off);
          built[i] = 1;
        }
        const j = drawAlias(conditional, off, k, rng);
        const j0 = partnerOffsets[j]!;
        const x2 = partnerMembers[j0 + Math.floor(rng.next() * (partnerOffsets[j + 1]! - j0))]!;
        out.first[b] = x1;
        out.partner[b] = x2;
        out.firstClass[b] = i;
        out.partnerClass[b] = j;
      }
      return out;
    },
  };
}

/** Options of {@link createUniformPairSampler}: those of {@link createPairSampler} without a distribution. */
export type UniformPairSamplerOptions = Omit<PairSamplerOptions, "distribution" | "exploration">;

/**
 * The "uniform" mixup policy of the SelMix ablations: a {@link createPairSampler} whose class pairs (i, j) are
 * uniform over the K² pairs (renormalised over the classes present in each pool), with samples uniform within each
 * class. So the first sample is class-balanced, not instance-balanced. Exploration changes nothing for a uniform P.
 *
 * @throws `SelmixError` as {@link createPairSampler}.
 * @example
 * {@includeCode ./examples.test.ts#createUniformPairSampler}
 */
export function createUniformPairSampler(options: UniformPairSamplerOptions): PairSampler {
  checkNumClasses(options.numClasses);
  const k = options.numClasses;
  return createPairSampler({ ...options, distribution: new Float64Array(k * k).fill(1), exploration: false });
}
