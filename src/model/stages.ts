import type { ModelConfig } from './config';
import type { Intervention } from './interventions';
import { sitesInRange } from './layerRange';
import { edgeKindOf } from './registry';
import { parseNodeId, parseSite, type SiteName } from './sites';

/**
 * The forward pass as a chain of stages, for incremental recompute: stage 2i is layer i's attention (with its
 * residual add), 2i+1 its MLP, and 2n (n = nLayer) the final_resid site with the unembedding. The residual stream
 * entering stage s depends only on what an intervention list changes in stages before s, so two lists that agree
 * there share it, and a cached copy replaces recomputing stages 0..s-1.
 */
export function stageCount(c: ModelConfig): number {
  return 2 * c.nLayer + 1;
}

/** The stage that computes a hook site. */
export function siteStage(c: ModelConfig, site: SiteName): number {
  const { layer, kind } = parseSite(site);
  if (layer === null) return 2 * c.nLayer; // final_resid
  if (kind.startsWith('attn.')) return 2 * layer;
  if (kind.startsWith('mlp.')) return 2 * layer + 1;
  throw new Error(`hook-site kind "${kind}" belongs to no stage (stages.ts places attn.* and mlp.* kinds)`);
}

/** Stages an intervention changes: a node's own stage; an edge's target stage (a weight edge's weight and, in mean
 *  mode, the target's bias belong to the target's linear layer; a residual edge patches its reader's copy of the
 *  stream; a q·k edge replaces the k channel); a circuit restriction changes every stage (of its layer range). */
function stagesOf(c: ModelConfig, iv: Intervention): number[] {
  if (iv.kind === 'circuit') return [...new Set(sitesInRange(c, iv.layers ?? null).map((site) => siteStage(c, site)))];
  return [siteStage(c, parseNodeId(iv.kind === 'node' ? iv.node : iv.target).site)];
}

/**
 * Per stage, the interventions of a list that change it, in list order, as one string. A list compiles stage by stage
 * (applyInterventions.ts: a node's keep/fill and an edge's weight edit touch only their own stage, and later entries
 * override earlier ones within it), so equal keys for stages < s mean an identical residual stream entering s.
 */
export function stageKeys(c: ModelConfig, list: readonly Intervention[]): string[] {
  const per: Intervention[][] = Array.from({ length: stageCount(c) }, () => []);
  for (const iv of list) for (const s of stagesOf(c, iv)) per[s]!.push(iv);
  return per.map((ivs) => JSON.stringify(ivs));
}

/**
 * The last stage a run under the list may start at (from a stream cached under a list that agrees on earlier stages):
 * a residual edge leaves the stream entering its reader's stage as it was, but patching the reader's copy needs the
 * writer's contribution, which only a run that computes the writer's stage has. Without residual edges: the final stage.
 */
export function latestStart(c: ModelConfig, list: readonly Intervention[]): number {
  let latest = stageCount(c) - 1;
  for (const iv of list) {
    if (iv.kind === 'edge' && edgeKindOf(c, iv.source, iv.target) === 'residual') latest = Math.min(latest, siteStage(c, parseNodeId(iv.source).site));
  }
  return latest;
}

/** How many leading stages two lists' keys agree on: the residual entering any stage <= this is shared. */
export function sharedStages(a: readonly string[], b: readonly string[]): number {
  let s = 0;
  while (s < a.length && s < b.length && a[s] === b[s]) s++;
  return s;
}
