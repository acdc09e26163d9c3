import { type Rng, rngFromState, SelmixError, shuffleInPlace } from "@selmix/core";
import { checkBatchSize, checkIndices, checkNumClasses, classSize, indexPool, type Pool } from "./pool.ts";

/** Options of {@link createClassBalancedSampler}. */
export interface ClassBalancedSamplerOptions {
  /** Samples and their classes (true labels, or pseudo-labels for unlabelled data). */
  readonly pool: Pool;
  /** K, the number of classes. */
  readonly numClasses: number;
  /** The only source of randomness; the sampler calls nothing but `rng.next()`. */
  readonly rng: Rng;
}

/** A seeded sampler of dataset indices. */
export interface IndexSampler {
  /**
   * Draws `batchSize` dataset indices of the pool.
   *
   * @throws `SelmixError` `INVALID_VALUE` unless `batchSize` is an integer >= 0.
   */
  sample(batchSize: number): Int32Array;
}

/**
 * Class-balanced sampling with replacement: the class is uniform over the classes that have at least one sample in
 * the pool, then the sample is uniform within the class. Two `rng.next()` calls per draw and no other state, so
 * restoring the Rng (`rngFromState(rng.state())`) and rebuilding the sampler resumes the same stream.
 *
 * @throws `SelmixError` `INVALID_VALUE` if `numClasses` is not an integer >= 1, a label is not an integer in
 *   [0, K) or an index is negative; `INVALID_SHAPE` if `labels` and `indices` differ in length; `EMPTY_CLASS` if the
 *   pool is empty.
 * @example
 * {@includeCode ./examples.test.ts#createClassBalancedSampler}
 */
export function createClassBalancedSampler(options: ClassBalancedSamplerOptions): IndexSampler {
  const { numClasses: k, rng } = options;
  checkNumClasses(k);
  const index = indexPool(options.pool, k, "pool");
  const present: number[] = [];
  for (let c = 0; c < k; c++) if (classSize(index, c) > 0) present.push(c);
  if (present.length === 0) throw new SelmixError("EMPTY_CLASS", "pool has no samples in any class");
  const classes = Int32Array.from(present);
  const m = classes.length;
  const { offsets, members } = index;
  return {
    sample(batchSize) {
      checkBatchSize(batchSize);
      const out = new Int32Array(batchSize);
      for (let b = 0; b < batchSize; b++) {
        const c = classes[Math.floor(rng.next() * m)]!;
        const c0 = offsets[c]!;
        out[b] = members[c0 + Math.floor(rng.next() * (offsets[c + 1]! - c0))]!;
      }
      return out;
    },
  };
}

/**
 * Where a without-replacement {@link InstanceBalancedSampler} stands in its epoch: the state of the generator that
 * shuffled the current epoch, and how many of its samples have been handed out. Plain numbers, for checkpoints.
 */
export interface InstanceSamplerState {
  /** State of the generator that shuffled the current epoch. */
  readonly shuffle: readonly [number, number, number, number];
  /** Samples of the current epoch already handed out. */
  readonly offset: number;
}

/** Options of {@link createInstanceBalancedSampler}. */
export interface InstanceBalancedSamplerOptions {
  /** The samples; only `indices` is used. */
  readonly pool: Pick<Pool, "indices">;
  /** The only source of randomness. */
  readonly rng: Rng;
  /**
   * Draw with replacement (each draw uniform and independent) instead of epoch by epoch.
   * @defaultValue false
   */
  readonly replacement?: boolean;
  /** Resume a without-replacement sampler mid-epoch from {@link InstanceBalancedSampler.state}. */
  readonly resume?: InstanceSamplerState;
}

/** An {@link IndexSampler} over instances that can report where it stands in its epoch. */
export interface InstanceBalancedSampler extends IndexSampler {
  /**
   * With replacement: `undefined` (the Rng state is all there is). Without: the position in the current epoch, to
   * pass back as `resume` together with a generator restored to the Rng state saved at the same time.
   */
  state(): InstanceSamplerState | undefined;
}

/**
 * Instance-balanced (uniform) sampling of a pool's dataset indices.
 *
 * By default it goes epoch by epoch without replacement: each epoch is a fresh Fisher-Yates permutation of the pool,
 * shuffled by a generator forked from `rng` at the start of the epoch; every sample appears exactly once per epoch and
 * a batch that crosses the end of an epoch continues into the next one. With `replacement: true` each draw is uniform
 * and independent (one `rng.next()` call).
 *
 * Resuming: with replacement, restoring the Rng resumes the stream. Without replacement, save `sampler.state()` and
 * `rng.state()` together, then rebuild with `rng: rngFromState(savedRng)` and `resume: savedState`.
 *
 * @throws `SelmixError` `EMPTY_CLASS` if the pool is empty; `INVALID_VALUE` if an index is negative or `resume`
 *   has an offset outside [0, N]; `INVALID_ARGUMENT` if `resume` is given with `replacement: true`.
 * @example
 * {@includeCode ./examples.test.ts#createInstanceBalancedSampler}
 */
export function createInstanceBalancedSampler(options: InstanceBalancedSamplerOptions): InstanceBalancedSampler {
  const { rng, replacement = false, resume } = options;
  const indices = options.pool.indices;
  checkIndices(indices, "pool");
  const n = indices.length;
  if (n === 0) throw new SelmixError("EMPTY_CLASS", "pool has no samples");

  if (replacement) {
    if (resume !== undefined) {
      throw new SelmixError("INVALID_ARGUMENT", "resume is only meaningful with replacement: false");
    }
    return {
      sample(batchSize) {
        checkBatchSize(batchSize);
        const out = new Int32Array(batchSize);
        for (let b = 0; b < batchSize; b++) out[b] = indices[Math.floor(rng.next() * n)]!;
        return out;
      },
      state: () => undefined,
    };
  }

  const order = new Int32Array(n);
  let shuffleState: readonly [number, number, number, number];
  let offset: number;
  const startEpoch = (shuffler: Rng): void => {
    shuffleState = shuffler.state();
    order.set(indices);
    shuffleInPlace(order, shuffler);
    offset = 0;
  };
  if (resume === undefined) {
    startEpoch(rng.fork());
  } else {
    if (!(Number.isSafeInteger(resume.offset) && resume.offset >= 0 && resume.offset <= n)) {
      throw new SelmixError("INVALID_VALUE", `resume.offset must be an integer in [0, ${n}], got ${resume.offset}`);
    }
    startEpoch(rngFromState(resume.shuffle));
    offset = resume.offset;
  }
  return {
    sample(batchSize) {
      checkBatchSize(batchSize);
      const out = new Int32Array(batchSize);
      let b = 0;
      while (b < batchSize) {
        if (offset === n) startEpoch(rng.fork());
        const take = Math.min(batchSize - b, n - offset);
        out.set(order.subarray(offset, offset + take), b);
        offset += take;
        b += take;
      }
      return out;
    },
    state: () => ({ shuffle: shuffleState, offset }),
  };
}
