import * as d3 from 'd3';
import { useEffect, useRef } from 'react';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { ablationSets } from '../shared/liveSelectors';

const W = 300;
const H = 140;
const M = { l: 36, r: 8, t: 8, b: 26 };

/** The circuit's loss-at-k curve (from pruning), with the current state as a live point at its node (or, for an edge
 *  circuit, edge) count. */
export function LossAtK() {
  const circuit = useLiveStore((s) => s.circuit);
  const current = useLiveStore((s) => s.current);
  const list = useExplorerStore((s) => s.iv.present);
  const view = useExplorerStore((s) => s.view);
  const ref = useRef<SVGSVGElement>(null);

  const curve = circuit?.loss_at_k ?? [];
  // An edge circuit's curve is over kept edges (docs/circuits.md, "Pruning by edges"); a node circuit's over nodes.
  const byEdges = circuit?.granularity === 'edges';
  const unit = byEdges ? 'edges' : 'nodes';
  const sets = ablationSets(list);
  const off = byEdges ? sets.edges : sets.nodes;
  const ablated = !circuit || !off.size ? 0
    : byEdges ? circuit.edges.filter((e) => off.has(`${e.source}>${e.target}`)).length
    : circuit.nodes.filter((n) => off.has(`${n.site}:${n.channel}`)).length;
  const fullK = (byEdges ? circuit?.total_edges : circuit?.total_nodes) ?? d3.max(curve, (p) => p[0]) ?? 0;
  const kept = byEdges ? (circuit?.edges.length ?? 0) : (circuit?.nodes.length ?? 0);
  const k = view === 'circuit' && circuit ? kept - ablated : fullK - off.size;
  // The curve is of uncalibrated losses (docs/circuits.md), so the live point is too.
  const liveLoss = current?.uncalibrated.loss;

  useEffect(() => {
    const svg = ref.current;
    if (!svg || !circuit || curve.length === 0) return;
    const s = d3.select(svg);
    s.selectAll('*').remove();
    const ks = curve.map((p) => p[0]).concat(k > 0 ? [k] : []);
    const ls = curve.map((p) => p[1]).concat(liveLoss !== undefined ? [liveLoss, circuit.target_loss] : [circuit.target_loss]);
    const x = d3.scaleLog().domain([Math.max(1, d3.min(ks)!), Math.max(2, d3.max(ks)!)]).range([M.l, W - M.r]).nice();
    const y = d3.scaleLinear().domain([0, (d3.max(ls) ?? 1) * 1.1]).range([H - M.b, M.t]).nice();
    s.append('g').attr('transform', `translate(0,${H - M.b})`).call(d3.axisBottom(x).ticks(4, '~s'));
    s.append('g').attr('transform', `translate(${M.l},0)`).call(d3.axisLeft(y).ticks(4));
    s.append('line').attr('x1', M.l).attr('x2', W - M.r).attr('y1', y(circuit.target_loss)).attr('y2', y(circuit.target_loss))
      .attr('stroke', 'currentColor').attr('stroke-dasharray', '3 3').attr('opacity', 0.5);
    s.append('path').datum(curve.filter((p) => p[0] >= 1)).attr('fill', 'none').attr('stroke', 'var(--accent)').attr('stroke-width', 1.5)
      .attr('d', d3.line<[number, number]>().x((p) => x(p[0])).y((p) => y(p[1])));
    if (liveLoss !== undefined && k >= 1) {
      s.append('circle').attr('data-testid', 'live-point').attr('cx', x(k)).attr('cy', y(liveLoss)).attr('r', 5).attr('fill', '#e6a700').attr('stroke', 'currentColor')
        .append('title').text(`now: ${k} ${unit}, loss ${liveLoss.toFixed(3)} (uncalibrated)`);
    }
    s.append('text').attr('x', W - M.r).attr('y', H - 2).attr('text-anchor', 'end').attr('font-size', 10).attr('fill', 'currentColor').text(`${unit} kept (k)`);
  }, [circuit, curve, liveLoss, k, unit]);

  if (!circuit || curve.length === 0) return null;
  return (
    <figure className="loss-at-k">
      <svg ref={ref} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Loss at k; current state: ${k} ${unit}, loss ${liveLoss?.toFixed(3) ?? 'pending'}`} />
      <figcaption className="muted small">task loss vs {unit} kept (pruning, uncalibrated); dashed: target; dot: now</figcaption>
    </figure>
  );
}
