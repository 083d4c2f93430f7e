import { absTopK } from './absTopK';
import { absTopKCount, type AbsTopKLocation, type ModelConfig } from './config';
import { activation, attention, layerNorm, rmsNorm } from './layers';
import { siteName, type LayerSiteKind, type SiteName } from './sites';
import { tf } from './tfjs';

/**
 * The transformer's sub-blocks, written once for the full forward pass (forward.ts) and the staged task evaluation
 * (stagedForward.ts), so that both run the very same ops and a cached residual stream is bit-identical to one
 * computed afresh. Each block maps a residual stream to the next one; what a model variant changes (edited weights,
 * hook-site overrides, pruning masks, recording) comes in through BlockOps.
 */
export interface BlockOps {
  readonly config: ModelConfig;
  weight(key: string): tf.Tensor | undefined;
  mustWeight(key: string): tf.Tensor;
  /** x @ W^T + b with the variant's weights, dense or sparse kernel. */
  lin(x: tf.Tensor3D, weightKey: string, biasKey: string): tf.Tensor3D;
  /** Output block `part` of `parts` equal ones of that product (q, k or v of c_attn). */
  linPart(x: tf.Tensor3D, weightKey: string, biasKey: string, part: number, parts: number): tf.Tensor3D;
  /** A hook site: the value the rest of the model sees (interventions, masks and recording applied). */
  site(name: SiteName, x: tf.Tensor3D): tf.Tensor3D;
}

export function sparsify(c: ModelConfig, loc: AbsTopKLocation, x: tf.Tensor3D): tf.Tensor3D {
  const k = absTopKCount(c, loc, x.shape[2]);
  return k === null ? x : absTopK(x, k);
}

export function norm(ops: BlockOps, x: tf.Tensor3D, prefix: string): tf.Tensor3D {
  return ops.config.rmsNorm ? rmsNorm(x, ops.mustWeight(`${prefix}.weight`)) : layerNorm(x, ops.mustWeight(`${prefix}.weight`), ops.weight(`${prefix}.bias`));
}

/** Token plus position embedding: the residual stream entering layer 0. */
export function embed(ops: BlockOps, tokens: tf.Tensor2D): tf.Tensor3D {
  const T = tokens.shape[1];
  const wpe = tf.slice(ops.mustWeight('transformer.wpe.weight'), [0, 0], [T, ops.config.dModel]);
  return tf.add(tf.gather(ops.mustWeight('transformer.wte.weight'), tokens), wpe) as tf.Tensor3D;
}

/** Rows x[b, at[b]] as [B, 1, d]: one position per sequence. `at` is [B, 2] int32 (batch index, position). */
export function takePositions(x: tf.Tensor3D, at: tf.Tensor2D): tf.Tensor3D {
  return tf.reshape(tf.gatherND(x, at), [x.shape[0], 1, x.shape[2]]) as tf.Tensor3D;
}

export interface AttentionQuery {
  /** [B, 2] int32: the one position per sequence whose output is wanted (keys and values still cover all). */
  at: tf.Tensor2D;
  /** The causal mask's rows at those positions, [B, 1, 1, T]. */
  maskRows: tf.Tensor4D;
}

/**
 * Layer i's attention with its residual add. Without `query`, every position's output ([B, T, d]); with it, only
 * the chosen position of each sequence ([B, 1, d]): what the last layer of a task evaluation needs. The query's
 * hook sites (q, attention write) then see only those positions, which is the same value at each: sites act per
 * position and per channel.
 */
export function attentionBlock(ops: BlockOps, i: number, x: tf.Tensor3D, mask: tf.Tensor2D, query?: AttentionQuery, onProbs?: (p: tf.Tensor4D) => void): tf.Tensor3D {
  const c = ops.config;
  const p = `transformer.h.${i}`;
  const s = (kind: LayerSiteKind) => siteName(i, kind);
  const a = ops.site(s('attn.act_in'), sparsify(c, 'attn_in', norm(ops, x, `${p}.ln_1`)));
  const qkv = (part: number, input: tf.Tensor3D) => ops.linPart(input, `${p}.attn.c_attn.weight`, `${p}.attn.c_attn.bias`, part, 3);
  // With a query position, q is computed there only (a projection is per position, so the value is the same).
  const q = ops.site(s('attn.q'), sparsify(c, 'attn_q', qkv(0, query ? takePositions(a, query.at) : a)));
  const k = ops.site(s('attn.k'), sparsify(c, 'attn_k', qkv(1, a)));
  const v = ops.site(s('attn.v'), sparsify(c, 'attn_v', qkv(2, a)));
  const sink = c.sink ? ops.mustWeight(`${p}.attn.attn_imp.sink_logit`) : undefined;
  const { y, probs } = attention(q, k, v, c.nHead, c.dHead, query ? query.maskRows : mask, sink);
  onProbs?.(probs);
  const ra = ops.lin(y, `${p}.attn.c_proj.weight`, `${p}.attn.c_proj.bias`);
  return tf.add(query ? takePositions(x, query.at) : x, ops.site(s('attn.resid_delta'), sparsify(c, 'attn_out', ra)));
}

/** Layer i's MLP with its residual add; position-wise, so it takes any number of positions. */
export function mlpBlock(ops: BlockOps, i: number, x: tf.Tensor3D): tf.Tensor3D {
  const c = ops.config;
  const p = `transformer.h.${i}`;
  const s = (kind: LayerSiteKind) => siteName(i, kind);
  const m = ops.site(s('mlp.act_in'), sparsify(c, 'mlp_in', norm(ops, x, `${p}.ln_2`)));
  const pre = ops.lin(m, `${p}.mlp.c_fc.weight`, `${p}.mlp.c_fc.bias`);
  const h = ops.site(s('mlp.post_act'), sparsify(c, 'mlp_neuron', activation(pre, c.activation)));
  const rm = ops.lin(h, `${p}.mlp.c_proj.weight`, `${p}.mlp.c_proj.bias`);
  return tf.add(x, ops.site(s('mlp.resid_delta'), sparsify(c, 'mlp_out', rm)));
}

/** The final_resid site and the final norm: what the unembedding reads. */
export function finalNorm(ops: BlockOps, x: tf.Tensor3D): tf.Tensor3D {
  return norm(ops, ops.site('final_resid', x), 'transformer.ln_f');
}
