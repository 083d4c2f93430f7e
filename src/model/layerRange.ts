import { z } from 'zod';
import type { ModelConfig } from './config';
import { allSites, parseSite, type SiteName } from './sites';

/**
 * A range of layers, [first, last] inclusive, that node pruning and the circuit restriction can be limited to
 * (docs/circuits.md, "A layer range"). Its sites are every attn.* and mlp.* site of those layers, and final_resid
 * when the range ends at the model's last layer (final_resid is what the last layer writes into; a range that stops
 * earlier leaves everything after it, final_resid included, as the model computes it).
 */
export type LayerRange = [first: number, last: number];

export const layerRangeSchema = z
  .tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])
  .refine(([a, b]) => a <= b, { message: 'a layer range [first, last] needs first <= last' });

/** Throws with a readable message when the range does not fit the model. */
export function checkLayerRange(c: Pick<ModelConfig, 'nLayer'>, range: LayerRange): void {
  const [a, b] = range;
  if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a <= b && b < c.nLayer)) {
    throw new Error(`layer range ${a}-${b} does not fit this model: layers are 0-${c.nLayer - 1} (first <= last)`);
  }
}

/** Whether a hook site belongs to the range (null: every layer). */
export function siteInRange(c: Pick<ModelConfig, 'nLayer'>, site: SiteName, range: LayerRange | null): boolean {
  if (!range) return true;
  const layer = parseSite(site).layer;
  return layer === null ? range[1] === c.nLayer - 1 : layer >= range[0] && layer <= range[1];
}

/** The hook sites of a range, in forward order (null: every site of the model). */
export function sitesInRange(c: ModelConfig, range: LayerRange | null): SiteName[] {
  if (range) checkLayerRange(c, range);
  return allSites(c).filter((s) => siteInRange(c, s, range));
}

/**
 * Parses "a-b" or "a" (one layer) for the command line and the page; "all" or "" is every layer (null). Throws with
 * the expected form when the text is malformed or outside the model's layers.
 */
export function parseLayerRange(text: string, c: Pick<ModelConfig, 'nLayer'>): LayerRange | null {
  const t = text.trim();
  if (t === '' || t === 'all') return null;
  const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(t);
  if (!m) throw new Error(`layer range "${text}" is not "first-last", one layer number, or "all"`);
  const range: LayerRange = [Number(m[1]), Number(m[2] ?? m[1])];
  checkLayerRange(c, range);
  return range;
}

/** "a-b" (or "a" for one layer), as parseLayerRange reads it. */
export function formatLayerRange(range: LayerRange | null): string {
  if (!range) return 'all';
  return range[0] === range[1] ? `${range[0]}` : `${range[0]}-${range[1]}`;
}
