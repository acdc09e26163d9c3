import { readFileSync } from "node:fs";
import { SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import { type CheckpointData, type CheckpointMetadata, decodeCheckpoint, encodeCheckpoint, type JsonValue } from "./checkpoint-format.ts";
import { createModel } from "./create-model.ts";
import type { NamedArray } from "./layers/params.ts";
import type { Model } from "./model.ts";

/** Options of {@link saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /** Training step (optimizer updates done). @defaultValue 0 */
  readonly step?: number;
  /** Id of the dataset manifest the model was trained on. */
  readonly datasetManifestId?: string;
  /** Optimizer tensors needed to resume (e.g. `momentum/<weight name>`), saved bit-exactly. */
  readonly optimizerState?: readonly NamedArray[];
  /** Free-form JSON for the trainer (schedule position, RNG state, …). */
  readonly extra?: JsonValue;
}

/**
 * Saves the model's weights (including batch-norm running statistics), its architecture and the given metadata
 * and optimizer state to one file, atomically (temporary file, fsync, rename). Format: see
 * {@link encodeCheckpoint} and the README.
 *
 * @param path - Destination file.
 * @param model - The model whose weights are saved.
 * @param options - Step, manifest id, optimizer state and trainer data.
 * @returns the metadata written.
 * @throws `SelmixError` `INVALID_VALUE` if `step` is not a non-negative integer; `INVALID_SHAPE` /
 *   `INVALID_ARGUMENT` for malformed optimizer tensors. File-system errors propagate as they are.
 * @example
 * {@includeCode ./examples.test.ts#saveCheckpoint}
 */
export function saveCheckpoint(path: string, model: Model, options: SaveCheckpointOptions = {}): CheckpointMetadata {
  const step = options.step ?? 0;
  if (!(Number.isSafeInteger(step) && step >= 0)) throw new SelmixError("INVALID_VALUE", `step must be an integer >= 0, got ${step}`);
  const metadata: CheckpointMetadata = {
    arch: model.arch,
    inputShape: [...model.inputShape] as unknown as readonly [number, number, number],
    numClasses: model.numClasses,
    step,
    ...(options.datasetManifestId === undefined ? {} : { datasetManifestId: options.datasetManifestId }),
    ...(options.extra === undefined ? {} : { extra: options.extra }),
  };
  writeFileAtomic(path, encodeCheckpoint(metadata, model.getWeights(), options.optimizerState ?? []));
  return metadata;
}

/**
 * Reads and verifies a checkpoint file without touching any model.
 *
 * @throws `SelmixError` `NOT_FOUND` if the file does not exist; `IO_ERROR` if it cannot be read (e.g. it is a
 *   folder); `CORRUPT_FILE` if it is truncated, damaged or not a checkpoint.
 * @example
 * {@includeCode ./examples.test.ts#readCheckpoint}
 */
export function readCheckpoint(path: string): CheckpointData {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new SelmixError("NOT_FOUND", `checkpoint ${path} does not exist`, { cause: error });
    }
    const code = (error as NodeJS.ErrnoException).code;
    throw new SelmixError("IO_ERROR", `checkpoint ${path} cannot be read (${code === "EISDIR" ? "it is a folder" : (code ?? String(error))})`, { cause: error });
  }
  return decodeCheckpoint(bytes, path);
}

/**
 * Checks that a checkpoint fits a model: same architecture, input shape, class count, and the same weight names
 * and shapes.
 *
 * @throws `SelmixError` `MISMATCH` naming the first difference.
 * @example
 * {@includeCode ./examples.test.ts#assertCheckpointMatches}
 */
export function assertCheckpointMatches(checkpoint: CheckpointData, model: Model): void {
  const m = checkpoint.metadata;
  if (m.arch !== model.arch) throw new SelmixError("MISMATCH", `checkpoint is ${m.arch}, model is ${model.arch}`);
  if (m.numClasses !== model.numClasses) {
    throw new SelmixError("MISMATCH", `checkpoint has ${m.numClasses} classes, model has ${model.numClasses}`);
  }
  if (m.inputShape.length !== 3 || m.inputShape.some((d, i) => d !== model.inputShape[i])) {
    throw new SelmixError("MISMATCH", `checkpoint input shape [${m.inputShape.join(", ")}], model [${model.inputShape.join(", ")}]`);
  }
  const specs = model.weightSpecs();
  if (specs.length !== checkpoint.weights.length) {
    throw new SelmixError("MISMATCH", `checkpoint has ${checkpoint.weights.length} weights, model has ${specs.length}`);
  }
  const byName = new Map(checkpoint.weights.map((w) => [w.name, w]));
  for (const s of specs) {
    const w = byName.get(s.name);
    if (w === undefined) throw new SelmixError("MISMATCH", `checkpoint lacks weight '${s.name}'`);
    if (w.shape.length !== s.shape.length || w.shape.some((d, i) => d !== s.shape[i])) {
      throw new SelmixError("MISMATCH", `weight '${s.name}': checkpoint [${w.shape.join(", ")}], model [${s.shape.join(", ")}]`);
    }
  }
}

/**
 * Reads a checkpoint, validates it against `model` and loads its weights into it. Returns the checkpoint (for
 * the step, metadata and optimizer state).
 *
 * @throws `SelmixError` `NOT_FOUND`, `CORRUPT_FILE` as {@link readCheckpoint}; `MISMATCH` as
 *   {@link assertCheckpointMatches}.
 * @example
 * {@includeCode ./examples.test.ts#loadCheckpoint}
 */
export function loadCheckpoint(path: string, model: Model): CheckpointData {
  const checkpoint = readCheckpoint(path);
  assertCheckpointMatches(checkpoint, model);
  model.setWeights(checkpoint.weights);
  return checkpoint;
}

/**
 * Builds the model a checkpoint describes and loads its weights.
 *
 * @throws `SelmixError` `NOT_FOUND`, `CORRUPT_FILE` as {@link readCheckpoint}; `MISMATCH` if the
 *   checkpoint's weights do not fit its own architecture (written by another version).
 * @example
 * {@includeCode ./examples.test.ts#modelFromCheckpoint}
 */
export function modelFromCheckpoint(path: string): {
  /** The rebuilt model, with the checkpoint's weights. */
  model: Model;
  /** The decoded checkpoint. */
  checkpoint: CheckpointData;
} {
  const checkpoint = readCheckpoint(path);
  const m = checkpoint.metadata;
  let model: Model;
  try {
    model = createModel({ arch: m.arch, inputShape: m.inputShape, numClasses: m.numClasses, seed: 0 });
  } catch (error) {
    throw new SelmixError("MISMATCH", `${path}: metadata does not describe a buildable model`, { cause: error });
  }
  try {
    assertCheckpointMatches(checkpoint, model);
    model.setWeights(checkpoint.weights);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, checkpoint };
}
