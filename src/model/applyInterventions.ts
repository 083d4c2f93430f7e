import type { ModelConfig } from './config';
import type { AblationMode, Intervention } from './interventions';
import { allSites, edgeLocation, nodeId, parseNodeId, parseSite, siteWidth, type SiteName } from './registry';
import type { SparseMatrix } from './sparseMatrix';
import type { HostTensor, LoadedCheckpoint } from './weights';

/**
 * Host-side compilation of an intervention list into (a) edited copies of state-dict tensors (edge
 * ablations are exact weight edits) and (b) per-site affine overrides `x * keep + fill` (node ablations
 * and circuit restriction). Backend-neutral so it can be tested without TF.js and reused by any runtime.
 */

/** A site value becomes `value * keep + fill` (per channel, every position). */
export interface SiteOverride {
  keep: Float32Array;
  fill: Float32Array;
}

export interface CompiledInterventions {
  /** Edited copies of state-dict tensors, original `[out, in]` orientation, keyed by released name. A bias
   *  appears here even for bias-free models when a mean-mode edge needs one. */
  tensors: Map<string, HostTensor>;
  /** Edited copies of the linear weights a sparse-representation checkpoint keeps as SparseMatrix (ckpt.sparse). */
  sparse?: Map<string, SparseMatrix>;
  sites: Map<SiteName, SiteOverride>;
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

  for (const iv of list) {
    if (iv.kind === 'node') {
      const n = parseNodeId(iv.node);
      ablate(n.site, n.channel, iv.mode);
    } else if (iv.kind === 'circuit') {
      const keep = new Set(iv.nodes.map((id) => nodeId(parseNodeId(id)))); // canonical ids
      for (const site of allSites(c)) {
        const w = siteWidth(c, site);
        for (let ch = 0; ch < w; ch++) if (!keep.has(`${site}:${ch}`)) ablate(site, ch, iv.mode);
      }
    } else {
      // Sequential edits: a repeated edge finds its weight already zero and is a no-op.
      const source = parseNodeId(iv.source);
      const loc = edgeLocation(c, source, parseNodeId(iv.target));
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
  if (sparseZeroed.size === 0) return { tensors, sites };
  const sparse = new Map<string, SparseMatrix>();
  for (const [key, flat] of sparseZeroed) {
    const S = ckpt.sparse!.get(key)!;
    sparse.set(key, S.withZeroed([...flat].map((f) => [Math.floor(f / S.cols), f % S.cols] as const)));
  }
  return { tensors, sparse, sites };
}

/** First layer whose computation an intervention list changes (nLayer: only final_resid; Infinity: none).
 *  A cached residual stream entering any layer <= this one stays valid under the list. */
export function earliestAffectedLayer(c: ModelConfig, list: readonly Intervention[]): number {
  let first = Infinity;
  const layerOf = (id: string) => parseSite(parseNodeId(id).site).layer ?? c.nLayer;
  for (const iv of list) {
    if (iv.kind === 'circuit') return 0;
    first = Math.min(first, layerOf(iv.kind === 'node' ? iv.node : iv.target));
  }
  return first;
}
