import type { Intervention } from '../../model/interventions';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import type { DetailedResult, DetailedVariantResult } from '../../worker/protocol';

/** Label of the variant node changes are measured against: the circuit in "restrict to circuit" view, else the full model. */
export function useReferenceLabel(): 'full' | 'circuit' {
  const view = useExplorerStore((s) => s.view);
  const hasCircuit = useLiveStore((s) => s.circuit !== null);
  return view === 'circuit' && hasCircuit ? 'circuit' : 'full';
}

export function variantOf(d: DetailedResult | null, label: string): DetailedVariantResult | undefined {
  return d?.variants.find((v) => v.label === label);
}

/** The selected token position, defaulting to the last token of the prompt on screen. */
export function useEffectivePos(): number | null {
  const pos = useExplorerStore((s) => s.pos);
  const T = useLiveStore((s) => s.detailed?.tokens.length ?? 0);
  if (T === 0) return null;
  return pos !== null && pos < T ? pos : T - 1;
}

/** Every node's value at one position in one variant. */
export function valuesAt(d: DetailedResult | null, v: DetailedVariantResult | undefined, pos: number | null): Map<string, number> {
  const m = new Map<string, number>();
  if (!d || !v || pos === null) return m;
  const T = d.tokens.length;
  if (pos >= T) return m;
  d.nodes.forEach((id, i) => m.set(id, v.values[i * T + pos]!));
  return m;
}

/** One node's values over the prompt's tokens in one variant, or undefined when it was not recorded. */
export function nodeSeries(d: DetailedResult | null, v: DetailedVariantResult | undefined, node: string): Float32Array | undefined {
  const i = d ? d.nodes.indexOf(node) : -1;
  if (!d || !v || i < 0) return undefined;
  const T = d.tokens.length;
  return v.values.subarray(i * T, (i + 1) * T);
}

export function ablationSets(list: readonly Intervention[]): { nodes: Set<string>; edges: Set<string> } {
  const nodes = new Set<string>();
  const edges = new Set<string>();
  for (const iv of list) {
    if (iv.kind === 'node') nodes.add(iv.node);
    else if (iv.kind === 'edge') edges.add(`${iv.source}>${iv.target}`);
  }
  return { nodes, edges };
}

export function fmt(x: number | undefined | null, digits = 3): string {
  return x === undefined || x === null || Number.isNaN(x) ? '–' : x.toFixed(digits);
}
