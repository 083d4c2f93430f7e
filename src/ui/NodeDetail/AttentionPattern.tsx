import * as d3 from 'd3';
import { useEffect, useRef } from 'react';
import { useLiveStore } from '../../state/liveStore';
import { useEffectivePos, variantOf } from '../shared/liveSelectors';

const CELL = 14;

/** One head's attention probabilities (rows: query token, columns: key token) under the current interventions. */
export function AttentionPattern({ layer, head }: { layer: number; head: number }) {
  const detailed = useLiveStore((s) => s.detailed);
  const pos = useEffectivePos();
  const canvas = useRef<HTMLCanvasElement>(null);
  const att = variantOf(detailed, 'current')?.attention[layer];
  const T = detailed?.tokens.length ?? 0;
  const H = att && T ? att.length / (T * T) : 0;
  useEffect(() => {
    const c = canvas.current;
    if (!c || !att || !T || head >= H) return;
    const ctx = c.getContext('2d')!;
    ctx.clearRect(0, 0, c.width, c.height);
    for (let q = 0; q < T; q++) for (let k = 0; k <= q; k++) {
      ctx.fillStyle = d3.interpolateBlues(att[(head * T + q) * T + k]!);
      ctx.fillRect(k * CELL, q * CELL, CELL - 1, CELL - 1);
    }
    if (pos !== null) {
      ctx.strokeStyle = '#e6a700';
      ctx.lineWidth = 2;
      ctx.strokeRect(0, pos * CELL, T * CELL, CELL);
    }
  }, [att, T, H, head, pos]);
  if (!att || !T) return <p className="muted small">attention pattern: running…</p>;
  const row = pos !== null ? Array.from({ length: pos + 1 }, (_, k) => att[(head * T + pos) * T + k]!) : [];
  const top = row.map((p, k) => ({ p, k })).sort((a, b) => b.p - a.p).slice(0, 3);
  return (
    <div data-testid="attention-pattern">
      <h3 className="small">layer {layer} head {head} attention (row = query)</h3>
      <div className="attn-scroll">
        <canvas ref={canvas} width={T * CELL} height={T * CELL} role="img"
          aria-label={`Attention of layer ${layer} head ${head}; from token ${pos}: ${top.map((t) => `${JSON.stringify(detailed!.tokens[t.k]!.text)} ${(t.p * 100).toFixed(0)}%`).join(', ')}`} />
      </div>
      {pos !== null && <p className="small">token {pos} attends to {top.map((t) => `${JSON.stringify(detailed!.tokens[t.k]!.text)}@${t.k} ${(t.p * 100).toFixed(0)}%`).join(', ')}</p>}
    </div>
  );
}
