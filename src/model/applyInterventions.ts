import type { ModelConfig } from './config';
import type { AblationMode, Intervention } from './interventions';
import { sitesInRange } from './layerRange';
import { edgeKindOf, edgeLocation, nodeId, parseNodeId, parseSite, siteWidth, type NodeRef, type SiteName } from './registry';
import type { SparseMatrix } from './sparseMatrix';
import type { HostTensor, LoadedCheckpoint } from './weights';

/**
 * Host-side compilation of an intervention list into (a) edited copies of state-dict tensors (weight-edge
 * ablations are exact weight edits), (b) per-site affine overrides `x * keep + fill` (node ablations, circuit
 * restriction and q·k edges) and (c) residual-stream patches per (writer, reader) pair (residual edges). Definitions:
 * docs/circuits.md, "Ablating an edge". Backend-neutral so it can be tested without TF.js and reused by any runtime.
 */

/** A site value becomes `value * keep + fill` (per channel, every position). */
export interface SiteOverride {
  keep: Float32Array;
  fill: Float32Array;
}

/**
 * Residual edges from one writer into one reader (path patching): in the reader's copy of the residual stream, the
 * writer's contribution w on the edges' channels becomes `fill`, i.e. the copy gains `(fill - w) * mask`.
 */
export interface ResidualPatch {
  reader: SiteName;
  /** 1 on the edges' channels, 0 elsewhere ([d_model]). */
  mask: Float32Array;
  /** The writer's mean (mean mode) or 0 on the edges' channels, 0 elsewhere ([d_model]). */
  fill: Float32Array;
}

export interface CompiledInterventions {
  /** Edited copies of state-dict tensors, original `[out, in]` orientation, keyed by released name. A bias
   *  appears here even for bias-free models when a mean-mode edge needs one. */
  tensors: Map<string, HostTensor>;
  /** Edited copies of the linear weights a sparse-representation checkpoint keeps as SparseMatrix (ckpt.sparse). */
  sparse?: Map<string, SparseMatrix>;
  sites: Map<SiteName, SiteOverride>;
  /** Residual edges by writer site. */
  residual: Map<SiteName, ResidualPatch[]>;
}

function siteMean(ckpt: LoadedCheckpoint, site: SiteName): Float32Array {
  const m = ckpt.means.get(site);
  if (!m) throw new Error(`mean ablation needs the mean of site ${site}, but the checkpoint has no means for it`);
  return m;
}

export function compileInterventions(ckpt: LoadedCheckpoint, list: readonly Intervention[]): CompiledInterventions {
  const c = ckpt.config;
  const tensors = new Map<string, HostTensor>();
  const sites = new Map<SiteName, SiteOverride>();

  const editable = (key: string, rows: number): HostTensor => {
    let t = tensors.get(key);
    if (!t) {
      const orig = ckpt.tensors.get(key);
      if (orig) t = { shape: [...orig.shape], data: orig.data.slice() };
      else if (key.endsWith('.bias')) t = { shape: [rows], data: new Float32Array(rows) };
      else throw new Error(`checkpoint lacks ${key}`);
      tensors.set(key, t);
    }
    return t;
  };
  // Edges on sparse weights: the zeroed entries per key, applied as one copy at the end.
  const sparseZeroed = new Map<string, Set<number>>();
  const override = (site: SiteName): SiteOverride => {
    let o = sites.get(site);
    if (!o) {
      const w = siteWidth(c, site);
      o = { keep: new Float32Array(w).fill(1), fill: new Float32Array(w) };
      sites.set(site, o);
    }
    return o;
  };
  const ablate = (site: SiteName, channel: number, mode: AblationMode) => {
    if (channel >= siteWidth(c, site)) throw new Error(`channel ${channel} out of range for site ${site}`);
    const o = override(site);
    o.keep[channel] = 0;
    o.fill[channel] = mode === 'mean' ? siteMean(ckpt, site)[channel] : 0;
  };

  // Residual patches by writer, then reader; an edge listed twice counts once, with its first entry's mode.
  const residual = new Map<SiteName, Map<SiteName, ResidualPatch>>();
  const residualEdge = (w: NodeRef, r: NodeRef, mode: AblationMode) => {
    let byReader = residual.get(w.site);
    if (!byReader) residual.set(w.site, (byReader = new Map()));
    let p = byReader.get(r.site);
    if (!p) byReader.set(r.site, (p = { reader: r.site, mask: new Float32Array(c.dModel), fill: new Float32Array(c.dModel) }));
    if (p.mask[w.channel] === 1) return;
    p.mask[w.channel] = 1;
    p.fill[w.channel] = mode === 'mean' ? siteMean(ckpt, w.site)[w.channel] : 0;
  };
  // q·k edges override the k channel after every node and circuit ablation of the list (so they win over them, in any
  // order); an edge listed twice counts once, with its first entry's mode.
  const qk = new Map<string, { k: NodeRef; mode: AblationMode }>();

  for (const iv of list) {
    if (iv.kind === 'node') {
      const n = parseNodeId(iv.node);
      ablate(n.site, n.channel, iv.mode);
    } else if (iv.kind === 'circuit') {
      const keep = new Set(iv.nodes.map((id) => nodeId(parseNodeId(id)))); // canonical ids
      for (const site of sitesInRange(c, iv.layers ?? null)) {
        const w = siteWidth(c, site);
        for (let ch = 0; ch < w; ch++) if (!keep.has(`${site}:${ch}`)) ablate(site, ch, iv.mode);
      }
    } else {
      const source = parseNodeId(iv.source);
      const target = parseNodeId(iv.target);
      const kind = edgeKindOf(c, source, target);
      if (kind === 'residual') {
        residualEdge(source, target, iv.mode);
        continue;
      }
      if (kind === 'qk') {
        // The k channel enters nothing but its term q[c]·k[c] of the head's score, so replacing k[c] by its mean (or 0)
        // at every position is exactly replacing the term by q[c]·mean(k[c]) (or 0).
        const key = nodeId(target);
        if (!qk.has(key)) qk.set(key, { k: target, mode: iv.mode });
        continue;
      }
      // Weight edge, a sequential edit: a repeated edge finds its weight already zero and is a no-op.
      const loc = edgeLocation(c, source, target);
      const S = ckpt.sparse?.get(loc.weight);
      if (S) {
        let zeroed = sparseZeroed.get(loc.weight);
        if (!zeroed) sparseZeroed.set(loc.weight, (zeroed = new Set()));
        const flat = loc.row * S.cols + loc.col;
        const w = zeroed.has(flat) ? 0 : S.get(loc.row, loc.col);
        if (w === 0) continue;
        zeroed.add(flat);
        if (iv.mode === 'mean') editable(loc.bias, S.rows).data[loc.row] += w * siteMean(ckpt, source.site)[source.channel];
        continue;
      }
      const W = editable(loc.weight, 0);
      const cols = W.shape[1];
      const w = W.data[loc.row * cols + loc.col];
      if (w === 0) continue;
      W.data[loc.row * cols + loc.col] = 0;
      if (iv.mode === 'mean') editable(loc.bias, W.shape[0]).data[loc.row] += w * siteMean(ckpt, source.site)[source.channel];
    }
  }
  for (const { k, mode } of qk.values()) ablate(k.site, k.channel, mode);
  const patches = new Map([...residual].map(([w, byReader]) => [w, [...byReader.values()]]));
  if (sparseZeroed.size === 0) return { tensors, sites, residual: patches };
  const sparse = new Map<string, SparseMatrix>();
  for (const [key, flat] of sparseZeroed) {
    const S = ckpt.sparse!.get(key)!;
    sparse.set(key, S.withZeroed([...flat].map((f) => [Math.floor(f / S.cols), f % S.cols] as const)));
  }
  return { tensors, sparse, sites, residual: patches };
}

/**
 * The latest layer a run under an intervention list may start at from a cached residual stream (one computed under a
 * list that agrees on every layer before it): nLayer when only final_resid changes, Infinity when nothing does.
 * Nodes, weight edges and q·k edges change their own (target's) layer. A residual edge changes only its reader's
 * input, so the stream entering the reader's layer is still valid, but the reader's copy needs the writer's
 * contribution, which only a run that computes the writer has: the layer returned is the writer's.
 */
export function earliestAffectedLayer(c: ModelConfig, list: readonly Intervention[]): number {
  let first = Infinity;
  const layerOf = (id: string) => parseSite(parseNodeId(id).site).layer ?? c.nLayer;
  for (const iv of list) {
    if (iv.kind === 'circuit') return iv.layers?.[0] ?? 0;
    if (iv.kind === 'node') first = Math.min(first, layerOf(iv.node));
    else first = Math.min(first, layerOf(edgeKindOf(c, iv.source, iv.target) === 'residual' ? iv.source : iv.target));
  }
  return first;
}
