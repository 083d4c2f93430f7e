import { z } from 'zod';
import { isSiteName, parseSite, siteFromGroups, SITE_PATTERN_SOURCE, type SiteName } from './siteKinds';

/**
 * A node is one channel of one site, written `site:channel` (e.g. `3.mlp.post_act:17`). This file is the only
 * parser and formatter of node ids; the zod schema below is the same parser, so a string the schema accepts always
 * parses (and vice versa).
 */
export interface NodeRef {
  site: SiteName;
  channel: number;
}

const NODE_RE = new RegExp(`^${SITE_PATTERN_SOURCE}:(\\d+)$`);

export function nodeId(n: NodeRef): string {
  return `${n.site}:${n.channel}`;
}

/** The node of an id, or null when it is not one (no message: for checks in hot paths and schemas). */
export function tryParseNodeId(id: string): NodeRef | null {
  const m = NODE_RE.exec(id);
  if (!m) return null;
  const site = siteFromGroups(m[1], m[2], m[3]);
  const channel = Number(m[4]);
  if (!site || !Number.isSafeInteger(channel)) return null;
  return { site: (site.layer === null ? site.kind : `${site.layer}.${site.kind}`) as SiteName, channel };
}

/** Throws with the part that is wrong (separator, site or channel). */
export function parseNodeId(id: string): NodeRef {
  const n = tryParseNodeId(id);
  if (n) return n;
  const i = id.lastIndexOf(':');
  if (i < 0) throw new Error(`bad node id "${id}" (expected site:channel)`);
  parseSite(id.slice(0, i));
  throw new Error(`bad channel in node id "${id}"`);
}

export const NODE_ID_EXAMPLE = '3.mlp.post_act:17';

/** A node id in any zod-validated data (interventions, URL, circuit files). */
export const nodeIdSchema = z.string().refine((s) => tryParseNodeId(s) !== null, `not a node id like ${NODE_ID_EXAMPLE}`);

/** A site name in zod-validated data (circuit file nodes). */
export const siteNameSchema = z.string().refine(isSiteName, 'not a hook site like 3.mlp.post_act or final_resid');
