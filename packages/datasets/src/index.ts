export { cutout, randAugmentOps, strongAugment, weakAugment } from "./augment.ts";
export type { AugmentFill, AugmentKind, AugmentOptions } from "./augment.ts";
export type { ImageShape } from "./augment-ops.ts";
export { createBatchIterator, toFloatBatch } from "./batches.ts";
export type { Batch, BatchIterator, BatchIteratorOptions } from "./batches.ts";
export { cifarRecordSize, parseCifar } from "./cifar.ts";
export type { CifarBatch, CifarVariant } from "./cifar.ts";
export { classHistogram, datasetSize, imageSize } from "./dataset.ts";
export type { Dataset } from "./dataset.ts";
export { encodeIdx, idxToDataset, parseIdx, readIdx } from "./idx.ts";
export type { IdxArray } from "./idx.ts";
export { FILE_FORMATS, inspectFile } from "./inspect.ts";
export type { FileFormat, FileReport } from "./inspect.ts";
export { longTailCounts } from "./long-tail.ts";
export {
  buildSplits,
  createManifest,
  loadManifest,
  materialize,
  parseManifest,
  safeParseManifest,
  serializeManifest,
  splitsFromManifest,
  writeManifest,
} from "./manifest.ts";
export type { Manifest, ManifestSplit, PerSplit, SplitName, SplitPool, Splits, Subset } from "./manifest.ts";
export { PROFILE_NAMES, resolveProfile } from "./profiles.ts";
export type { ProfileName, ProfileOptions, ProfileParams } from "./profiles.ts";
export { DEBIAN_FASHION_MNIST_DIR, loadSource, SOURCE_NAMES } from "./sources.ts";
export type { ChecksumStatus, LoadSourceOptions, Source, SourceFile, SourceName } from "./sources.ts";
export { drawSplits, profileCounts } from "./splits.ts";
export { hashedNgrams, TEXT_BUCKETS } from "./text.ts";
export type { TextTokens } from "./text.ts";
export { DEBIAN_WORDNET_DIR, parseWordnetNouns, WORDNET_NOUN_CATEGORIES, WORDNET_TEST_PER_CLASS } from "./wordnet.ts";
export type { WordnetSynset } from "./wordnet.ts";
export type { SplitIndices, SplitPools } from "./splits.ts";
export { parseStl10Labels, readStl10Images, STL10_SIZE } from "./stl10.ts";
export type { Stl10Images, Stl10ReadOptions } from "./stl10.ts";
