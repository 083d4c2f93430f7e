import type { AbsTopKLocation, ModelConfig } from '../config';
import { REGISTRY, type SiteKindSpec } from './data';
import { dimension } from './dimension';

/**
 * Hook-site kinds (registry.json "siteKinds"), in forward order. Kind names are plain strings because TypeScript
 * cannot read literal types out of a JSON import; names are checked at run time (parseSite, siteName) instead, and
 * every forward-pass test walks allSites(), so a misspelt kind fails at once.
 */
export type LayerSiteKind = string;
/** A site name: `${layer}.${kind}` for per-layer kinds, the kind itself for global ones (`final_resid`). */
export type SiteName = string;

export const SITE_KINDS: readonly SiteKindSpec[] = REGISTRY.siteKinds;
export const LAYER_SITE_KINDS: readonly string[] = SITE_KINDS.filter((k) => k.scope === 'layer').map((k) => k.kind);
export const GLOBAL_SITE_KINDS: readonly string[] = SITE_KINDS.filter((k) => k.scope === 'global').map((k) => k.kind);
const BY_KIND = new Map(SITE_KINDS.map((k) => [k.kind, k]));

export interface ParsedSite {
  /** null for global sites. */
  layer: number | null;
  kind: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/**
 * The one pattern of a site name, built from the kinds so that adding a kind needs no regex edit. Groups: 1 layer,
 * 2 per-layer kind, 3 global kind. Node ids (nodeIds.ts) append `:channel` to this same source.
 */
export const SITE_PATTERN_SOURCE =
  `(?:(\\d+)\\.(${LAYER_SITE_KINDS.map(escape).join('|')})|(${GLOBAL_SITE_KINDS.map(escape).join('|')}))`;
const SITE_RE = new RegExp(`^${SITE_PATTERN_SOURCE}$`);

/** Site from regex groups (layer, layer kind, global kind) of SITE_PATTERN_SOURCE; null if the layer overflows. */
export function siteFromGroups(layer: string | undefined, layerKind: string | undefined, globalKind: string | undefined): ParsedSite | null {
  if (globalKind !== undefined) return { layer: null, kind: globalKind };
  const n = Number(layer);
  return Number.isSafeInteger(n) ? { layer: n, kind: layerKind! } : null;
}

export function parseSite(name: string): ParsedSite {
  const m = SITE_RE.exec(name);
  const site = m && siteFromGroups(m[1], m[2], m[3]);
  if (!site) throw new Error(`unknown hook site "${name}"`);
  return site;
}

export function isSiteName(name: string): name is SiteName {
  const m = SITE_RE.exec(name);
  return !!m && !!siteFromGroups(m[1], m[2], m[3]);
}

/** The spec of a kind (per-layer or global); throws for unknown kinds. */
export function siteKind(kind: string): SiteKindSpec {
  const k = BY_KIND.get(kind);
  if (!k) throw new Error(`unknown hook-site kind "${kind}"`);
  return k;
}

/** The site of a per-layer kind at one layer, or a global kind's site (layer null). */
export function siteName(layer: number | null, kind: string): SiteName {
  const spec = siteKind(kind);
  if ((spec.scope === 'global') !== (layer === null)) throw new Error(`hook-site kind "${kind}" is ${spec.scope}-scoped`);
  return (layer === null ? kind : `${layer}.${kind}`) as SiteName;
}

/** The spec of a site's kind. */
export function siteSpec(name: string): SiteKindSpec {
  return siteKind(parseSite(name).kind);
}

/** Channel count of a site. */
export function siteWidth(c: ModelConfig, name: string): number {
  return dimension(siteSpec(name).width, c);
}

/** False for sites whose values are (almost) never negative (mlp.post_act), which get no "most negative" lists. */
export function isSignedSite(name: string): boolean {
  return siteSpec(name).signed;
}

/** The AbsTopK location (released afrac_loctypes name) a site's value is taken after; null for none. */
export function absTopKLocationOf(name: string): AbsTopKLocation | null {
  return siteSpec(name).absTopK;
}

/** Every site of a model in forward order: each layer's kinds, then the global ones. */
export function allSites(c: ModelConfig): SiteName[] {
  const out: SiteName[] = [];
  for (let i = 0; i < c.nLayer; i++) for (const k of LAYER_SITE_KINDS) out.push(`${i}.${k}` as SiteName);
  for (const k of GLOBAL_SITE_KINDS) out.push(k as SiteName);
  return out;
}
