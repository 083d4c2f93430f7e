import { compileInterventions } from './applyInterventions';
import { makeBlockOps } from './blockOps';
import { attentionBlock, embed, finalNorm, mlpBlock, type BlockOps } from './blocks';
import type { ModelConfig } from './config';
import { disposeInterventions, GpuWeights, uploadInterventions, type DeviceInterventions } from './gpu-weights';
import type { AblationMode, Intervention } from './interventions';
import { causalMask } from './layers';
import { allSites, siteWidth, type SiteName } from './sites';
import { defaultSparseKernel, type SparseKernel } from './sparseLinear';
import { tf } from './tfjs';
import type { LoadedCheckpoint } from './weights';

export interface ForwardOptions {
  /** Sites whose values (after AbsTopK and any intervention/mask) are returned. With startLayer, sites of
   *  earlier layers are not computed and are absent. */
  record?: SiteName[] | 'all';
  /** Layers whose attention patterns [B, H, T, T] are returned. */
  recordAttention?: number[];
  /** Return the residual stream entering each computed layer (and, under key nLayer, the final one
   *  before the final_resid site), for later incremental recompute. */
  recordResidual?: boolean;
  interventions?: readonly Intervention[];
  /** Continuous node masks for pruning: a site value becomes x*m + fill*(1-m), applied after interventions.
   *  Differentiable w.r.t. m. */
  nodeMasks?: Map<SiteName, tf.Tensor1D>;
  /** fill for nodeMasks: the site mean (default) or 0. */
  maskFill?: AblationMode;
  /** Incremental recompute: start at this layer from `residualIn` (the residual stream entering it, e.g.
   *  from an earlier run's `residuals`). Valid only if nothing before this layer changed since. */
  startLayer?: number;
  residualIn?: tf.Tensor3D;
  /** One-hot [B, T, 1] of one position per sequence: only that position goes through the final norm and the
   *  unembedding, and logits come back [B, 1, V]. A task loss reads one position of 32 and two of V logits, so the
   *  unembedding of every position would be most of the work of a pruning step (the final norm and the unembedding
   *  act on each position alone, so the logits read are the same). Sites and residuals are still of every position. */
  readAt?: tf.Tensor3D;
}

export interface ForwardTensors {
  logits: tf.Tensor3D;
  records: Map<SiteName, tf.Tensor3D>;
  attention: Map<number, tf.Tensor4D>;
  residuals: Map<number, tf.Tensor3D>;
}

export type RunOptions = ForwardOptions;

export interface RunResult {
  /** [T * V] row-major. */
  logits: Float32Array;
  /** site -> [T * width]. */
  sites: Map<SiteName, Float32Array>;
  /** layer -> [H * T * T]. */
  attention: Map<number, Float32Array>;
  /** Only with recordResidual: device tensors [1, T, d_model] that the caller owns and must dispose. */
  residuals?: Map<number, tf.Tensor3D>;
}

/**
 * Logits of the final residual stream x [B, T, d]: at every position, or with `readAt` (a one-hot [B, T, 1]) only at
 * the marked one, [B, 1, V]. The bigram table (if any) is looked up with the token at the same position.
 */
export function unembedAt(ops: BlockOps, c: ModelConfig, x: tf.Tensor3D, tokens: tf.Tensor2D, readAt?: tf.Tensor3D): tf.Tensor3D {
  const pick = (t: tf.Tensor3D) => tf.sum(tf.mul(t, readAt!), 1, true) as tf.Tensor3D;
  const xr = readAt ? pick(x) : x;
  // Residual-edge patches waiting for final_resid are laid out like the stream: narrowed the same way.
  if (readAt) ops.narrowPatches(pick);
  let logits = ops.lin(finalNorm(ops, xr), 'lm_head.weight', 'final_logits_bias');
  if (c.bigramTable) {
    // The token at the read position, picked by the one-hot (exact: token ids are far below 2^24).
    const tok = readAt ? tf.cast(tf.sum(tf.mul(tf.cast(tokens, 'float32'), tf.squeeze(readAt, [2])), 1, true), 'int32') : tokens;
    logits = tf.add(logits, tf.gather(ops.mustWeight('bigram_table'), tok as tf.Tensor2D));
  }
  return logits;
}

/** f() (a run over ops), then ops.release(), also when f throws. */
function releasing<T>(ops: BlockOps, f: () => T): T {
  try {
    return f();
  } finally {
    ops.release();
  }
}

export interface SparseGptOptions {
  /** How linear weights kept sparse (ckpt.sparse) are multiplied (default: defaultSparseKernel of the backend). */
  sparseKernel?: SparseKernel;
}

/**
 * A weight-sparse GPT on the active TF.js backend. Weights are uploaded dense once (sparsity buys nothing
 * on GPU matmuls at these sizes), except the linear weights of a checkpoint loaded in the sparse representation
 * (ckpt.sparse: large models, where it is what fits and what runs fastest on cpu/wasm; src/model/memoryEstimate.ts),
 * which stay on the host and go through sparseLinear. Intervention lists are compiled to edited weight copies and per-site
 * vectors, cached for the most recent non-empty list and freed when it changes or on dispose().
 */
export class SparseGpt {
  readonly config: ModelConfig;
  private readonly weights: GpuWeights;
  private readonly means = new Map<string, tf.Tensor1D>();
  private cache: { key: string; device: DeviceInterventions } | null = null;
  /** Causal masks by sequence length, so GPU backends don't re-upload one per call; a few lengths at most. */
  private readonly masks = new Map<number, tf.Tensor2D>();

  private readonly sparseKernel: SparseKernel;

  constructor(readonly ckpt: LoadedCheckpoint, opts: SparseGptOptions = {}) {
    this.config = ckpt.config;
    this.sparseKernel = opts.sparseKernel ?? defaultSparseKernel(tf.getBackend());
    this.weights = new GpuWeights(ckpt);
    for (const [site, m] of ckpt.means) this.means.set(site, tf.keep(tf.tensor1d(m)));
  }

  static fromCheckpoint(ckpt: LoadedCheckpoint, opts: SparseGptOptions = {}): SparseGpt {
    return new SparseGpt(ckpt, opts);
  }

  dispose(): void {
    this.weights.dispose();
    for (const m of this.means.values()) m.dispose();
    this.means.clear();
    this.dropCache();
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }

  /**
   * Replaces the site means (means computed in the page for a folder without means.safetensors, siteMeans.ts): the
   * checkpoint's map (which intervention compilation and edge pruning read) and the device copies that mean-filled
   * masks use. The compiled intervention list is dropped, as it may hold the old means. Every site of this model must
   * have a finite mean of its width; otherwise nothing changes.
   */
  setMeans(means: ReadonlyMap<string, Float32Array>): void {
    for (const site of allSites(this.config)) {
      const m = means.get(site);
      if (!m) throw new Error(`no mean for site ${site}`);
      if (m.length !== siteWidth(this.config, site)) throw new Error(`the mean of site ${site} has ${m.length} channels, the site has ${siteWidth(this.config, site)}`);
      if (!m.every(Number.isFinite)) throw new Error(`the mean of site ${site} is not finite`);
    }
    this.ckpt.means.clear();
    for (const m of this.means.values()) m.dispose();
    this.means.clear();
    for (const site of allSites(this.config)) {
      const m = means.get(site)!;
      this.ckpt.means.set(site, m);
      this.means.set(site, tf.keep(tf.tensor1d(m)));
    }
    this.dropCache();
  }

  /** The additive causal mask [T, T], kept per length (callers must not dispose it). */
  causalMask(T: number): tf.Tensor2D {
    let m = this.masks.get(T);
    if (!m) {
      if (this.masks.size >= 4) {
        const [oldest, t] = this.masks.entries().next().value!;
        t.dispose();
        this.masks.delete(oldest);
      }
      m = tf.keep(causalMask(T));
      this.masks.set(T, m);
    }
    return m;
  }

  /** Device bytes held by the base weights. */
  get weightBytes(): number {
    return this.weights.bytes;
  }

  /** Host bytes of the linear weights kept sparse (0 in the dense representation). */
  get sparseWeightBytes(): number {
    return this.weights.sparseBytes;
  }

  private dropCache(): void {
    if (this.cache) disposeInterventions(this.cache.device);
    this.cache = null;
  }

  /** Device form of an intervention list; an empty list leaves the cache alone so toggling back is free. */
  private deviceInterventions(list: readonly Intervention[]): DeviceInterventions | null {
    if (list.length === 0) return null;
    const key = JSON.stringify(list);
    if (this.cache?.key !== key) {
      const compiled = compileInterventions(this.ckpt, list); // may throw: keep the old cache until it succeeds
      this.dropCache();
      this.cache = { key, device: uploadInterventions(compiled) };
    }
    return this.cache.device;
  }

  /**
   * The block operations (blocks.ts) for one run under an intervention list (blockOps.ts), with `siteHook` after each
   * hook site's interventions. Valid until a call with another non-empty list replaces the cached device form of this
   * one; the run calls release() when done (it frees residual-edge patches kept across layers).
   */
  blockOps(interventions: readonly Intervention[], siteHook?: (name: SiteName, y: tf.Tensor3D) => tf.Tensor3D): BlockOps {
    return makeBlockOps(this.config, this.weights, this.deviceInterventions(interventions), this.sparseKernel, siteHook);
  }

  /**
   * Synchronous forward pass on int32 tokens [B, T]. Intermediates are freed; the returned tensors belong
   * to the caller's scope (so this works inside tf.tidy and tf.grad). Logits are [B, T, V].
   */
  forwardTensors(tokens: tf.Tensor2D, opts: ForwardOptions = {}): ForwardTensors {
    const c = this.config;
    const [B, T] = tokens.shape;
    const start = opts.startLayer ?? 0;
    if (T > c.blockSize) throw new Error(`sequence length ${T} exceeds block_size ${c.blockSize}`);
    if (!Number.isInteger(start) || start < 0 || start > c.nLayer) throw new Error(`startLayer ${start} out of range`);
    if (start > 0) {
      const r = opts.residualIn;
      if (!r) throw new Error('startLayer > 0 needs residualIn');
      if (r.shape[0] !== B || r.shape[1] !== T || r.shape[2] !== c.dModel) throw new Error(`residualIn shape ${r.shape} != [${B},${T},${c.dModel}]`);
    }
    const recordAll = opts.record === 'all';
    const recordSet = new Set<string>(recordAll ? [] : (opts.record ?? []));
    const attnSet = new Set(opts.recordAttention ?? []);
    const maskFill = opts.maskFill ?? 'mean';
    for (const [site, m] of opts.nodeMasks ?? []) {
      if (m.size !== siteWidth(c, site)) throw new Error(`node mask for ${site} has ${m.size} entries, site width is ${siteWidth(c, site)}`);
      if (maskFill === 'mean' && !this.means.has(site)) throw new Error(`maskFill 'mean' needs the mean of ${site}`);
    }

    const recNames: SiteName[] = [];
    const attnLayers: number[] = [];
    const resLayers: number[] = [];
    const recs: tf.Tensor3D[] = [];
    const atts: tf.Tensor4D[] = [];
    const ress: tf.Tensor3D[] = [];
    // After the interventions: the pruning mask, then recording (the value the rest of the model sees).
    const ops = this.blockOps(opts.interventions ?? [], (name, x) => {
      let y = x;
      const m = opts.nodeMasks?.get(name);
      if (m) {
        y = tf.mul(y, m);
        if (maskFill === 'mean') y = tf.add(y, tf.mul(this.means.get(name)!, tf.sub(1, m)));
      }
      if (recordAll || recordSet.has(name)) {
        recNames.push(name);
        recs.push(y);
      }
      return y;
    });
    const mask = this.causalMask(T);
    const out = releasing(ops, () => tf.tidy(() => {
      // never hand the caller's tensor back as one of ours
      let x = start === 0 ? embed(ops, tokens) : tf.clone(opts.residualIn!);
      const keepResidual = (layer: number, r: tf.Tensor3D) => {
        if (!opts.recordResidual) return;
        resLayers.push(layer);
        ress.push(tf.clone(r)); // a distinct handle: disposing a site record must not free a cached residual
      };

      for (let i = start; i < c.nLayer; i++) {
        // One tidy per layer: a layer's intermediates are freed before the next one starts, so the working memory is
        // one layer's, not nLayer's (it matters for the released sizes). What a layer records is returned, i.e. kept.
        const marks = [recs.length, atts.length, ress.length] as const;
        const xIn = x;
        x = tf.tidy(() => {
          keepResidual(i, xIn);
          const onProbs = attnSet.has(i) ? (p: tf.Tensor4D) => { attnLayers.push(i); atts.push(p); } : undefined;
          const xl = mlpBlock(ops, i, attentionBlock(ops, i, xIn, mask, onProbs));
          return [xl, ...recs.slice(marks[0]), ...atts.slice(marks[1]), ...ress.slice(marks[2])];
        })[0] as tf.Tensor3D;
      }
      keepResidual(c.nLayer, x);
      return { logits: unembedAt(ops, c, x, tokens, opts.readAt), recs, atts, ress };
    }));

    return {
      logits: out.logits,
      records: new Map(recNames.map((n, i) => [n, out.recs[i]])),
      attention: new Map(attnLayers.map((l, i) => [l, out.atts[i]])),
      residuals: new Map(resLayers.map((l, i) => [l, out.ress[i]])),
    };
  }

  /** One prompt, read back to the host with async data() (dataSync is unavailable on WebGPU). */
  async run(tokens: number[], opts: RunOptions = {}): Promise<RunResult> {
    const V = this.config.vocabSize;
    if (tokens.length === 0) throw new Error('empty prompt');
    for (const t of tokens) if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`token ${t} outside vocabulary [0, ${V})`);
    const tok = tf.tensor2d(tokens, [1, tokens.length], 'int32');
    let out: ForwardTensors;
    try {
      out = this.forwardTensors(tok, opts);
    } finally {
      tok.dispose();
    }
    const readable: tf.Tensor[] = [out.logits, ...out.records.values(), ...out.attention.values()];
    try {
      const data = (await Promise.all(readable.map((t) => t.data()))) as Float32Array[];
      let i = 1;
      const sites = new Map<SiteName, Float32Array>();
      for (const name of out.records.keys()) sites.set(name, data[i++]);
      const attention = new Map<number, Float32Array>();
      for (const layer of out.attention.keys()) attention.set(layer, data[i++]);
      return { logits: data[0], sites, attention, ...(opts.recordResidual ? { residuals: out.residuals } : {}) };
    } catch (e) {
      for (const r of out.residuals.values()) r.dispose();
      throw e;
    } finally {
      for (const t of readable) t.dispose();
    }
  }

  /** Every hook site of this model, in forward order. */
  sites(): SiteName[] {
    return allSites(this.config);
  }
}
