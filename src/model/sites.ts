import type { ModelConfig } from './config';

/** Hook-site kinds within a layer, named as in the released code. */
export const LAYER_SITE_KINDS = [
  'attn.act_in', 'attn.q', 'attn.k', 'attn.v', 'attn.resid_delta', 'mlp.act_in', 'mlp.post_act', 'mlp.resid_delta',
] as const;
export type LayerSiteKind = (typeof LAYER_SITE_KINDS)[number];

/** A site name: `${layer}.${kind}` or `final_resid`. */
export type SiteName = `${number}.${LayerSiteKind}` | 'final_resid';

export interface ParsedSite {
  layer: number | null;
  kind: LayerSiteKind | 'final_resid';
}

export function siteName(layer: number, kind: LayerSiteKind): SiteName {
  return `${layer}.${kind}` as SiteName;
}

export function parseSite(name: string): ParsedSite {
  if (name === 'final_resid') return { layer: null, kind: 'final_resid' };
  const m = /^(\d+)\.(attn\.(?:act_in|q|k|v|resid_delta)|mlp\.(?:act_in|post_act|resid_delta))$/.exec(name);
  if (!m) throw new Error(`unknown hook site "${name}"`);
  return { layer: Number(m[1]), kind: m[2] as LayerSiteKind };
}

/** Channel count of a site. */
export function siteWidth(c: ModelConfig, name: string): number {
  const { kind } = parseSite(name);
  switch (kind) {
    case 'attn.q': case 'attn.k': case 'attn.v': return c.nHead * c.dHead;
    case 'mlp.post_act': return c.dMlp;
    default: return c.dModel;
  }
}

/** Every site of a model in forward order. */
export function allSites(c: ModelConfig): SiteName[] {
  const out: SiteName[] = [];
  for (let i = 0; i < c.nLayer; i++) for (const k of LAYER_SITE_KINDS) out.push(siteName(i, k));
  out.push('final_resid');
  return out;
}

/** A node is one channel of one site, written `site:channel` (e.g. `3.mlp.post_act:17`). */
export interface NodeRef {
  site: SiteName;
  channel: number;
}

export function nodeId(n: NodeRef): string {
  return `${n.site}:${n.channel}`;
}

export function parseNodeId(id: string): NodeRef {
  const i = id.lastIndexOf(':');
  if (i < 0) throw new Error(`bad node id "${id}" (expected site:channel)`);
  const site = id.slice(0, i);
  parseSite(site);
  const channel = Number(id.slice(i + 1));
  if (!Number.isInteger(channel) || channel < 0) throw new Error(`bad channel in node id "${id}"`);
  return { site: site as SiteName, channel };
}
