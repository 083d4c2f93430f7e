import { foldLabelText } from '../../circuit/nodeLabels';
import type { GEdge, GraphLayout, GNode } from './layout';

export type Direction = 'left' | 'right' | 'up' | 'down';

/**
 * Keyboard navigation: left/right move along a row, up/down jump to the nearest node (by x) in the next row above
 * or below that has nodes. Pure; the component only maps keys to directions.
 */
export function neighbour(nodes: readonly GNode[], from: GNode | undefined, dir: Direction): GNode | undefined {
  if (!from) return nodes[0];
  if (dir === 'left' || dir === 'right') {
    const row = nodes.filter((n) => n.y === from.y).sort((a, b) => a.x - b.x);
    const i = row.indexOf(from);
    return row[Math.min(row.length - 1, Math.max(0, i + (dir === 'right' ? 1 : -1)))];
  }
  const candidates = nodes.filter((n) => (dir === 'up' ? n.y < from.y : n.y > from.y));
  if (!candidates.length) return from;
  const rowY = candidates.reduce((m, n) => (dir === 'up' ? Math.max(m, n.y) : Math.min(m, n.y)), dir === 'up' ? -Infinity : Infinity);
  return candidates.filter((n) => n.y === rowY).sort((a, b) => Math.abs(a.x - from.x) - Math.abs(b.x - from.x))[0];
}

/**
 * Nodes matching a search: exact id first, then ids containing the text (e.g. "mlp.post_act:17", "3.attn.q"), then
 * nodes whose label (circuit/nodeLabels.ts) contains it, ignoring case (`"'"`, `h3`, `emb " if"`).
 */
export function searchNodes(nodes: readonly GNode[], text: string, labelOf?: (id: string) => string | undefined): GNode[] {
  const q = text.trim();
  if (!q) return [];
  const exact = nodes.filter((n) => n.id === q);
  const byId = nodes.filter((n) => n.id !== q && n.id.includes(q));
  const folded = foldLabelText(q);
  const seen = new Set([...exact, ...byId]);
  const byLabel = labelOf ? nodes.filter((n) => !seen.has(n) && foldLabelText(labelOf(n.id) ?? '').includes(folded)) : [];
  return [...exact, ...byId, ...byLabel];
}

/**
 * The drawn edges at a node, in the order the keyboard visits them: ablatable weights first (what a user most likely
 * wants to toggle), strongest first, then residual and q·k paths. Edges hidden by the threshold are not drawn, so
 * they are not visited either.
 */
export function incidentEdges(g: GraphLayout, node: string, threshold: number): GEdge[] {
  return g.edges
    .filter((e) => (e.source === node || e.target === node) && (e.kind !== 'weight' || Math.abs(e.weight) >= threshold))
    .sort((a, b) => Number(b.ablatable) - Number(a.ablatable) || Math.abs(b.weight) - Math.abs(a.weight) || a.id.localeCompare(b.id));
}

/** The next (step 1) or previous (step -1) edge at a node after `current`, wrapping; undefined when it has none. */
export function cycleEdge(edges: readonly GEdge[], current: string | null, step: 1 | -1): GEdge | undefined {
  if (!edges.length) return undefined;
  const i = edges.findIndex((e) => e.id === current);
  if (i < 0) return step === 1 ? edges[0] : edges.at(-1);
  return edges[(i + step + edges.length) % edges.length];
}
