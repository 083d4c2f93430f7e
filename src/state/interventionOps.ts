import type { AblationMode, Intervention } from '../model/interventions';

/**
 * Pure edits of an intervention list. Each returns a new array (or the same one when nothing changes) so the store
 * can keep history by reference.
 */
export function hasNode(list: readonly Intervention[], node: string): boolean {
  return list.some((iv) => iv.kind === 'node' && iv.node === node);
}

export function hasEdge(list: readonly Intervention[], source: string, target: string): boolean {
  return list.some((iv) => iv.kind === 'edge' && iv.source === source && iv.target === target);
}

export function toggleNode(list: readonly Intervention[], node: string, mode: AblationMode): Intervention[] {
  return hasNode(list, node)
    ? list.filter((iv) => !(iv.kind === 'node' && iv.node === node))
    : [...list, { kind: 'node', node, mode }];
}

export function toggleEdge(list: readonly Intervention[], source: string, target: string, mode: AblationMode): Intervention[] {
  return hasEdge(list, source, target)
    ? list.filter((iv) => !(iv.kind === 'edge' && iv.source === source && iv.target === target))
    : [...list, { kind: 'edge', source, target, mode }];
}

export function removeAt(list: readonly Intervention[], index: number): Intervention[] {
  return list.filter((_, i) => i !== index);
}

/** The same list under another ablation mode (the global mode applies to every active intervention). */
export function withMode(list: readonly Intervention[], mode: AblationMode): Intervention[] {
  if (list.every((iv) => iv.mode === mode)) return list as Intervention[];
  return list.map((iv) => (iv.mode === mode ? iv : { ...iv, mode }));
}

/** Short human label, e.g. "node 3.mlp.post_act:17 (mean)". */
export function describe(iv: Intervention): string {
  if (iv.kind === 'node') return `node ${iv.node} (${iv.mode})`;
  if (iv.kind === 'edge') return `edge ${iv.source} → ${iv.target} (${iv.mode})`;
  return `restrict to ${iv.nodes.length} nodes (${iv.mode})`;
}
