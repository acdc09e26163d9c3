export { createClassBalancedSampler, createInstanceBalancedSampler } from "./balanced-samplers.ts";
export type {
  ClassBalancedSamplerOptions,
  IndexSampler,
  InstanceBalancedSampler,
  InstanceBalancedSamplerOptions,
  InstanceSamplerState,
} from "./balanced-samplers.ts";
export { createPairSampler, createUniformPairSampler, withExploration } from "./pair-sampler.ts";
export type { PairBatch, PairSampler, PairSamplerOptions, UniformPairSamplerOptions } from "./pair-sampler.ts";
export type { Pool } from "./pool.ts";
export { pseudoLabelPool } from "./pseudo-label.ts";
export type { PseudoLabelOptions, PseudoLabelPredictions } from "./pseudo-label.ts";
