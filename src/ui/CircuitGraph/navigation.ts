import type { GNode } from './layout';

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

/** Nodes matching a search: exact id first, then ids containing the text (e.g. "mlp.post_act:17", "3.attn.q"). */
export function searchNodes(nodes: readonly GNode[], text: string): GNode[] {
  const q = text.trim();
  if (!q) return [];
  const exact = nodes.filter((n) => n.id === q);
  return [...exact, ...nodes.filter((n) => n.id !== q && n.id.includes(q))];
}
