import { absTopK } from './absTopK';
import { absTopKCount, type AbsTopKLocation, type ModelConfig } from './config';
import { chunkedAttention } from './chunkedAttention';
import { gatherRows, type RowIndex } from './hostRows';
import { activation, attention, layerNorm, rmsNorm } from './layers';
import { siteName, type LayerSiteKind, type SiteName } from './sites';
import { tf } from './tfjs';

/**
 * The transformer's sub-blocks, written once for the full forward pass (forward.ts) and the staged task evaluation
 * (stagedForward.ts, over prompts packed by shared prefix), so that both run the very same ops per position. Each
 * block maps a residual stream to the next one; what a model variant changes (edited weights, hook-site overrides,
 * pruning masks, recording) comes in through BlockOps.
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
  /** The residual stream as the reader site `name` (an act_in or final_resid) reads it: its own copy, in which the
   *  list's residual edges into it replace their writers' contributions (the stream itself is unchanged). */
  read(name: SiteName, x: tf.Tensor3D): tf.Tensor3D;
  /** Re-lays pending residual-edge patches the way a packed run re-lays the stream (to each prompt's last position). */
  narrowPatches(f: (t: tf.Tensor3D) => tf.Tensor3D): void;
  /** Frees what the run kept across layers (pending residual-edge patches); call once when the run is done. */
  release(): void;
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

/** Layer i's attention input: the normed residual stream through AbsTopK and the act_in site. */
function attentionIn(ops: BlockOps, i: number, x: tf.Tensor3D): tf.Tensor3D {
  const site = siteName(i, 'attn.act_in');
  return ops.site(site, sparsify(ops.config, 'attn_in', norm(ops, ops.read(site, x), `transformer.h.${i}.ln_1`)));
}

const PROJECTIONS = [['attn.q', 'attn_q'], ['attn.k', 'attn_k'], ['attn.v', 'attn_v']] as const;

/** q (part 0), k (1) or v (2) of layer i: its block of c_attn on its own (no split of the whole product), AbsTopK, site. */
function project(ops: BlockOps, i: number, a: tf.Tensor3D, part: 0 | 1 | 2): tf.Tensor3D {
  const [kind, loc] = PROJECTIONS[part];
  const p = `transformer.h.${i}.attn.c_attn`;
  return ops.site(siteName(i, kind), sparsify(ops.config, loc, ops.linPart(a, `${p}.weight`, `${p}.bias`, part, 3)));
}

/** The attention output y through c_proj, AbsTopK and the resid_delta site, added to the residual stream. */
function attentionOut(ops: BlockOps, i: number, x: tf.Tensor3D, y: tf.Tensor3D): tf.Tensor3D {
  const ra = ops.lin(y, `transformer.h.${i}.attn.c_proj.weight`, `transformer.h.${i}.attn.c_proj.bias`);
  return tf.add(x, ops.site(siteName(i, 'attn.resid_delta'), sparsify(ops.config, 'attn_out', ra)));
}

const sinkOf = (ops: BlockOps, i: number) => (ops.config.sink ? ops.mustWeight(`transformer.h.${i}.attn.attn_imp.sink_logit`) : undefined);

/** Layer i's attention with its residual add, at every position of [B, T, d]. */
export function attentionBlock(ops: BlockOps, i: number, x: tf.Tensor3D, mask: tf.Tensor2D, onProbs?: (p: tf.Tensor4D) => void): tf.Tensor3D {
  const c = ops.config;
  const a = attentionIn(ops, i, x);
  // In query chunks (chunkedAttention.ts): the working memory grows with T, not T^2; the pattern only when recorded.
  const { y, probs } = chunkedAttention(project(ops, i, a, 0), project(ops, i, a, 1), project(ops, i, a, 2), c.nHead, c.dHead, mask, sinkOf(ops, i), { keepProbs: !!onProbs });
  if (onProbs && probs) onProbs(probs);
  return attentionOut(ops, i, x, y);
}

/** Prompts packed by shared prefix (promptTrie.ts), as indices: how rows are read as a [prompt, position] grid. */
export interface PackedLayout {
  prompts: number;
  length: number;
  /** [prompts * length]: the row at each grid slot. */
  spread: RowIndex;
  /** [rows]: a grid slot holding each row. */
  slotOf: RowIndex;
  /** [prompts]: each prompt's last row. */
  lastRow: RowIndex;
  /** causalMask(length), and its rows at each prompt's last position ([prompts, 1, 1, length]). */
  mask: tf.Tensor2D;
  lastMaskRows: tf.Tensor4D;
}

/** Rows of x ([1, n, w] or [m, t, w], read as n rows) at the given indices, shaped [count / per, per, w]. */
function rowsOf(x: tf.Tensor3D, index: RowIndex, per: number): tf.Tensor3D {
  const w = x.shape[2];
  return tf.reshape(gatherRows(tf.reshape(x, [-1, w]), index), [index.host.length / per, per, w]) as tf.Tensor3D;
}

/**
 * Layer i's attention over packed rows ([1, rows, d]): everything per position runs once per row; keys, values and
 * queries are spread into the grid for the attention itself, whose outputs are read back into rows. With `lastOnly`,
 * only each prompt's last position is computed (its query, attention output and residual): [prompts, 1, d], what the
 * last layer of a task evaluation needs. Sites act per position and channel, so they see the same values as in
 * attentionBlock, only fewer of them.
 */
export function packedAttentionBlock(ops: BlockOps, i: number, x: tf.Tensor3D, layout: PackedLayout, lastOnly: boolean): tf.Tensor3D {
  const c = ops.config;
  const grid = (t: tf.Tensor3D) => rowsOf(t, layout.spread, layout.length);
  const a = attentionIn(ops, i, x);
  // From here on a last-only run holds each prompt's last position; residual-edge patches still pending follow suit.
  if (lastOnly) ops.narrowPatches((t) => rowsOf(t, layout.lastRow, 1));
  const k = grid(project(ops, i, a, 1));
  const v = grid(project(ops, i, a, 2));
  if (lastOnly) {
    const { y } = attention(project(ops, i, rowsOf(a, layout.lastRow, 1), 0), k, v, c.nHead, c.dHead, layout.lastMaskRows, sinkOf(ops, i));
    return attentionOut(ops, i, rowsOf(x, layout.lastRow, 1), y);
  }
  const { y } = chunkedAttention(grid(project(ops, i, a, 0)), k, v, c.nHead, c.dHead, layout.mask, sinkOf(ops, i));
  return attentionOut(ops, i, x, tf.reshape(rowsOf(y, layout.slotOf, 1), [1, -1, y.shape[2]]) as tf.Tensor3D);
}

/** Layer i's MLP with its residual add; position-wise, so it takes any number of positions. */
export function mlpBlock(ops: BlockOps, i: number, x: tf.Tensor3D): tf.Tensor3D {
  const c = ops.config;
  const p = `transformer.h.${i}`;
  const s = (kind: LayerSiteKind) => siteName(i, kind);
  const m = ops.site(s('mlp.act_in'), sparsify(c, 'mlp_in', norm(ops, ops.read(s('mlp.act_in'), x), `${p}.ln_2`)));
  const pre = ops.lin(m, `${p}.mlp.c_fc.weight`, `${p}.mlp.c_fc.bias`);
  const h = ops.site(s('mlp.post_act'), sparsify(c, 'mlp_neuron', activation(pre, c.activation)));
  const rm = ops.lin(h, `${p}.mlp.c_proj.weight`, `${p}.mlp.c_proj.bias`);
  return tf.add(x, ops.site(s('mlp.resid_delta'), sparsify(c, 'mlp_out', rm)));
}

/** The final_resid site and the final norm: what the unembedding reads. */
export function finalNorm(ops: BlockOps, x: tf.Tensor3D): tf.Tensor3D {
  return norm(ops, ops.site('final_resid', ops.read('final_resid', x)), 'transformer.ln_f');
}
