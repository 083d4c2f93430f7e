import { describe, expect, it } from 'vitest';
import { allSites, parseNodeId, siteWidth, type NodeRef } from '../model/sites';
import { randomCheckpoint } from '../model/testing/randomCheckpoint';
import { countEdgesByKind, extractEdges } from './edges';
import { NodeLayout } from './nodeLayout';

describe('extractEdges', () => {
  const ckpt = randomCheckpoint({ config: { nLayer: 2 }, seed: 21, density: 0.2 });
  const c = ckpt.config;
  const everyNode: NodeRef[] = allSites(c).flatMap((site) => Array.from({ length: siteWidth(c, site) }, (_, channel) => ({ site, channel })));
  const nnz = (key: string, rows?: [number, number]) => {
    const t = ckpt.tensors.get(key)!;
    const cols = t.shape[1]!;
    const [r0, r1] = rows ?? [0, t.shape[0]!];
    let n = 0;
    for (let i = r0 * cols; i < r1 * cols; i++) if (t.data[i] !== 0) n++;
    return n;
  };

  it('with every node kept, weight edges are exactly the nonzero entries of the four matrices', () => {
    const edges = extractEdges(ckpt, everyNode);
    let want = 0;
    for (let l = 0; l < c.nLayer; l++) {
      const p = `transformer.h.${l}`;
      want += nnz(`${p}.attn.c_attn.weight`) + nnz(`${p}.attn.c_proj.weight`) + nnz(`${p}.mlp.c_fc.weight`) + nnz(`${p}.mlp.c_proj.weight`);
    }
    const counts = countEdgesByKind(edges);
    expect(counts.weight).toBe(want);
    // q-k: one per q channel per layer. Residual: each write (2 per layer, d channels) reaches every later read
    // (act_in of later sublayers) and final_resid; random norm weights are nonzero.
    expect(counts.qk).toBe(c.nLayer * c.nHead * c.dHead);
    const sub = 2 * c.nLayer;
    let residual = 0;
    for (let s = 0; s < sub; s++) residual += (sub - 1 - s + 1) * c.dModel;
    expect(counts.residual).toBe(residual);
  });

  it('every edge joins two kept nodes and carries its weight entry', () => {
    const layout = new NodeLayout(c);
    const kept = everyNode.filter((_, i) => i % 3 !== 1);
    const keptIds = new Set(kept.map((n) => `${n.site}:${n.channel}`));
    const edges = extractEdges(ckpt, kept);
    expect(edges.length).toBeGreaterThan(0);
    for (const e of edges) {
      expect(keptIds.has(e.source) && keptIds.has(e.target)).toBe(true);
      expect(e.weight).not.toBe(0);
      if (e.kind === 'residual' || e.kind === 'qk') {
        expect(parseNodeId(e.source).channel).toBe(parseNodeId(e.target).channel);
        expect(layout.index(e.source)).toBeLessThan(layout.index(e.target));
      }
    }
    expect(extractEdges(ckpt, [])).toEqual([]);
  });
});

describe('NodeLayout', () => {
  it('maps node indices to site channels and back', () => {
    const c = randomCheckpoint({ config: {}, seed: 1 }).config;
    const layout = new NodeLayout(c);
    expect(layout.total).toBe(c.nLayer * (4 * c.dModel + 3 * c.nHead * c.dHead + c.dMlp) + c.dModel);
    for (let i = 0; i < layout.total; i++) expect(layout.index(layout.node(i))).toBe(i);
    expect(() => layout.index('9.attn.q:0')).toThrow();
  });
});
