import * as d3 from 'd3';

/**
 * The colour scale of node values (blue below zero, white at zero, red above, saturating at ±maxAbs), with a text
 * colour that stays readable on it. Shared by the prompt heatmap and the held-out snippets.
 */
export function heatColor(maxAbs: number): (v: number) => { background: string; color: string } {
  const m = Math.max(1e-9, maxAbs);
  const scale = d3.scaleDiverging<string>([-m, 0, m], (t) => d3.interpolateRdBu(1 - t));
  return (v) => ({ background: scale(v), color: Math.abs(v) > 0.6 * m ? '#fff' : '#111' });
}
