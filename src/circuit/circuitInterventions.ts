import type { AblationMode, Intervention } from '../model/interventions';
import { circuitGranularity, type CircuitFile } from './circuitSchema';

type CircuitParts = Pick<CircuitFile, 'nodes' | 'granularity' | 'ablated_edges' | 'layers'>;

/**
 * "Restrict the model to a circuit" as interventions (docs/circuits.md): a node circuit is the `circuit` restriction
 * (every node outside it ablated; for a circuit found over a layer range, every node of that range outside it); an
 * edge circuit is that restriction to the nodes its kept edges touch plus an `edge` ablation of every candidate edge
 * between those nodes that pruning did not keep (the file's `ablated_edges`).
 */
export function circuitInterventions(file: CircuitParts, mode: AblationMode): Intervention[] {
  const restriction: Intervention = {
    kind: 'circuit', nodes: file.nodes.map((n) => `${n.site}:${n.channel}`), mode, ...(file.layers ? { layers: file.layers } : {}),
  };
  if (circuitGranularity(file) === 'nodes') return [restriction];
  return [restriction, ...(file.ablated_edges ?? []).map((e) => ({ kind: 'edge' as const, source: e.source, target: e.target, mode }))];
}
