import { createManifest, loadSource, resolveProfile, type Splits, splitsFromManifest, type Subset } from "@selmix/datasets";

/** A small MNIST long-tail problem for tests: ~1,100 labelled images, 60 validation and 100 test images per class. */
export async function smallMnist(): Promise<Splits & { readonly testSmall: Subset }> {
  const source = await loadSource("mnist");
  const manifest = createManifest(source, resolveProfile("supervised", { n1: 400, rho: 20, valPerClass: 60 }), 0);
  const splits = splitsFromManifest(source, manifest);
  const perClass = new Map<number, number>();
  const keep = Array.from(splits.test.indices).filter((i) => {
    const y = source.test.labels[i]!;
    const n = perClass.get(y) ?? 0;
    perClass.set(y, n + 1);
    return n < 100;
  });
  return { ...splits, testSmall: { dataset: splits.test.dataset, indices: Int32Array.from(keep) } };
}
