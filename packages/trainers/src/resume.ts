import { assertCheckpointMatches, type Model, readCheckpoint } from "@selmix/models";
import type { Ema } from "./ema.ts";
import { assertSameRunIdentity, type RunIdentity } from "./run-identity.ts";
import type { Sgd } from "./sgd.ts";

/** The part of a trainer's saved state this module reads: the step reached and the best validation value so far. */
interface SavedProgress {
  readonly step: number;
  readonly bestValue: number;
}

/**
 * Resumes a pre-training run from its `last.ckpt`: checks that the file belongs to this run (`identity`) and this
 * model, restores the live weights, the momentum and the EMA (with its update count, which its warm-up reads), and
 * returns the trainer's own state, saved under `key` of the checkpoint's extra metadata.
 *
 * @throws `SelmixError` `MISMATCH` when the checkpoint is another run's or another model's.
 */
export function resumeFromLast<S extends SavedProgress>(lastPath: string, key: "pretrain" | "fixmatch", identity: RunIdentity, model: Model, sgd: Sgd, ema: Ema | undefined): S {
  const ckpt = readCheckpoint(lastPath);
  const extra = ckpt.metadata.extra as ({ run?: unknown } & Partial<Record<typeof key, S>>) | undefined;
  assertSameRunIdentity(lastPath, extra?.run, identity);
  assertCheckpointMatches(ckpt, model);
  model.setWeights(ckpt.weights);
  const saved = extra![key]!;
  const state = { ...saved, bestValue: saved.bestValue ?? Number.NEGATIVE_INFINITY }; // JSON wrote -Infinity as null
  sgd.restore(ckpt.optimizerState.filter((t) => t.name.startsWith("momentum/")));
  ema?.restore(
    ckpt.optimizerState.filter((t) => t.name.startsWith("ema/")),
    state.step,
  );
  return state;
}
