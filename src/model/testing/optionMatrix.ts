import { ABS_TOPK_LOCATIONS, type ModelConfig } from '../config';
import { ALL_ABS_TOPK_LOCATIONS } from './randomCheckpoint';

/**
 * Every architecture option of the released models, one at a time and all together, on tiny random
 * checkpoints (d_model 16, 2 layers, 2 heads of d_head 6 so H*d_head != d_model, d_mlp 32, vocab 48).
 * Used by the Vitest (cpu, wasm) and Playwright (webgl, webgpu) golden tests against the float64 reference.
 */
export const OPTION_CASES: [string, Partial<ModelConfig>][] = [
  ['baseline (rms, gelu, bias, untied)', {}],
  ['sink', { sink: true }],
  ['bigram', { bigramTable: true }],
  ...ABS_TOPK_LOCATIONS.map((loc): [string, Partial<ModelConfig>] => [`abstopk ${loc}`, { afrac: 0.25, afracLocations: new Set([loc]) }]),
  ['abstopk all eight', { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS }],
  ['layernorm with bias', { rmsNorm: false, lnBias: true }],
  ['layernorm without bias', { rmsNorm: false, lnBias: false }],
  ['tied unembedding', { tiedUnembed: true }],
  ['relu', { activation: 'relu' }],
  ['no biases', { bias: false }],
  ['4 heads of d_head 3', { nHead: 4, dHead: 3 }],
  ['everything at once', {
    sink: true, bigramTable: true, afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS, rmsNorm: false,
    tiedUnembed: true, activation: 'relu', nHead: 3, dHead: 5, nLayer: 3,
  }],
];
