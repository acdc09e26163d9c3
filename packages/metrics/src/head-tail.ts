import { SelmixError } from "@selmix/core";

/** How classes split into head and tail: a fraction of the class indices, or explicit groups. */
export type HeadTailSplit =
  | {
      /** Fraction f in (0, 1): classes 0..floor(f·K)-1 are head, the rest tail. */
      readonly headFraction: number;
    }
  | {
      /** Head class indices. */
      readonly head: readonly number[];
      /** Tail class indices. */
      readonly tail: readonly number[];
    };

/**
 * The reference split: classes with index < floor(0.9·K) are head (classes are sorted by training frequency).
 *
 * @example
 * {@includeCode ./examples.test.ts#DEFAULT_HEAD_FRACTION}
 */
export const DEFAULT_HEAD_FRACTION = 0.9;

/** Resolved head/tail membership. */
export interface HeadTailGroups {
  /** Head class indices, ascending. */
  readonly head: readonly number[];
  /** Tail class indices, ascending. */
  readonly tail: readonly number[];
}

/**
 * Resolves a {@link HeadTailSplit} for K classes. With a fraction f, head = classes 0..floor(f·K)-1.
 *
 * @throws `SelmixError` `INVALID_VALUE` if the fraction leaves either group empty;
 *   `INVALID_ARGUMENT` if explicit groups overlap, miss a class, or name a class outside [0, K).
 * @example
 * {@includeCode ./examples.test.ts#headTailGroups}
 */
export function headTailGroups(numClasses: number, split: HeadTailSplit = { headFraction: DEFAULT_HEAD_FRACTION }): HeadTailGroups {
  if ("headFraction" in split) {
    const f = split.headFraction;
    const nHead = Math.floor(f * numClasses + 1e-9);
    if (!(f > 0 && f < 1) || nHead < 1 || nHead >= numClasses) {
      throw new SelmixError("INVALID_VALUE", `head fraction must leave at least one head and one tail class for K = ${numClasses}, got ${f}`);
    }
    const all = Array.from({ length: numClasses }, (_, i) => i);
    return { head: all.slice(0, nHead), tail: all.slice(nHead) };
  }
  const seen = new Set<number>();
  for (const c of [...split.head, ...split.tail]) {
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) {
      throw new SelmixError("INVALID_ARGUMENT", `head/tail groups name class ${c}, outside [0, ${numClasses})`);
    }
    if (seen.has(c)) throw new SelmixError("INVALID_ARGUMENT", `class ${c} is in both head and tail (or listed twice)`);
    seen.add(c);
  }
  if (seen.size !== numClasses || split.head.length === 0 || split.tail.length === 0) {
    throw new SelmixError("INVALID_ARGUMENT", `head and tail must be non-empty and cover all ${numClasses} classes`);
  }
  return { head: [...split.head], tail: [...split.tail] };
}
