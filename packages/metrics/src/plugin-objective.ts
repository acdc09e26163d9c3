import { SelmixError } from "@selmix/core";
import { type ConfusionMatrix, clip, normalize } from "./confusion.ts";
import { CONFUSION_CLIP, type Objective } from "./objective.ts";

/** A user-defined objective: only ψ(C) is needed. */
export interface PluginObjectiveOptions {
  /** Name of the objective. */
  readonly name: string;
  /** ψ of a joint confusion matrix (entries sum to 1, rows = true class). Must be smooth near the evaluation point. */
  readonly psi: (cm: ConfusionMatrix) => number;
  /** Relative step of the finite differences (times the smaller of the entry's row and column sums). @defaultValue 1e-5 */
  readonly relativeStep?: number;
}

/**
 * Derivative of ψ at C by Richardson-extrapolated central differences: for each entry,
 * D = (4·d(h/2) − d(h)) / 3 with d(h) = (ψ(C + h·e) − ψ(C − h·e)) / 2h. The truncation error is O(h⁴) and the
 * rounding error about ε/h, so with h ≈ 1e-5 of the smaller of the entry's row and column mass the result agrees with
 * the analytic gradients to better than 1e-6 relative (property-tested against every built-in metric). Cost: 4·K² evaluations of ψ (K = 10: 400 calls; K = 100: 40,000).
 *
 * @param psi - The objective ψ of a confusion matrix.
 * @param cm - Where to differentiate.
 * @param relativeStep - Relative finite-difference step h.
 * @returns ∂ψ/∂C, row-major [K, K].
 * @throws `SelmixError` `INVALID_VALUE` if `psi` returns a non-finite value near `cm`.
 * @example
 * {@includeCode ./examples.test.ts#numericDerivative}
 */
export function numericDerivative(psi: (cm: ConfusionMatrix) => number, cm: ConfusionMatrix, relativeStep = 1e-5): Float64Array {
  const k = cm.numClasses;
  const base = cm.values;
  const rows = new Float64Array(k);
  const cols = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      rows[i]! += base[i * k + j]!;
      cols[j]! += base[i * k + j]!;
    }
  }
  const work = Float64Array.from(base);
  const probe: ConfusionMatrix = { numClasses: k, values: work };
  const at = (idx: number, delta: number): number => {
    work[idx] = base[idx]! + delta;
    const v = psi(probe);
    work[idx] = base[idx]!;
    if (!Number.isFinite(v)) throw new SelmixError("INVALID_VALUE", `psi returned ${v} near entry [${Math.floor(idx / k)}][${idx % k}]`);
    return v;
  };
  const out = new Float64Array(k * k);
  for (let idx = 0; idx < k * k; idx++) {
    const h = relativeStep * Math.max(Math.min(rows[Math.floor(idx / k)]!, cols[idx % k]!), 1e-12);
    const d1 = (at(idx, h) - at(idx, -h)) / (2 * h);
    const d2 = (at(idx, h / 2) - at(idx, -h / 2)) / h;
    out[idx] = (4 * d2 - d1) / 3;
  }
  return out;
}

/**
 * Turns a plain function ψ(C) into an {@link Objective}: its derivative is computed numerically (see
 * {@link numericDerivative}) at the joint matrix clipped at 1e-7, the point where the reference evaluates built-in
 * derivatives. The derivative is the full gradient (row sums included), so it holds under either class prior of the
 * gain. No multipliers; normaliser 1.
 *
 * @throws `SelmixError` `INVALID_VALUE` if ψ is not finite at or near C.
 * @example
 * {@includeCode ./examples.test.ts#pluginObjective}
 */
export function pluginObjective(options: PluginObjectiveOptions): Objective {
  const { name, psi, relativeStep } = options;
  if (typeof psi !== "function") throw new SelmixError("INVALID_ARGUMENT", `plug-in objective "${name}" needs a psi function`);
  return {
    name,
    value: (cm) => psi(normalize(cm)),
    linearize(cm) {
      const at = clip(normalize(cm), CONFUSION_CLIP);
      return { derivative: numericDerivative(psi, at, relativeStep), normalizer: 1, state: { multipliers: null } };
    },
  };
}
