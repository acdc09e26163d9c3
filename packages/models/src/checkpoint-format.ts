import { createHash } from "node:crypto";
import { SelmixError } from "@selmix/core";
import type { NamedArray } from "./layers/params.ts";
import type { ModelArch } from "./model.ts";

/**
 * Magic bytes at the start of every checkpoint file.
 *
 * @example
 * {@includeCode ./examples.test.ts#CHECKPOINT_MAGIC}
 */
export const CHECKPOINT_MAGIC = "SELMIXCK";
/**
 * The format version written by {@link encodeCheckpoint}.
 *
 * @example
 * {@includeCode ./examples.test.ts#CHECKPOINT_VERSION}
 */
export const CHECKPOINT_VERSION = 1;

/** A JSON value (for {@link CheckpointMetadata.extra}). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a checkpoint says about itself. */
export interface CheckpointMetadata {
  /** Model architecture. */
  readonly arch: ModelArch;
  /** `[height, width, channels]` of one input image. */
  readonly inputShape: readonly [number, number, number];
  /** Number of classes K. */
  readonly numClasses: number;
  /** Training step (optimizer updates done) when saved. */
  readonly step: number;
  /** Id of the dataset manifest the model was trained on, if any. */
  readonly datasetManifestId?: string;
  /** Anything else the trainer needs to resume (learning-rate schedule position, RNG state, …). */
  readonly extra?: JsonValue;
}

/** A decoded checkpoint: metadata, model weights and optional optimizer state (e.g. momentum buffers). */
export interface CheckpointData {
  /** What the checkpoint says about itself. */
  readonly metadata: CheckpointMetadata;
  /** Model weights, in the model's order. */
  readonly weights: readonly NamedArray[];
  /** Optimizer tensors (empty when none were saved). */
  readonly optimizerState: readonly NamedArray[];
  /** Hex SHA-256 of the tensor payload (weights then optimizer state, as stored). */
  readonly payloadSha256: string;
}

interface TensorEntry {
  name: string;
  shape: number[];
  dtype: "float32";
  offset: number;
  length: number;
}

interface Header {
  format: "selmix-checkpoint";
  version: number;
  metadata: CheckpointMetadata;
  weights: TensorEntry[];
  optimizerState: TensorEntry[];
  payloadBytes: number;
  payloadSha256: string;
}

const PREAMBLE = 16; // magic (8) + version u32 + header length u32
const TRAILER = 32; // SHA-256 of every byte before it
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

function swap4(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const a = bytes[i]!;
    const b = bytes[i + 1]!;
    bytes[i] = bytes[i + 3]!;
    bytes[i + 1] = bytes[i + 2]!;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}

function tableOf(arrays: readonly NamedArray[], start: number, what: string): TensorEntry[] {
  const names = new Set<string>();
  let offset = start;
  return arrays.map((a) => {
    if (names.has(a.name)) throw new SelmixError("INVALID_ARGUMENT", `${what} '${a.name}' appears twice`);
    names.add(a.name);
    const size = a.shape.reduce((p, d) => p * d, 1);
    if (!a.shape.every((d) => Number.isInteger(d) && d >= 0) || size !== a.values.length) {
      throw new SelmixError("INVALID_SHAPE", `${what} '${a.name}': shape [${a.shape.join(", ")}] does not hold ${a.values.length} values`);
    }
    const entry: TensorEntry = { name: a.name, shape: [...a.shape], dtype: "float32", offset, length: size };
    offset += size * 4;
    return entry;
  });
}

/**
 * Serialises a checkpoint into the single-file format (see the package README):
 * `"SELMIXCK"` · u32 LE version · u32 LE header length H · H bytes of UTF-8 JSON (space-padded to a multiple of 4)
 * · float32 LE payload · SHA-256 of all preceding bytes.
 *
 * @param metadata - What the checkpoint says about itself.
 * @param weights - Model weights.
 * @param optimizerState - Optimizer tensors (e.g. momentum buffers).
 * @returns The file's bytes.
 * @throws `SelmixError` `INVALID_SHAPE` if an array's length does not match its shape;
 *   `INVALID_ARGUMENT` if a name repeats.
 * @example
 * {@includeCode ./examples.test.ts#encodeCheckpoint}
 */
export function encodeCheckpoint(
  metadata: CheckpointMetadata,
  weights: readonly NamedArray[],
  optimizerState: readonly NamedArray[] = [],
): Uint8Array {
  const weightTable = tableOf(weights, 0, "weight");
  const weightBytes = weightTable.reduce((s, e) => s + e.length * 4, 0);
  const optTable = tableOf(optimizerState, weightBytes, "optimizer tensor");
  const payloadBytes = weightBytes + optTable.reduce((s, e) => s + e.length * 4, 0);
  const payload = new Uint8Array(payloadBytes);
  let pos = 0;
  for (const a of [...weights, ...optimizerState]) {
    payload.set(new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength), pos);
    pos += a.values.byteLength;
  }
  if (!LITTLE_ENDIAN) swap4(payload);
  const header: Header = {
    format: "selmix-checkpoint",
    version: CHECKPOINT_VERSION,
    metadata,
    weights: weightTable,
    optimizerState: optTable,
    payloadBytes,
    payloadSha256: toHex(sha256(payload)),
  };
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  if (headerBytes.length % 4 !== 0) {
    json += " ".repeat(4 - (headerBytes.length % 4));
    headerBytes = encoder.encode(json);
  }
  const total = PREAMBLE + headerBytes.length + payloadBytes + TRAILER;
  const out = new Uint8Array(total);
  out.set(encoder.encode(CHECKPOINT_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  out.set(headerBytes, PREAMBLE);
  out.set(payload, PREAMBLE + headerBytes.length);
  out.set(sha256(out.subarray(0, total - TRAILER)), total - TRAILER);
  return out;
}

function corrupt(source: string, why: string): SelmixError {
  return new SelmixError("CORRUPT_FILE", `${source}: ${why}`);
}

function readTable(value: unknown, payloadBytes: number, source: string, what: string): TensorEntry[] {
  if (!Array.isArray(value)) throw corrupt(source, `header field ${what} is not a list`);
  return value.map((e: unknown) => {
    const t = e as Partial<TensorEntry>;
    const ok =
      typeof t.name === "string" &&
      Array.isArray(t.shape) &&
      t.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      t.dtype === "float32" &&
      Number.isInteger(t.offset) &&
      Number.isInteger(t.length) &&
      t.offset! % 4 === 0 &&
      t.offset! >= 0 &&
      t.offset! + t.length! * 4 <= payloadBytes &&
      t.shape.reduce((p: number, d: number) => p * d, 1) === t.length;
    if (!ok) throw corrupt(source, `bad ${what} entry ${JSON.stringify(e).slice(0, 200)}`);
    return t as TensorEntry;
  });
}

/**
 * Parses and verifies bytes written by {@link encodeCheckpoint}. The returned arrays are copies.
 *
 * @param source - file name for error messages.
 * @throws `SelmixError` `CORRUPT_FILE` if the magic, version, header or length is wrong, or a SHA-256 does not
 *   match (any flipped bit is caught by the trailer).
 * @example
 * {@includeCode ./examples.test.ts#decodeCheckpoint}
 */
export function decodeCheckpoint(bytes: Uint8Array, source = "checkpoint"): CheckpointData {
  if (bytes.length < PREAMBLE + TRAILER) throw corrupt(source, `only ${bytes.length} bytes`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== CHECKPOINT_MAGIC) throw corrupt(source, "not a @selmix checkpoint (bad magic)");
  const body = bytes.subarray(0, bytes.length - TRAILER);
  const expected = bytes.subarray(bytes.length - TRAILER);
  const actual = sha256(body);
  if (!actual.every((b, i) => b === expected[i])) throw corrupt(source, "SHA-256 trailer does not match (file damaged or truncated)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION) throw corrupt(source, `unsupported format version ${version}`);
  const headerLength = view.getUint32(12, true);
  if (PREAMBLE + headerLength > body.length) throw corrupt(source, "header length exceeds the file");
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLength))) as Header;
  } catch (error) {
    throw new SelmixError("CORRUPT_FILE", `${source}: header is not valid JSON`, { cause: error });
  }
  if (header === null || typeof header !== "object" || header.format !== "selmix-checkpoint") throw corrupt(source, "header format is not selmix-checkpoint");
  const payloadStart = PREAMBLE + headerLength;
  const payloadBytes = body.length - payloadStart;
  if (header.payloadBytes !== payloadBytes) throw corrupt(source, `payload is ${payloadBytes} bytes, header says ${header.payloadBytes}`);
  const payload = Uint8Array.from(bytes.subarray(payloadStart, payloadStart + payloadBytes));
  if (toHex(sha256(payload)) !== header.payloadSha256) throw corrupt(source, "payload SHA-256 does not match the header");
  if (!LITTLE_ENDIAN) swap4(payload);
  const m = header.metadata as CheckpointMetadata | undefined;
  if (m === undefined || typeof m.arch !== "string" || !Array.isArray(m.inputShape) || !Number.isInteger(m.numClasses) || typeof m.step !== "number") {
    throw corrupt(source, "metadata lacks arch, inputShape, numClasses or step");
  }
  const read = (entries: TensorEntry[]): NamedArray[] =>
    entries.map((e) => ({ name: e.name, shape: e.shape, values: new Float32Array(payload.buffer.slice(e.offset, e.offset + e.length * 4)) }));
  return {
    metadata: m,
    weights: read(readTable(header.weights, payloadBytes, source, "weights")),
    optimizerState: read(readTable(header.optimizerState, payloadBytes, source, "optimizerState")),
    payloadSha256: header.payloadSha256,
  };
}
