import * as d3 from 'd3';
import type { GNode } from './layout';

/**
 * Marks the nodes a toolbar search found (class `search-hit`, styled by graph.css: a mark of the page, so an exported
 * image does not carry it). Called again after every redraw, which rebuilds the nodes.
 */
export function markSearchHits(svgEl: SVGSVGElement, ids: ReadonlySet<string>): void {
  d3.select(svgEl).selectAll<SVGGElement, GNode>('g.node').classed('search-hit', (n) => ids.has(n.id));
}
