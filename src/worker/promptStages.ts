import { attentionBlock, embed, mlpBlock, packedAttentionBlock, type PackedLayout } from '../model/blocks';
import { unembedAt, type SparseGpt } from '../model/forward';
import { rowIndex } from '../model/hostRows';
import type { Intervention } from '../model/interventions';
import { siteStage, stageCount } from '../model/stages';
import type { SiteName } from '../model/sites';
import { tf } from '../model/tfjs';

/**
 * One prompt through stages from..2n (stages.ts) under an intervention list, for the explorer's live view: what it
 * reads is the last position's logits, the requested sites at every position and the requested layers' attention.
 * It starts from a cached residual stream (promptRunCache.ts), so a toggle recomputes only from the stage it changes,
 * and with `lastOnly` (nothing of the last layer is read but its logits) the last layer's query, attention output
 * and MLP run at the last position only (packedAttentionBlock of one prompt). The block code is forwardTensors'.
 */
export interface PromptReads {
  sites: readonly SiteName[];
  attentionLayers: readonly number[];
}

export interface PromptStageRun {
  /** [V]: the logits at the last position. */
  lastLogits: Float32Array;
  /** The requested sites of stages >= from, [T * width]. */
  sites: Map<SiteName, Float32Array>;
  /** The requested layers' patterns of stages >= from, [H * T * T]. */
  attention: Map<number, Float32Array>;
  /** The residual stream entering each stage after `from` (the caller owns these). */
  entering: Map<number, tf.Tensor3D>;
}

/** Whether only the last position of the last layer is read (no site of it or after it, nor its pattern). */
export function lastOnlyFor(nLayer: number, reads: PromptReads, stageOf: (s: SiteName) => number): boolean {
  const lastAttention = 2 * (nLayer - 1);
  return !reads.attentionLayers.includes(nLayer - 1) && reads.sites.every((s) => stageOf(s) < lastAttention);
}

/** One prompt of length T as a packed batch of one (every position its own row), for packedAttentionBlock. */
function singlePromptLayout(T: number, mask: tf.Tensor2D): PackedLayout {
  const identity = Int32Array.from({ length: T }, (_, t) => t);
  return {
    prompts: 1, length: T,
    spread: rowIndex(identity), slotOf: rowIndex(identity.slice()), lastRow: rowIndex(Int32Array.of(T - 1)),
    mask, lastMaskRows: tf.tidy(() => tf.reshape(tf.slice(mask, [T - 1, 0], [1, T]), [1, 1, 1, T]) as tf.Tensor4D),
  };
}

export async function runPromptStages(
  model: SparseGpt, ids: readonly number[], list: readonly Intervention[], reads: PromptReads, from: number, residualIn?: tf.Tensor3D,
): Promise<PromptStageRun> {
  const c = model.config;
  const T = ids.length;
  const final = stageCount(c) - 1;
  if (!(Number.isInteger(from) && from >= 0 && from <= final)) throw new Error(`stage ${from} out of range 0..${final}`);
  if (from > 0 && !residualIn) throw new Error(`starting at stage ${from} needs the residual stream entering it`);
  const lastOnly = lastOnlyFor(c.nLayer, reads, (s) => siteStage(c, s));
  const wanted = new Set<string>(reads.sites);
  const wantedAttention = new Set(reads.attentionLayers);
  const recorded: [SiteName, tf.Tensor3D][] = [];
  const patterns: [number, tf.Tensor4D][] = [];
  const ops = model.blockOps(list, (name, y) => {
    // A handle of its own: a reader site (final_resid) may be the very stream tensor the cache keeps.
    if (wanted.has(name)) recorded.push([name, tf.clone(y)]);
    return y;
  });
  const mask = model.causalMask(T); // the model's, kept per length: not ours to dispose
  const layout = lastOnly ? singlePromptLayout(T, mask) : null;
  const tokens = tf.tensor2d([...ids], [1, T], 'int32');
  const entering = new Map<number, tf.Tensor3D>();
  const kept: tf.Tensor[] = [];
  let logits: tf.Tensor3D | null = null;
  try {
    let x = from === 0 ? tf.tidy(() => embed(ops, tokens)) : residualIn!;
    if (from === 0) kept.push(x);
    for (let s = from; s < final; s++) {
      const i = s >> 1;
      const xIn = x;
      const marks = [recorded.length, patterns.length] as const;
      // One tidy per stage: its intermediates go before the next starts; its output and what it recorded are kept.
      const out = tf.tidy(() => {
        const y = s % 2 === 1
          ? mlpBlock(ops, i, xIn)
          : layout && i === c.nLayer - 1
            ? packedAttentionBlock(ops, i, xIn, layout, true)
            : attentionBlock(ops, i, xIn, mask, wantedAttention.has(i) ? (p) => patterns.push([i, p]) : undefined);
        return [y, ...recorded.slice(marks[0]).map((r) => r[1]), ...patterns.slice(marks[1]).map((p) => p[1])];
      });
      x = out[0] as tf.Tensor3D;
      entering.set(s + 1, x);
      out.slice(1, 1 + recorded.length - marks[0]).forEach((t, j) => { recorded[marks[0] + j]![1] = t as tf.Tensor3D; });
      out.slice(1 + recorded.length - marks[0]).forEach((t, j) => { patterns[marks[1] + j]![1] = t as tf.Tensor4D; });
    }
    const xFinal = x;
    const mark = recorded.length;
    const out = tf.tidy(() => {
      // Last-only: the stream is already the last position [1, 1, d] (and so is its token). Otherwise the unembedding
      // reads the last position only, unless final_resid is recorded at every position.
      const readAll = wanted.has('final_resid');
      const l = lastOnly
        ? unembedAt(ops, c, xFinal, tf.tensor2d([ids[T - 1]!], [1, 1], 'int32'))
        : readAll
          ? tf.slice(unembedAt(ops, c, xFinal, tokens), [0, T - 1, 0], [1, 1, -1])
          : unembedAt(ops, c, xFinal, tokens, tf.reshape(tf.oneHot(tf.tensor1d([T - 1], 'int32'), T), [1, T, 1]) as tf.Tensor3D);
      return [l, ...recorded.slice(mark).map((r) => r[1])];
    });
    logits = out[0] as tf.Tensor3D;
    out.slice(1).forEach((t, j) => { recorded[mark + j]![1] = t as tf.Tensor3D; });
    const reads = [logits, ...recorded.map((r) => r[1]), ...patterns.map((p) => p[1])];
    const data = (await Promise.all(reads.map((t) => t.data()))) as Float32Array[];
    return {
      lastLogits: data[0]!,
      sites: new Map(recorded.map(([name], j) => [name, data[1 + j]!])),
      attention: new Map(patterns.map(([layer], j) => [layer, data[1 + recorded.length + j]!])),
      entering,
    };
  } catch (e) {
    for (const t of entering.values()) t.dispose();
    throw e;
  } finally {
    ops.release();
    tokens.dispose();
    for (const t of kept) t.dispose();
    logits?.dispose();
    for (const [, t] of recorded) t.dispose();
    for (const [, t] of patterns) t.dispose();
    if (layout) for (const t of [layout.spread.tensor, layout.slotOf.tensor, layout.lastRow.tensor, layout.lastMaskRows]) t.dispose();
  }
}
