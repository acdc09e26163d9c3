import { SelmixError } from "@selmix/core";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import "./register-gradients.ts";
import { registerWasmTrainingKernels, type WasmKernelLevel } from "./wasm-kernels.ts";

/** A backend `@selmix` can run on, fastest first. */
export type BackendName = "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu";
/** A backend to ask {@link initBackend} for; `"auto"` tries every {@link BackendName} in order. */
export type BackendChoice = BackendName | "auto";

/**
 * The order `"auto"` tries.
 *
 * @example
 * {@includeCode ./examples.test.ts#BACKEND_ORDER}
 */
export const BACKEND_ORDER: readonly BackendName[] = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"];

/** One attempt made by {@link initBackend}. */
export interface BackendAttempt {
  /** The backend tried. */
  readonly name: BackendName;
  /** Whether it initialised. */
  readonly ok: boolean;
  /** Why it failed (first line of the error), or `"ok"`. */
  readonly reason: string;
}

/** What {@link initBackend} chose. */
export interface BackendInfo {
  /** The backend now running (`tf.getBackend()` reports `"tensorflow"` for both native ones). */
  readonly name: BackendName;
  /** Every attempt, in order, the successful one last. */
  readonly tried: readonly BackendAttempt[];
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Backend to use. Without it, `SELMIX_BACKEND` is read, then `"auto"`. A named backend that fails throws. */
  readonly name?: BackendChoice;
  /** wasm training kernels to register. @defaultValue "fast" */
  readonly wasmKernels?: WasmKernelLevel;
  /** Environment to read `SELMIX_BACKEND` from. @defaultValue process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const NATIVE_PACKAGE: Record<"tensorflow-gpu" | "tensorflow", string> = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
};
const CHOICES: readonly BackendChoice[] = ["auto", ...BACKEND_ORDER];

async function setBackendChecked(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`setBackend('${name}') returned false`);
  await tf.ready();
  if (tf.getBackend() !== name) throw new Error(`tf.getBackend() is '${tf.getBackend()}' after setBackend('${name}')`);
}

async function loadNative(pkg: string): Promise<void> {
  // The specifier lives in a variable, so neither TypeScript nor bundlers try to resolve the optional peer. Any
  // error counts as "unavailable": a package installed without its native addon throws a plain Error.
  const spec: string = pkg;
  await import(spec);
  if (tf.engine().findBackendFactory("tensorflow") == null) {
    throw new Error(`${pkg} loaded but registered no 'tensorflow' backend (another copy of tfjs-core?)`);
  }
  await setBackendChecked("tensorflow");
}

async function loadWasm(level: WasmKernelLevel): Promise<void> {
  await import("@tensorflow/tfjs-backend-wasm"); // in Node the .wasm files load from node_modules
  registerWasmTrainingKernels(level); // before setBackend: setupFuncs run at backend init
  await setBackendChecked("wasm");
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}

function parseChoice(value: string, source: string): BackendChoice {
  const v = value.trim();
  if ((CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new SelmixError("INVALID_ARGUMENT", `${source} must be one of ${CHOICES.join(", ")}, got '${value}'`);
}

/**
 * Picks and initialises the tfjs backend: `tensorflow-gpu` (`@tensorflow/tfjs-node-gpu`), then `tensorflow`
 * (`@tensorflow/tfjs-node`), both optional peers loaded by a guarded dynamic import, then `wasm` (SIMD, with the
 * fast training kernels of {@link registerWasmTrainingKernels}), then `cpu`. Or exactly the one asked for through
 * `options.name` or the `SELMIX_BACKEND` environment variable. Checks that `setBackend` really switched (tfjs
 * silently stays on `cpu` when wasm fails to start).
 *
 * @throws `SelmixError` `INVALID_ARGUMENT` if the name (or `SELMIX_BACKEND`) is not a {@link BackendChoice};
 *   `BACKEND_UNAVAILABLE` if the named backend, or under `"auto"` every backend, fails to start.
 * @example
 * {@includeCode ./examples.test.ts#initBackend}
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const env = options.env ?? process.env;
  const fromEnv = env.SELMIX_BACKEND;
  const choice =
    options.name !== undefined
      ? parseChoice(options.name, "backend name")
      : fromEnv !== undefined && fromEnv.trim() !== ""
        ? parseChoice(fromEnv, "SELMIX_BACKEND")
        : "auto";
  const candidates = choice === "auto" ? BACKEND_ORDER : [choice];
  const level = options.wasmKernels ?? "fast";
  const tried: BackendAttempt[] = [];
  for (const name of candidates) {
    try {
      if (name === "tensorflow-gpu" || name === "tensorflow") await loadNative(NATIVE_PACKAGE[name]);
      else if (name === "wasm") await loadWasm(level);
      else await setBackendChecked("cpu");
      tried.push({ name, ok: true, reason: "ok" });
      currentBackend = name;
      return { name, tried };
    } catch (error) {
      tried.push({ name, ok: false, reason: firstLine(error) });
    }
  }
  const detail = tried.map((t) => `${t.name}: ${t.reason}`).join("; ");
  throw new SelmixError("BACKEND_UNAVAILABLE", `no tfjs backend could be started (${detail})`);
}

let currentBackend: BackendName | undefined;

/**
 * The backend chosen by the last successful {@link initBackend}, or `undefined` before one (or when something else
 * switched backends since; the value is then checked against `tf.getBackend()`).
 *
 * @example
 * {@includeCode ./examples.test.ts#activeBackend}
 */
export function activeBackend(): BackendName | undefined {
  if (currentBackend === undefined) return undefined;
  const running = tf.getBackend();
  const expected = currentBackend === "tensorflow-gpu" ? "tensorflow" : currentBackend;
  return running === expected ? currentBackend : undefined;
}
