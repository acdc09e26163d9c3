import { fc, test as property } from "@fast-check/vitest";
import { type ConfusionMatrix, createObjective, fromValues, OBJECTIVE_NAMES, type ObjectiveName } from "@selmix/metrics";
import { describe, expect, test } from "vitest";
import { literalGain } from "../test/literal.ts";
import { gainMatrix, gainMatrixStreaming } from "./gain-matrix.ts";

interface Problem {
  readonly k: number;
  readonly dim: number;
  readonly confusion: ConfusionMatrix;
  readonly z: Float64Array;
  readonly w: Float64Array;
  readonly b: Float64Array;
}

const small = fc.double({ min: -2, max: 2, noNaN: true });

function arbProblem(maxK = 6, maxDim = 5, scale = 1): fc.Arbitrary<Problem> {
  return fc
    .record({ k: fc.integer({ min: 2, max: maxK }), dim: fc.integer({ min: 1, max: maxDim }) })
    .chain(({ k, dim }) =>
      fc.record({
        k: fc.constant(k),
        dim: fc.constant(dim),
        confusion: fc
          .array(fc.integer({ min: 0, max: 50 }), { minLength: k * k, maxLength: k * k })
          .map((v) => fromValues(k, v.map((x, idx) => (Math.floor(idx / k) === idx % k ? x + 1 : x)))),
        z: fc.array(small, { minLength: k * dim, maxLength: k * dim }).map((a) => Float64Array.from(a, (x) => x * scale)),
        w: fc.array(small, { minLength: k * dim, maxLength: k * dim }).map((a) => Float64Array.from(a)),
        b: fc.array(small, { minLength: k, maxLength: k }).map((a) => Float64Array.from(a)),
      }),
    );
}

function close(a: Float64Array, e: Float64Array, rtol = 1e-9): void {
  const scale = Math.max(...e.map(Math.abs), 1e-300);
  a.forEach((v, idx) => {
    if (!(Math.abs(v - e[idx]!) <= 1e-10 * scale + rtol * Math.abs(e[idx]!))) {
      expect.fail(`entry ${idx}: ${v} vs ${e[idx]} (scale ${scale})`);
    }
  });
}

const inputsOf = (p: Problem, name: ObjectiveName) => ({
  confusion: p.confusion,
  prototypes: p.z,
  weights: p.w,
  bias: p.b,
  dim: p.dim,
  objective: createObjective(name),
});

describe("gainMatrix", () => {
  property.prop([arbProblem(), fc.constantFrom(...OBJECTIVE_NAMES), fc.boolean(), fc.boolean()])(
    "equals the literal K^4 definition for every objective and switch",
    (p, name, exact, validationPrior) => {
      const options = { targetTerm: exact ? "exact" : "reference", prior: validationPrior ? "validation" : "uniform" } as const;
      const fast = gainMatrix(inputsOf(p, name), options).gain;
      const literal = literalGain(p.confusion, p.z, p.w, p.b, p.dim, createObjective(name), { exact, validationPrior });
      close(fast, literal, 1e-8);
    },
  );

  property.prop([arbProblem(30, 16, 3), fc.constantFrom(...OBJECTIVE_NAMES)], { numRuns: 30 })("equals the streaming form", (p, name) => {
    close(gainMatrix(inputsOf(p, name)).gain, gainMatrixStreaming(inputsOf(p, name)).gain, 1e-9);
  });

  test("falls back to the streaming form where the factorised sums underflow", () => {
    const k = 3;
    const dim = 2;
    // logit gaps of thousands: exp(-λ̄·gap) underflows in the factorised sums
    const z = Float64Array.of(40, 0, 0, 40, -40, -40);
    const w = Float64Array.of(60, 0, 0, 60, -30, -30);
    const b = Float64Array.of(0, 0, 0);
    const confusion = fromValues(k, [8, 1, 1, 1, 8, 1, 1, 1, 8]);
    const inputs = { confusion, prototypes: z, weights: w, bias: b, dim, objective: createObjective("mean-recall") };
    const fast = gainMatrix(inputs);
    expect(fast.fallbackEntries).toBeGreaterThan(0);
    expect(fast.gain.every(Number.isFinite)).toBe(true);
    close(fast.gain, gainMatrixStreaming(inputs).gain, 1e-9);
  });

  test("carries the objective state out", () => {
    const p: Problem = {
      k: 2,
      dim: 1,
      confusion: fromValues(2, [9, 1, 5, 5]),
      z: Float64Array.of(1, -1),
      w: Float64Array.of(1, -1),
      b: Float64Array.of(0, 0),
    };
    const { linearization } = gainMatrix(inputsOf(p, "min-recall"));
    expect(linearization.state.multipliers![1]).toBeGreaterThan(0.99); // class 1 is the worst
  });

  test.each([
    [{ prototypes: new Float64Array(3) }, "INVALID_SHAPE"],
    [{ bias: Float64Array.of(0, Number.NaN) }, "INVALID_VALUE"],
    [{ dim: 0 }, "INVALID_SHAPE"],
  ])("rejects bad input %#", (patch, code) => {
    const base = {
      confusion: fromValues(2, [9, 1, 5, 5]),
      prototypes: Float64Array.of(1, -1),
      weights: Float64Array.of(1, -1),
      bias: Float64Array.of(0, 0),
      dim: 1,
      objective: createObjective("mean-recall"),
    };
    expect(() => gainMatrix({ ...base, ...patch })).toThrow(expect.objectContaining({ code }));
  });
});
