import { showToken } from '../shared/tokenText';

/**
 * Geometry of one head's attention grid (rows: query token, columns: key token; causal, so only k <= q is drawn):
 * cell size, which axis labels fit, which cell a point or a key press lands on, and what a cell reads as.
 */

/** Cells are at most this big (a short prompt) and at least this small (a long one scrolls instead). */
export const MAX_CELL = 14;
export const MIN_CELL = 2;
/** The grid aims to fit the node panel (about 360px wide, less the query labels) at this width. */
export const GRID_PX = 280;
/** Axis labels closer than this (one line of 10px text) would overlap. */
export const LABEL_PITCH = 12;

export interface Cell { q: number; k: number }

/** Cell size for a prompt of `T` tokens, and the label stride: every `stride`-th token is named on the axes. */
export function gridLayout(T: number): { cell: number; stride: number } {
  const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor(GRID_PX / Math.max(1, T))));
  return { cell, stride: Math.max(1, Math.ceil(LABEL_PITCH / cell)) };
}

/** Positions named on an axis: 0, stride, 2·stride... (every position when they all fit). */
export function labelIndices(T: number, stride: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < T; i += Math.max(1, stride)) out.push(i);
  return out;
}

/** The drawn cell under a point (pixels from the grid's top-left corner), or null off the grid or above the diagonal. */
export function cellAt(x: number, y: number, cell: number, T: number): Cell | null {
  if (!(x >= 0 && y >= 0)) return null;
  const q = Math.floor(y / cell);
  const k = Math.floor(x / cell);
  return q < T && k <= q ? { q, k } : null;
}

/**
 * Where a key moves the keyboard cursor; null when the key is not a grid key. Left/right move along the query's row
 * (keys 0..q), up/down between queries (the key is pulled back onto the diagonal when the row is shorter), Home/End
 * go to the row's ends, PageUp/PageDown move ten queries.
 */
export function gridStep(at: Cell, key: string, T: number): Cell | null {
  if (T <= 0) return null;
  const row = (q: number, k: number): Cell => {
    const qq = Math.max(0, Math.min(T - 1, q));
    return { q: qq, k: Math.max(0, Math.min(qq, k)) };
  };
  switch (key) {
    case 'ArrowLeft': return row(at.q, at.k - 1);
    case 'ArrowRight': return row(at.q, at.k + 1);
    case 'ArrowUp': return row(at.q - 1, at.k);
    case 'ArrowDown': return row(at.q + 1, at.k);
    case 'PageUp': return row(at.q - 10, at.k);
    case 'PageDown': return row(at.q + 10, at.k);
    case 'Home': return row(at.q, 0);
    case 'End': return row(at.q, at.q);
    default: return null;
  }
}

/** The probability query `q` gives key `k` in head `head` of a layer's [H, T, T] attention. */
export function weightAt(att: ArrayLike<number>, head: number, T: number, { q, k }: Cell): number {
  return att[(head * T + q) * T + k]!;
}

/** What a cell reads as: "query token 3 'x' → key token 1 'y': weight 0.123". */
export function cellReadout(texts: readonly string[], { q, k }: Cell, weight: number): string {
  return `query token ${q} '${showToken(texts[q]!)}' → key token ${k} '${showToken(texts[k]!)}': weight ${weight.toFixed(3)}`;
}
