import { embed, norm, sparsify, type BlockOps } from '../model/blocks';
import { unembedAt, type SparseGpt } from '../model/forward';
import type { AblationMode } from '../model/interventions';
import { activation, attention, linear } from '../model/layers';
import { siteName, type SiteName } from '../model/registry';
import { tf } from '../model/tfjs';
import type { TaskPrompt } from '../tasks/taskSchema';
import { siteFill, type EdgeCandidates } from './edgePruneCandidates';
import type { AppliedMasks } from './edgePruneMasks';
import { evalBatchedDiffs, lastLogitDiffs, type TaskBatch } from './taskBatch';

/**
 * The forward pass of edge pruning: the model's own sub-blocks (blocks.ts, layers.ts) with a mask on every candidate
 * edge and node (docs/circuits.md, "Pruning by edges"). Every mask is 1 = present, 0 = ablated, and differentiable:
 *  - node (per site channel, after AbsTopK): x * n + fill * (1 - n), as the runtime's node ablation;
 *  - weight edge (per entry of a Linear, device orientation [in, out]): W * M, and in mean mode the bias gains
 *    mean(source) @ (W * (1 - M)), the runtime's weight edit;
 *  - residual edge (per writer site, reader site and channel): path patching; only the reader's copy of the residual
 *    stream changes, x + (1 - m) * (fill - writer value) before the reader's norm and AbsTopK;
 *  - q·k edge (per layer and channel): k inside the attention scores becomes k * m + fill_k * (1 - m).
 * With every mask 1 each added term is exactly 0 and each product exactly the weight, so the pass is the model's.
 */
export interface EdgeMaskTensors {
  node: Map<SiteName, tf.Tensor1D>;
  /** By weight key. */
  weight: Map<string, tf.Tensor2D>;
  /** By `writer>reader` (residual) and `q>k` (q·k) site pairs. */
  residual: Map<string, tf.Tensor1D>;
  qk: Map<string, tf.Tensor1D>;
}

const pairKey = (source: SiteName, target: SiteName) => `${source}>${target}`;

export function disposeEdgeMasks(m: EdgeMaskTensors): void {
  for (const map of [m.node, m.weight, m.residual, m.qk]) for (const t of map.values()) t.dispose();
}

/** Device masks for the applied host masks (appliedMasks); the caller disposes them. */
export function deviceEdgeMasks(c: EdgeCandidates, a: AppliedMasks): EdgeMaskTensors {
  const { layout } = c;
  const node = new Map(layout.sites.map((s, i) => [s, tf.tensor1d(a.node.subarray(layout.offsets[i]!, layout.offsets[i]! + layout.widths[i]!))]));
  const weight = new Map<string, tf.Tensor2D>();
  for (const g of c.weightGroups) {
    const M = new Float32Array(g.inDim * g.outDim).fill(1);
    g.flat.forEach((f, j) => (M[f] = a.eff[g.edges[j]!]!));
    weight.set(g.weight, tf.tensor2d(M, [g.inDim, g.outDim]));
  }
  const channelMasks = (groups: EdgeCandidates['residualGroups']) => new Map(groups.map((g) => {
    const v = new Float32Array(g.width).fill(1);
    g.channels.forEach((ch, j) => (v[ch] = a.eff[g.edges[j]!]!));
    return [pairKey(g.source, g.target), tf.tensor1d(v)] as const;
  }));
  return { node, weight, residual: channelMasks(c.residualGroups), qk: channelMasks(c.qkGroups) };
}

/** The tensors of a mask set in a fixed order (for tf.grads), and the inverse: gradients back to host vectors. */
export function maskList(m: EdgeMaskTensors): tf.Tensor[] {
  return [...m.node.values(), ...m.weight.values(), ...m.residual.values(), ...m.qk.values()];
}

export function gradsToHost(c: EdgeCandidates, m: EdgeMaskTensors, grads: Float32Array[]): { gNode: Float32Array; gEff: Float32Array } {
  const gNode = new Float32Array(c.layout.total);
  const gEff = new Float32Array(c.edges.length);
  let i = 0;
  for (const off of c.layout.offsets) gNode.set(grads[i++]!, off);
  const byWeight = new Map(c.weightGroups.map((g) => [g.weight, g]));
  for (const key of m.weight.keys()) {
    const g = byWeight.get(key)!;
    const d = grads[i++]!;
    g.flat.forEach((f, j) => (gEff[g.edges[j]!] = d[f]!));
  }
  for (const [groups, map] of [[c.residualGroups, m.residual], [c.qkGroups, m.qk]] as const) {
    const byKey = new Map(groups.map((g) => [pairKey(g.source, g.target), g]));
    for (const key of map.keys()) {
      const g = byKey.get(key)!;
      const d = grads[i++]!;
      g.channels.forEach((ch, j) => (gEff[g.edges[j]!] = d[ch]!));
    }
  }
  return { gNode, gEff };
}

/** The edge-masked forward pass of one model under one ablation mode; holds the fill vectors on the device. */
export class EdgePruneForward {
  private readonly fills = new Map<SiteName, tf.Tensor1D>();

  constructor(readonly model: SparseGpt, readonly candidates: EdgeCandidates, readonly mode: AblationMode) {
    for (const site of candidates.layout.sites) this.fills.set(site, tf.keep(tf.tensor1d(siteFill(model.ckpt, site, mode))));
  }

  dispose(): void {
    for (const t of this.fills.values()) t.dispose();
    this.fills.clear();
  }

  private fill(site: SiteName): tf.Tensor1D {
    return this.fills.get(site)!;
  }

  /** A site value with its node mask: x * n + fill * (1 - n). */
  private masked(x: tf.Tensor3D, m: tf.Tensor1D | undefined, fill: tf.Tensor1D): tf.Tensor3D {
    if (!m) return x;
    return tf.add(tf.mul(x, m), tf.mul(fill, tf.sub(1, m))) as tf.Tensor3D;
  }

  /** x @ W + b of one Linear (device orientation), with its edge masks; `part` of `parts` column blocks (q, k, v). */
  private linear(ops: BlockOps, masks: EdgeMaskTensors, x: tf.Tensor3D, weightKey: string, biasKey: string, source: SiteName, part = 0, parts = 1): tf.Tensor3D {
    const Wt = ops.mustWeight(weightKey) as tf.Tensor2D;
    let W: tf.Tensor2D = Wt;
    let b = ops.weight(biasKey);
    const M = masks.weight.get(weightKey);
    if (M) {
      W = tf.mul(Wt, M);
      if (this.mode === 'mean') {
        const shift = tf.reshape(tf.matMul(tf.reshape(this.fill(source), [1, -1]), tf.mul(Wt, tf.sub(1, M))), [-1]);
        b = b ? tf.add(b, shift) : shift;
      }
    }
    if (parts === 1) return linear(x, W, b);
    const out = W.shape[1] / parts;
    return linear(x, tf.slice(W, [0, part * out], [W.shape[0], out]), b && tf.slice(b, [part * out], [out]));
  }

  /** Logits [B, T, V] of int32 tokens [B, T] under the masks, or [B, 1, V] at the positions of a one-hot `readAt`
   *  [B, T, 1] (ForwardOptions.readAt). Differentiable with respect to every mask. */
  logits(tokens: tf.Tensor2D, masks: EdgeMaskTensors, readAt?: tf.Tensor3D): tf.Tensor3D {
    const c = this.model.config;
    const ops = this.model.blockOps([], (name, x) => this.masked(x, masks.node.get(name), this.fill(name)));
    const mask = this.model.causalMask(tokens.shape[1]);
    return tf.tidy(() => {
      let x = embed(ops, tokens);
      const writers: { site: SiteName; value: tf.Tensor3D }[] = [];
      // The reader's own copy of the residual stream: each writer's contribution patched on the ablated channels.
      const readerCopy = (reader: SiteName): tf.Tensor3D => {
        let r = x;
        for (const w of writers) {
          const m = masks.residual.get(pairKey(w.site, reader));
          if (m) r = tf.add(r, tf.mul(tf.sub(1, m), tf.sub(this.fill(w.site), w.value))) as tf.Tensor3D;
        }
        return r;
      };
      const write = (site: SiteName, value: tf.Tensor3D) => {
        writers.push({ site, value });
        x = tf.add(x, value) as tf.Tensor3D;
      };
      for (let i = 0; i < c.nLayer; i++) {
        const s = (kind: string) => siteName(i, kind);
        const p = `transformer.h.${i}`;
        const a = ops.site(s('attn.act_in'), sparsify(c, 'attn_in', norm(ops, readerCopy(s('attn.act_in')), `${p}.ln_1`)));
        const proj = (kind: string, loc: 'attn_q' | 'attn_k' | 'attn_v', part: number) =>
          ops.site(s(kind), sparsify(c, loc, this.linear(ops, masks, a, `${p}.attn.c_attn.weight`, `${p}.attn.c_attn.bias`, s('attn.act_in'), part, 3)));
        const q = proj('attn.q', 'attn_q', 0);
        const k = proj('attn.k', 'attn_k', 1);
        const v = proj('attn.v', 'attn_v', 2);
        const kScores = this.masked(k, masks.qk.get(pairKey(s('attn.q'), s('attn.k'))), this.fill(s('attn.k')));
        const sink = c.sink ? ops.mustWeight(`${p}.attn.attn_imp.sink_logit`) : undefined;
        const { y } = attention(q, kScores, v, c.nHead, c.dHead, mask, sink);
        const ra = this.linear(ops, masks, y, `${p}.attn.c_proj.weight`, `${p}.attn.c_proj.bias`, s('attn.v'));
        write(s('attn.resid_delta'), ops.site(s('attn.resid_delta'), sparsify(c, 'attn_out', ra)));

        const m = ops.site(s('mlp.act_in'), sparsify(c, 'mlp_in', norm(ops, readerCopy(s('mlp.act_in')), `${p}.ln_2`)));
        const pre = this.linear(ops, masks, m, `${p}.mlp.c_fc.weight`, `${p}.mlp.c_fc.bias`, s('mlp.act_in'));
        const h = ops.site(s('mlp.post_act'), sparsify(c, 'mlp_neuron', activation(pre, c.activation)));
        const rm = this.linear(ops, masks, h, `${p}.mlp.c_proj.weight`, `${p}.mlp.c_proj.bias`, s('mlp.post_act'));
        write(s('mlp.resid_delta'), ops.site(s('mlp.resid_delta'), sparsify(c, 'mlp_out', rm)));
      }
      // The final reader's copy is complete here, so picking the read position after patching is the same as before.
      return unembedAt(ops, c, readerCopy('final_resid'), tokens, readAt);
    });
  }

  /** Per-prompt logit differences of a batch under the masks. Differentiable. */
  logitDiffs(batch: TaskBatch, masks: EdgeMaskTensors): tf.Tensor1D {
    return tf.tidy(() => lastLogitDiffs(this.logits(batch.tokens, masks, batch.lastPos), batch));
  }

  /** Per-prompt logit differences of many prompts under fixed applied masks (no gradient), in input order. */
  async evalLogitDiffs(prompts: readonly TaskPrompt[], applied: AppliedMasks, opts: { batchSize: number; signal?: AbortSignal }): Promise<Float32Array> {
    const masks = deviceEdgeMasks(this.candidates, applied);
    try {
      return await evalBatchedDiffs(prompts, this.model.config, opts, (batch) => this.logitDiffs(batch, masks));
    } finally {
      disposeEdgeMasks(masks);
    }
  }
}
