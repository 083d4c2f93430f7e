/**
 * Seeded random checkpoints of tiny weight-sparse GPTs, for tests. Every tensor the config needs is generated,
 * and `means` holds the mean post-AbsTopK value of every hook site over a few random token sequences
 * (computed with the float64 reference forward pass).
 */
import { ABS_TOPK_LOCATIONS, parseConfig, configToJson, type AbsTopKLocation, type ModelConfig } from '../config';
import type { HostTensor, LoadedCheckpoint } from '../weights';
import { referenceForward } from '../reference/referenceForward';
import { SeededRng } from '../../tasks/seeded';

export interface RandomCheckpointOptions {
  config: Partial<ModelConfig>;
  seed?: number;
  /** Fraction of nonzero entries in weight matrices (default 0.25). */
  density?: number;
}

const DEFAULT_CONFIG: ModelConfig = {
  blockSize: 32,
  vocabSize: 48,
  nLayer: 2,
  nHead: 2,
  dHead: 6,
  dModel: 16,
  dMlp: 32,
  rmsNorm: true,
  lnBias: true,
  bias: true,
  activation: 'gelu',
  afrac: null,
  afracLocations: new Set<AbsTopKLocation>(['attn_in', 'attn_out', 'mlp_in', 'mlp_out']),
  bigramTable: false,
  sink: false,
  tiedUnembed: false,
};

/** Every AbsTopK location, for configs that sparsify everywhere (as the released models do). */
export const ALL_ABS_TOPK_LOCATIONS: ReadonlySet<AbsTopKLocation> = new Set(ABS_TOPK_LOCATIONS);

/**
 * A full ModelConfig from a partial one (defaults: a tiny 2-layer model, see DEFAULT_CONFIG). The result is
 * round-tripped through configToJson/parseConfig, so it is valid and what a config.json reader would produce.
 */
export function makeConfig(partial: Partial<ModelConfig> = {}): ModelConfig {
  const merged: ModelConfig = { ...DEFAULT_CONFIG, ...partial };
  const json = configToJson(merged);
  if (json.tokenizer_name === undefined) delete json.tokenizer_name;
  return parseConfig(json);
}

function tensor(shape: number[], fill: (i: number) => number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = fill(i);
  return { shape, data };
}

/**
 * A [rows, cols] matrix with entries N(0, std) at the given density. With `everyRow`, each row gets at least one
 * nonzero (used for embeddings, so that no token or position embeds to exactly zero).
 */
function sparseMatrix(rng: SeededRng, rows: number, cols: number, density: number, std: number, everyRow = false): HostTensor {
  const t = tensor([rows, cols], () => (rng.uniform() < density ? std * rng.normal() : 0));
  if (everyRow || !t.data.some((v) => v !== 0)) {
    for (let r = 0; r < rows; r++) {
      let any = false;
      for (let c = 0; c < cols; c++) any ||= t.data[r * cols + c] !== 0;
      if (!any && (everyRow || r === 0)) t.data[r * cols + rng.int(cols)] = std * (rng.normal() || 1);
    }
  }
  return t;
}

export function randomCheckpoint(opts: RandomCheckpointOptions): LoadedCheckpoint {
  const config = makeConfig(opts.config);
  const density = opts.density ?? 0.25;
  if (!(density > 0 && density <= 1)) throw new Error(`randomCheckpoint: density ${density} must be in (0, 1]`);
  const rng = new SeededRng(opts.seed ?? 1);
  const { vocabSize: V, blockSize: B, dModel: d, nHead: H, dHead: dh, dMlp, nLayer } = config;
  const Q = H * dh;
  const std = 0.3;

  const tensors = new Map<string, HostTensor>();
  const put = (name: string, t: HostTensor) => tensors.set(name, t);
  const vec = (n: number, mean: number, s: number) => tensor([n], () => mean + s * rng.normal());
  const normParams = (prefix: string) => {
    put(`${prefix}.weight`, vec(d, 1, 0.1));
    if (!config.rmsNorm && config.lnBias) put(`${prefix}.bias`, vec(d, 0, 0.1));
  };
  // Weight std scaled so that each output sums ~density*fanIn terms of O(1) inputs into an O(1) value.
  const matStd = (fanIn: number) => 1 / Math.sqrt(Math.max(1, density * fanIn));

  put('transformer.wte.weight', sparseMatrix(rng, V, d, density, 1, true));
  put('transformer.wpe.weight', sparseMatrix(rng, B, d, density, std, true));
  for (let L = 0; L < nLayer; L++) {
    const p = `transformer.h.${L}`;
    normParams(`${p}.ln_1`);
    put(`${p}.attn.c_attn.weight`, sparseMatrix(rng, 3 * Q, d, density, matStd(d)));
    if (config.bias) put(`${p}.attn.c_attn.bias`, vec(3 * Q, 0, 0.1));
    put(`${p}.attn.c_proj.weight`, sparseMatrix(rng, d, Q, density, matStd(Q)));
    if (config.bias) put(`${p}.attn.c_proj.bias`, vec(d, 0, 0.1));
    if (config.sink) put(`${p}.attn.attn_imp.sink_logit`, vec(H, 0, 1));
    normParams(`${p}.ln_2`);
    put(`${p}.mlp.c_fc.weight`, sparseMatrix(rng, dMlp, d, density, matStd(d)));
    if (config.bias) put(`${p}.mlp.c_fc.bias`, vec(dMlp, 0, 0.1));
    put(`${p}.mlp.c_proj.weight`, sparseMatrix(rng, d, dMlp, density, matStd(dMlp)));
    if (config.bias) put(`${p}.mlp.c_proj.bias`, vec(d, 0, 0.1));
  }
  normParams('transformer.ln_f');
  if (!config.tiedUnembed) put('lm_head.weight', sparseMatrix(rng, V, d, density, matStd(d)));
  if (config.bias) put('final_logits_bias', vec(V, 0, 0.1));
  if (config.bigramTable) put('bigram_table', tensor([V, V], () => 0.1 * rng.normal()));

  const ckpt: LoadedCheckpoint = { config, tensors, means: new Map() };
  ckpt.means = computeMeans(ckpt, rng);
  return ckpt;
}

/** Mean of every hook site's channels over all positions of a few random token sequences. */
function computeMeans(ckpt: LoadedCheckpoint, rng: SeededRng): Map<string, Float32Array> {
  const { vocabSize: V, blockSize: B } = ckpt.config;
  const T = Math.min(B, 16);
  const sums = new Map<string, Float64Array>();
  let count = 0;
  for (let s = 0; s < 3; s++) {
    const tokens = Array.from({ length: T }, () => rng.int(V));
    const { sites } = referenceForward(ckpt, tokens);
    for (const [name, buf] of sites) {
      const width = buf.length / T;
      let acc = sums.get(name);
      if (!acc) sums.set(name, (acc = new Float64Array(width)));
      for (let t = 0; t < T; t++) for (let ch = 0; ch < width; ch++) acc[ch] += buf[t * width + ch]!;
    }
    count += T;
  }
  const means = new Map<string, Float32Array>();
  for (const [name, acc] of sums) means.set(name, Float32Array.from(acc, (v) => v / count));
  return means;
}
