import type { CompiledInterventions } from './applyInterventions';
import type { ModelConfig } from './config';
import type { SiteName } from './sites';
import type { SparseMatrix } from './sparseMatrix';
import { tf } from './tfjs';
import { releaseWebGpuCopies } from './webgpuSparse';
import { isLinearWeight, type HostTensor, type LoadedCheckpoint } from './weights';

/**
 * Device-side copies of checkpoint tensors. Linear weights (`[out, in]` in the checkpoint) are stored
 * transposed (`[in, out]`) so the forward pass is a plain `x @ W`: matMul's transposeA/B flags are
 * 10-50x slower on the wasm backend. Every tensor here is tf.keep-ed (it outlives any tidy scope it was
 * created in) and freed only by dispose(). Linear weights of the sparse representation (ckpt.sparse) stay on the
 * host as SparseMatrix and are multiplied by src/model/sparseLinear.ts; on webgpu its kernel keeps GPU copies of them,
 * which dispose() frees too.
 */

export { isLinearWeight };

export function transposeHost(t: HostTensor): HostTensor {
  const [rows, cols] = t.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c];
  return { shape: [cols, rows], data: out };
}

/** Uploads one state-dict tensor in runtime orientation (linear weights transposed). */
export function uploadTensor(key: string, t: HostTensor): tf.Tensor {
  const h = isLinearWeight(key) ? transposeHost(t) : t;
  return tf.keep(tf.tensor(h.data, h.shape, 'float32'));
}

/** State-dict keys the forward pass needs, given the config. */
export function requiredKeys(c: ModelConfig): string[] {
  const keys = ['transformer.wte.weight', 'transformer.wpe.weight'];
  const norm = (p: string) => {
    keys.push(`${p}.weight`);
    if (!c.rmsNorm && c.lnBias) keys.push(`${p}.bias`);
  };
  for (let i = 0; i < c.nLayer; i++) {
    const p = `transformer.h.${i}`;
    norm(`${p}.ln_1`);
    norm(`${p}.ln_2`);
    for (const lin of ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']) {
      keys.push(`${p}.${lin}.weight`);
      if (c.bias) keys.push(`${p}.${lin}.bias`);
    }
    if (c.sink) keys.push(`${p}.attn.attn_imp.sink_logit`);
  }
  norm('transformer.ln_f');
  if (!c.tiedUnembed) keys.push('lm_head.weight');
  if (c.bigramTable) keys.push('bigram_table');
  return keys;
}

/** Tensors present in a checkpoint that its config switches off (they must not take part in the forward). */
function unusedByConfig(c: ModelConfig, key: string): boolean {
  if (key === 'lm_head.weight') return c.tiedUnembed;
  if (key === 'bigram_table') return !c.bigramTable;
  if (key.endsWith('.sink_logit')) return !c.sink;
  if (/\.(ln_1|ln_2|ln_f)\.bias$/.test(key)) return c.rmsNorm || !c.lnBias;
  if (/\.(c_attn|c_proj|c_fc)\.bias$/.test(key)) return !c.bias;
  return false;
}

export class GpuWeights {
  private readonly tensors = new Map<string, tf.Tensor>();
  private readonly sparseWeights = new Map<string, SparseMatrix>();

  constructor(ckpt: LoadedCheckpoint) {
    const c = ckpt.config;
    const missing = requiredKeys(c).filter((k) => !ckpt.tensors.has(k) && !ckpt.sparse?.has(k));
    if (missing.length) throw new Error(`checkpoint is missing tensors: ${missing.join(', ')}`);
    try {
      for (const [key, t] of ckpt.tensors) {
        if (unusedByConfig(c, key)) continue;
        this.tensors.set(key, uploadTensor(key, t));
      }
      // Tied unembedding: lm_head is wte; the embedding lookup needs wte as [V, d], the unembedding as [d, V].
      if (c.tiedUnembed) this.tensors.set('lm_head.weight', uploadTensor('lm_head.weight', ckpt.tensors.get('transformer.wte.weight')!));
    } catch (e) {
      this.dispose(); // e.g. out of backend memory half-way: free what was uploaded
      throw e;
    }
    for (const [key, m] of ckpt.sparse ?? []) if (!unusedByConfig(c, key)) this.sparseWeights.set(key, m);
  }

  get(key: string): tf.Tensor | undefined {
    return this.tensors.get(key);
  }

  /** A linear weight kept sparse on the host, if this key is one. */
  sparse(key: string): SparseMatrix | undefined {
    return this.sparseWeights.get(key);
  }

  /** Host bytes of the sparse linear weights. */
  get sparseBytes(): number {
    let n = 0;
    for (const m of this.sparseWeights.values()) n += m.bytes;
    return n;
  }

  /** Device bytes held (float32). */
  get bytes(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.size * 4;
    return n;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
    for (const m of this.sparseWeights.values()) releaseWebGpuCopies(m);
    this.sparseWeights.clear();
  }
}

/** An intervention list on the device: edited weight copies that shadow the base weights, and per-site
 *  `x * keep + fill` vectors. Built once per distinct list and kept until the list changes. */
export interface DeviceInterventions {
  weights: Map<string, tf.Tensor>;
  /** Edited copies of sparse linear weights (host-side; their GPU copies, made on webgpu, are freed with the rest). */
  sparse: Map<string, SparseMatrix>;
  sites: Map<SiteName, { keep: tf.Tensor1D; fill: tf.Tensor1D }>;
  /** Residual edges by writer site (applyInterventions.ts ResidualPatch, on the device). */
  residual: Map<SiteName, DeviceResidualPatch[]>;
}

export interface DeviceResidualPatch {
  reader: SiteName;
  mask: tf.Tensor1D;
  fill: tf.Tensor1D;
}

export function uploadInterventions(compiled: CompiledInterventions): DeviceInterventions {
  const weights = new Map<string, tf.Tensor>();
  for (const [key, t] of compiled.tensors) weights.set(key, uploadTensor(key, t));
  const sites = new Map<SiteName, { keep: tf.Tensor1D; fill: tf.Tensor1D }>();
  for (const [site, o] of compiled.sites) {
    sites.set(site, { keep: tf.keep(tf.tensor1d(o.keep)), fill: tf.keep(tf.tensor1d(o.fill)) });
  }
  const residual = new Map<SiteName, DeviceResidualPatch[]>();
  for (const [writer, patches] of compiled.residual) {
    residual.set(writer, patches.map((p) => ({ reader: p.reader, mask: tf.keep(tf.tensor1d(p.mask)), fill: tf.keep(tf.tensor1d(p.fill)) })));
  }
  return { weights, sparse: new Map(compiled.sparse ?? []), sites, residual };
}

export function disposeInterventions(d: DeviceInterventions): void {
  for (const t of d.weights.values()) t.dispose();
  for (const m of d.sparse.values()) releaseWebGpuCopies(m);
  for (const o of d.sites.values()) {
    o.keep.dispose();
    o.fill.dispose();
  }
  for (const p of [...d.residual.values()].flat()) {
    p.mask.dispose();
    p.fill.dispose();
  }
}
