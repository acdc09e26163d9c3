import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { createManifest } from "./manifest.ts";
import { resolveProfile } from "./profiles.ts";
import { DEBIAN_FASHION_MNIST_DIR, loadSource } from "./sources.ts";

const available = existsSync(DEBIAN_FASHION_MNIST_DIR);
if (!available) {
  console.warn(`skipping Fashion-MNIST tests: ${DEBIAN_FASHION_MNIST_DIR} is missing (apt-get install -y dataset-fashion-mnist)`);
}

describe.skipIf(!available)("Fashion-MNIST (Debian dataset-fashion-mnist)", () => {
  test("loads, verifies checksums and builds the supervised and semi-supervised profiles", async () => {
    const src = await loadSource("fashion-mnist", { checksums: "strict" });
    expect(src.checksum).toBe("verified");
    expect(src.flip).toBe(true);
    expect(Array.from(src.train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(Array.from(src.test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    const m = createManifest(src, resolveProfile("supervised"), 0);
    expect(m.counts.labeled).toEqual([5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]);
    expect(m.counts.test).toEqual(new Array(10).fill(1000));
    const ssl = createManifest(src, resolveProfile("semi-supervised", { rhoU: 1 }), 0);
    expect(ssl.totals).toEqual({ labeled: 3720, unlabeled: 30000, validation: 5000, test: 10000 });
  });
});
