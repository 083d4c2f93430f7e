import * as d3 from 'd3';
import { useEffect, useMemo, useRef, type FocusEvent, type KeyboardEvent, type MouseEvent } from 'react';
import { selectPos } from '../../state/explorerActions';
import { useLiveStore } from '../../state/liveStore';
import { useEffectivePos, variantOf } from '../shared/liveSelectors';
import { showToken } from '../shared/tokenText';
import { cellAt, cellReadout, gridLayout, gridStep, LABEL_PITCH, labelIndices, weightAt, type Cell } from './attentionGrid';
import './attention.css';

/** d3's Blues scale at 256 steps, as RGB bytes: a long prompt's grid is written pixel by pixel, not cell by cell. */
const BLUES = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const c = d3.rgb(d3.interpolateBlues(i / 255));
    lut.set([c.r, c.g, c.b], i * 3);
  }
  return lut;
})();

/**
 * One head's attention probabilities (rows: query token, columns: key token) under the current interventions, with
 * the prompt's tokens on both axes. Hovering a cell, or moving the keyboard cursor (the grid is one Tab stop; arrow
 * keys, Home/End, PageUp/PageDown), reads out its two tokens and its weight and highlights its row and column; a
 * click or Enter selects the query's position. The readout and highlight are drawn imperatively, outside React
 * renders: a long prompt's grid has a million cells and the mouse crosses many per second.
 */
export function AttentionPattern({ layer, head }: { layer: number; head: number }) {
  const detailed = useLiveStore((s) => s.detailed);
  const pos = useEffectivePos();
  const heat = useRef<HTMLCanvasElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const readout = useRef<HTMLDivElement>(null);
  const grid = useRef<HTMLDivElement>(null);
  const cursor = useRef<Cell | null>(null);
  const att = variantOf(detailed, 'current')?.attention[layer];
  const texts = useMemo(() => detailed?.tokens.map((t) => t.text) ?? [], [detailed]);
  const T = texts.length;
  const H = att && T ? att.length / (T * T) : 0;
  const ready = !!att && T > 0 && head < H;
  const { cell, stride } = gridLayout(T);
  const size = T * cell;

  useEffect(() => {
    const c = heat.current;
    if (!c || !att || !ready) return;
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(size, size);
    const gap = cell >= 6 ? 1 : 0; // a gap between cells only where cells are big enough to spare it
    for (let q = 0; q < T; q++) for (let k = 0; k <= q; k++) {
      const i = Math.round(Math.max(0, Math.min(1, weightAt(att, head, T, { q, k }))) * 255) * 3;
      for (let y = q * cell; y < (q + 1) * cell - gap; y++) for (let x = k * cell; x < (k + 1) * cell - gap; x++) {
        const o = (y * size + x) * 4;
        img.data[o] = BLUES[i]!;
        img.data[o + 1] = BLUES[i + 1]!;
        img.data[o + 2] = BLUES[i + 2]!;
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    if (pos !== null) {
      ctx.strokeStyle = '#e6a700';
      ctx.lineWidth = 2;
      ctx.strokeRect(1, pos * cell + 1, size - 2, cell - 2);
    }
  }, [att, ready, T, head, pos, cell, size]);

  // Another prompt or head: a cursor or readout of the old grid would name cells that are no longer there.
  useEffect(() => {
    cursor.current = null;
    show(null);
  }, [att, head, T]);

  /** Shows one cell's readout and highlight (null hides them). */
  function show(at: Cell | null): void {
    const o = overlay.current;
    const r = readout.current;
    const ctx = o?.getContext('2d');
    ctx?.clearRect(0, 0, size, size);
    for (const el of grid.current?.querySelectorAll('.attn-label.hot') ?? []) el.classList.remove('hot');
    if (!o || !r || !ctx || !att || !at) {
      if (r) r.hidden = true;
      return;
    }
    const w = weightAt(att, head, T, at);
    // The query's row and the key's column, within the drawn (causal) triangle, then the cell itself.
    ctx.fillStyle = 'rgba(230, 167, 0, 0.25)';
    ctx.fillRect(0, at.q * cell, (at.q + 1) * cell, cell);
    ctx.fillRect(at.k * cell, at.k * cell, cell, (T - at.k) * cell);
    ctx.strokeStyle = '#d62728';
    ctx.lineWidth = 2;
    ctx.strokeRect(at.k * cell + 1, at.q * cell + 1, Math.max(1, cell - 2), Math.max(1, cell - 2));
    grid.current?.querySelector(`.attn-label[data-axis="query"][data-index="${at.q}"]`)?.classList.add('hot');
    grid.current?.querySelector(`.attn-label[data-axis="key"][data-index="${at.k}"]`)?.classList.add('hot');
    r.textContent = cellReadout(texts, at, w);
    r.dataset.query = String(at.q);
    r.dataset.key = String(at.k);
    r.dataset.weight = String(w);
    r.hidden = false; // shown before it is measured: a hidden element has no size
    // Beside the cell in the window (the panel scrolls and would clip it), flipped to the cell's left or top when it
    // would leave the window on the right or at the bottom.
    const box = o.getBoundingClientRect();
    const x = box.left + (at.k + 1) * cell + 8;
    const y = box.top + (at.q + 1) * cell + 4;
    r.style.left = `${x + r.offsetWidth > window.innerWidth ? Math.max(0, box.left + at.k * cell - r.offsetWidth - 8) : x}px`;
    r.style.top = `${y + r.offsetHeight > window.innerHeight ? Math.max(0, box.top + at.q * cell - r.offsetHeight - 4) : y}px`;
  }

  const pointCell = (e: MouseEvent<HTMLCanvasElement>): Cell | null => {
    const box = e.currentTarget.getBoundingClientRect();
    return cellAt(e.clientX - box.left, e.clientY - box.top, cell, T);
  };
  const onMouseMove = (e: MouseEvent<HTMLCanvasElement>) => show(pointCell(e) ?? cursor.current);
  const onMouseLeave = () => show(cursor.current);
  const onClick = (e: MouseEvent<HTMLCanvasElement>) => {
    const at = pointCell(e);
    if (at) selectPos(at.q);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey || !ready) return;
    const at = cursor.current ?? startCell();
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      selectPos(at.q);
      return;
    }
    const next = gridStep(at, e.key, T);
    if (!next) return;
    e.preventDefault();
    cursor.current = next;
    show(next);
  };
  /** The keyboard cursor starts on the selected query's most attended key. */
  const startCell = (): Cell => {
    const q = pos ?? T - 1;
    let k = 0;
    for (let j = 1; j <= q; j++) if (weightAt(att!, head, T, { q, k: j }) > weightAt(att!, head, T, { q, k })) k = j;
    return { q, k };
  };
  const onFocus = (e: FocusEvent<HTMLDivElement>) => {
    // A click focuses the grid too; the cursor then waits for the first key rather than cover the hovered cell.
    if (!ready || !e.currentTarget.matches(':focus-visible')) return;
    cursor.current ??= startCell();
    show(cursor.current);
  };
  const onBlur = () => {
    cursor.current = null;
    show(null);
  };

  if (!ready) return <p className="muted small">attention pattern: running…</p>;
  const row = pos !== null ? Array.from({ length: pos + 1 }, (_, k) => weightAt(att, head, T, { q: pos, k })) : [];
  const top = row.map((p, k) => ({ p, k })).sort((a, b) => b.p - a.p).slice(0, 3);
  const shown = labelIndices(T, stride);
  const label = (axis: 'query' | 'key', i: number) => (
    <span key={i} className="attn-label" data-axis={axis} data-index={i} title={`${axis} token ${i}: ${JSON.stringify(texts[i])}`}
      style={axis === 'query'
        ? { top: i * cell + cell / 2 - LABEL_PITCH / 2, height: LABEL_PITCH, lineHeight: `${LABEL_PITCH}px` }
        : { left: i * cell + cell / 2 - LABEL_PITCH / 2, width: LABEL_PITCH, lineHeight: `${LABEL_PITCH}px` }}>
      {showToken(texts[i]!)}
    </span>
  );
  return (
    <div data-testid="attention-pattern">
      <h3 className="small">layer {layer} head {head} attention (row = query, column = key{stride > 1 ? `; one token in ${stride} named` : ''})</h3>
      <div className="attn-scroll">
        <div className="attn-grid" ref={grid} data-testid="attention-grid" data-cell={cell} data-stride={stride} data-tokens={T} tabIndex={0} role="application"
          aria-label={`Attention of layer ${layer} head ${head}; from token ${pos}: ${top.map((t) => `${JSON.stringify(texts[t.k])} ${(t.p * 100).toFixed(0)}%`).join(', ')}. Arrow keys read out single cells.`}
          aria-describedby={`attn-readout-${layer}-${head}`} onKeyDown={onKeyDown} onFocus={onFocus} onBlur={onBlur}>
          <div className="attn-corner muted small">query ↓ key →</div>
          <div className="attn-keys" data-testid="attention-key-labels" style={{ width: size }}>{shown.map((i) => label('key', i))}</div>
          <div className="attn-queries" data-testid="attention-query-labels" style={{ height: size }}>{shown.map((i) => label('query', i))}</div>
          <div className="attn-cells" style={{ width: size, height: size }}>
            <canvas ref={heat} width={size} height={size} aria-hidden />
            <canvas ref={overlay} width={size} height={size} className="attn-overlay" data-testid="attention-cells"
              onMouseMove={onMouseMove} onMouseLeave={onMouseLeave} onClick={onClick} />
            <div ref={readout} id={`attn-readout-${layer}-${head}`} className="attn-readout small" data-testid="attention-readout" role="status" hidden />
          </div>
        </div>
      </div>
      {pos !== null && <p className="small">token {pos} attends to {top.map((t) => `${JSON.stringify(texts[t.k])}@${t.k} ${(t.p * 100).toFixed(0)}%`).join(', ')}</p>}
    </div>
  );
}
