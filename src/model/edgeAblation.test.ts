import { beforeAll, describe, expect, it } from 'vitest';
import { earliestAffectedLayer } from './applyInterventions';
import { SparseGpt } from './forward';
import type { AblationMode, Intervention } from './interventions';
import { referenceForward, type ReferenceOptions, type ReferenceResult } from './reference/referenceForward';
import { allSites, parseNodeId, parseSite, siteWidth, type SiteName } from './sites';
import { expectClose, maxAbsDiff, testTokens } from './testing/compare';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from './testing/randomCheckpoint';
import { toSparseRepresentation } from './testing/sparseCheckpoint';
import { tf } from './tfjs';

/**
 * Residual and q·k edge ablation (docs/circuits.md, "Ablating an edge") against the float64 reference, which states
 * each definition on its own terms: a residual edge patches the reader's copy of the stream with the writer's value
 * swapped for its mean (or 0); a q·k edge swaps the score term q_i[c]·k_j[c] for q_i[c]·mean(k[c]) (or 0). The runtime
 * runs them on dense and CSR weights alike.
 */
const ckpt = randomCheckpoint({
  config: { afrac: 0.5, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true, bigramTable: true, nLayer: 2 },
  seed: 5,
  density: 0.5,
});
const c = ckpt.config;
const tokens = testTokens(8, c.vocabSize, 3);
const mean = (site: string, ch: number) => ckpt.means.get(site)![ch]!;
const plain = referenceForward(ckpt, tokens);

/** The channel of a site whose value (in the plain run) is farthest from its mean, so that ablating it moves things. */
function liveChannel(site: SiteName, from: ReferenceResult = plain): number {
  const w = siteWidth(c, site);
  const v = from.sites.get(site)!;
  let best = 0;
  let bestScore = -1;
  for (let ch = 0; ch < w; ch++) {
    let score = 0;
    for (let t = 0; t < tokens.length; t++) score += Math.abs(v[t * w + ch]! - mean(site, ch)) + Math.abs(v[t * w + ch]!);
    if (score > bestScore) [best, bestScore] = [ch, score];
  }
  return best;
}

const fillOf = (site: string, ch: number, mode: AblationMode) => (mode === 'mean' ? mean(site, ch) : 0);

/** The reference options that state a list of node, residual and q·k ablations (first entry of a repeated edge wins). */
function referenceOf(list: readonly Intervention[]): ReferenceOptions {
  const nodes = new Map<string, number>();
  const qk = new Map<string, { layer: number; channel: number; value: number }>();
  const residual = new Map<string, { writer: SiteName; reader: SiteName; channel: number; value: number }>();
  for (const iv of list) {
    if (iv.kind === 'node') {
      const n = parseNodeId(iv.node);
      nodes.set(iv.node, fillOf(n.site, n.channel, iv.mode));
    } else if (iv.kind === 'edge') {
      const s = parseNodeId(iv.source);
      const t = parseNodeId(iv.target);
      const key = `${iv.source}>${iv.target}`;
      if (t.site.endsWith('attn.k')) {
        if (!qk.has(key)) qk.set(key, { layer: parseSite(t.site).layer!, channel: t.channel, value: fillOf(t.site, t.channel, iv.mode) });
      } else if (!residual.has(key)) {
        residual.set(key, { writer: s.site, reader: t.site, channel: s.channel, value: fillOf(s.site, s.channel, iv.mode) });
      }
    } else throw new Error('not used here');
  }
  return { siteReplace: (s, ch) => nodes.get(`${s}:${ch}`), residualPatches: [...residual.values()], qkPatches: [...qk.values()] };
}

/** k node -> the value a q·k edge of the list puts in its place: the runtime records the k site with it. */
function qkFills(list: readonly Intervention[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const q of referenceOf(list).qkPatches ?? []) out.set(`${q.layer}.attn.k:${q.channel}`, q.value);
  return out;
}

function expectMatches(got: { logits: Float32Array; sites: Map<SiteName, Float32Array> }, want: ReferenceResult, list: readonly Intervention[], tol = 1e-4) {
  expectClose('logits', got.logits, want.logits, tol);
  const replaced = qkFills(list);
  for (const s of allSites(c)) {
    const w = siteWidth(c, s);
    // A k site reads as the score sees it: a q·k edge's channel replaced, every other channel as computed.
    const r = want.sites.get(s)!.map((v, i) => replaced.get(`${s}:${i % w}`) ?? v);
    expectClose(s, got.sites.get(s), r, tol);
  }
}

// Writers and readers at every distance: within a layer, across layers, into final_resid.
const RESIDUAL_PAIRS: [SiteName, SiteName][] = [
  ['0.attn.resid_delta', '0.mlp.act_in'],
  ['0.mlp.resid_delta', '1.attn.act_in'],
  ['0.attn.resid_delta', '1.mlp.act_in'],
  ['1.attn.resid_delta', 'final_resid'],
  ['0.mlp.resid_delta', 'final_resid'],
];
const residualEdge = (writer: SiteName, reader: SiteName, mode: AblationMode, ch = liveChannel(writer)): Intervention =>
  ({ kind: 'edge', source: `${writer}:${ch}`, target: `${reader}:${ch}`, mode });
const qkEdge = (layer: number, mode: AblationMode, ch = liveChannel(`${layer}.attn.k` as SiteName)): Intervention =>
  ({ kind: 'edge', source: `${layer}.attn.q:${ch}`, target: `${layer}.attn.k:${ch}`, mode });

/** A list mixing every kind: two residual edges into one reader (one of them from a node-ablated writer), a q·k edge
 *  whose k node is also ablated (the edge wins, in either order), a weight edge, and a node elsewhere. */
function mixed(mode: AblationMode): Intervention[] {
  const ch = liveChannel('0.attn.resid_delta');
  const other = (ch + 1) % c.dModel;
  const k = liveChannel('1.attn.k');
  return [
    { kind: 'node', node: `0.attn.resid_delta:${ch}`, mode: mode === 'mean' ? 'zero' : 'mean' },
    residualEdge('0.attn.resid_delta', '1.attn.act_in', mode, ch),
    residualEdge('0.mlp.resid_delta', '1.attn.act_in', mode, ch),
    residualEdge('0.mlp.resid_delta', '1.attn.act_in', mode, other),
    { kind: 'node', node: `1.attn.k:${k}`, mode: 'zero' },
    qkEdge(1, mode, k),
    { kind: 'edge', source: '1.mlp.act_in:0', target: '1.mlp.post_act:0', mode },
    { kind: 'node', node: '1.mlp.post_act:3', mode },
  ];
}

describe('the float64 reference states the q·k edge as a score term', () => {
  it.each(['mean', 'zero'] as const)('replacing q·k[c] by q·mean(k[c]) equals replacing k[c] by its mean (%s)', (mode) => {
    const k = liveChannel('0.attn.k');
    const value = fillOf('0.attn.k', k, mode);
    const asTerm = referenceForward(ckpt, tokens, { qkPatches: [{ layer: 0, channel: k, value }] });
    const asNode = referenceForward(ckpt, tokens, { siteReplace: (s, ch) => (s === '0.attn.k' && ch === k ? value : undefined) });
    expect(maxAbsDiff(asTerm.logits, asNode.logits)).toBeLessThan(1e-10);
    expect(maxAbsDiff(asTerm.logits, plain.logits)).toBeGreaterThan(1e-4);
  });
});

describe.each<NodeBackendName>(['cpu', 'wasm'])('residual and q·k edge ablation on %s', (backend) => {
  let dense: SparseGpt;
  let sparse: SparseGpt;
  beforeAll(async () => {
    await useBackend(backend);
    dense = new SparseGpt(ckpt);
    sparse = new SparseGpt(toSparseRepresentation(ckpt));
    return () => {
      dense.dispose();
      sparse.dispose();
    };
  });
  const models = () => [['dense', dense], ['CSR', sparse]] as const;

  for (const mode of ['mean', 'zero'] as const) {
    for (const [writer, reader] of RESIDUAL_PAIRS) {
      it(`residual ${writer} -> ${reader} (${mode}), dense and CSR`, async () => {
        const list = [residualEdge(writer, reader, mode)];
        const want = referenceForward(ckpt, tokens, referenceOf(list));
        for (const [, m] of models()) expectMatches(await m.run(tokens, { interventions: list, record: 'all' }), want, list);
        // Path patching: the reader moves, the writer and the stream's other readers of that layer do not.
        expect(maxAbsDiff(want.sites.get(reader)!, plain.sites.get(reader)!)).toBeGreaterThan(1e-4);
        expect(maxAbsDiff(want.sites.get(writer)!, plain.sites.get(writer)!)).toBe(0);
        expect(maxAbsDiff(want.logits, plain.logits)).toBeGreaterThan(1e-4);
      });
    }
    for (const layer of [0, 1]) {
      it(`q·k in layer ${layer} (${mode}), dense and CSR`, async () => {
        const list = [qkEdge(layer, mode)];
        const want = referenceForward(ckpt, tokens, referenceOf(list));
        for (const [, m] of models()) expectMatches(await m.run(tokens, { interventions: list, record: 'all', recordAttention: [layer] }), want, list);
        expect(maxAbsDiff(want.attention.get(layer)!, plain.attention.get(layer)!)).toBeGreaterThan(1e-4);
      });
    }
    it(`a list mixing node, weight, residual and q·k ablations (${mode}), dense and CSR`, async () => {
      const list = mixed(mode);
      // The weight edge, as the weight edit it is, goes to the reference as an edited tensor.
      const W = ckpt.tensors.get('transformer.h.1.mlp.c_fc.weight')!;
      const w0 = W.data[0]!;
      expect(w0).not.toBe(0);
      const Wd = W.data.slice();
      Wd[0] = 0;
      const b = ckpt.tensors.get('transformer.h.1.mlp.c_fc.bias')!;
      const bd = b.data.slice();
      if (mode === 'mean') bd[0] += w0 * mean('1.mlp.act_in', 0);
      const ref = referenceOf(list.filter((iv) => !(iv.kind === 'edge' && iv.source === '1.mlp.act_in:0')));
      const want = referenceForward(ckpt, tokens, { ...ref, tensorOverrides: new Map([['transformer.h.1.mlp.c_fc.weight', { shape: W.shape, data: Wd }], ['transformer.h.1.mlp.c_fc.bias', { shape: b.shape, data: bd }]]) });
      for (const [, m] of models()) {
        expectMatches(await m.run(tokens, { interventions: list, record: 'all' }), want, list);
        // A q·k edge wins over its k node's ablation wherever either stands in the list.
        const reordered = [...list.slice(5), ...list.slice(0, 5)];
        expectClose('reordered', (await m.run(tokens, { interventions: reordered })).logits, (await m.run(tokens, { interventions: list })).logits, 0);
      }
    });
  }

  it('a residual edge from a writer that already equals its mean changes nothing, bit for bit', async () => {
    const ch = liveChannel('0.mlp.resid_delta');
    const node: Intervention = { kind: 'node', node: `0.mlp.resid_delta:${ch}`, mode: 'mean' };
    for (const [, m] of models()) {
      const base = await m.run(tokens, { interventions: [node], record: 'all' });
      for (const reader of ['1.attn.act_in', '1.mlp.act_in', 'final_resid'] as SiteName[]) {
        const got = await m.run(tokens, { interventions: [node, residualEdge('0.mlp.resid_delta', reader, 'mean', ch)], record: 'all' });
        expectClose(`logits, edge into ${reader}`, got.logits, base.logits, 0);
        for (const s of allSites(c)) expectClose(`${s}, edge into ${reader}`, got.sites.get(s), base.sites.get(s), 0);
      }
    }
  });

  it.each(['mean', 'zero'] as const)('ablating every residual edge out of a writer equals ablating the writer node (%s)', async (mode) => {
    // Every read of the stream after each writer.
    const readersAfter: [SiteName, SiteName[]][] = [
      ['0.attn.resid_delta', ['0.mlp.act_in', '1.attn.act_in', '1.mlp.act_in', 'final_resid']],
      ['0.mlp.resid_delta', ['1.attn.act_in', '1.mlp.act_in', 'final_resid']],
    ];
    for (const [writer, readers] of readersAfter) {
      const ch = liveChannel(writer);
      const edges = readers.map((r) => residualEdge(writer, r, mode, ch));
      for (const [, m] of models()) {
        const viaEdges = await m.run(tokens, { interventions: edges, record: 'all' });
        const viaNode = await m.run(tokens, { interventions: [{ kind: 'node', node: `${writer}:${ch}`, mode }], record: 'all' });
        expect(maxAbsDiff(viaNode.logits, (await m.run(tokens)).logits), 'the node matters').toBeGreaterThan(1e-4);
        expectClose(`logits, ${writer}:${ch} (${readers.join(', ')})`, viaEdges.logits, viaNode.logits, 1e-5);
        // Every site but the writer itself agrees (the edges leave the writer's own value as it was).
        for (const s of allSites(c)) if (s !== writer) expectClose(s, viaEdges.sites.get(s), viaNode.sites.get(s), 1e-5);
      }
    }
  });

  it('incremental recompute: a residual edge starts at its writer\'s layer, and a later start is refused', async () => {
    const list = [residualEdge('0.mlp.resid_delta', '1.attn.act_in', 'mean')];
    expect(earliestAffectedLayer(c, list)).toBe(0);
    expect(earliestAffectedLayer(c, [residualEdge('1.attn.resid_delta', 'final_resid', 'zero')])).toBe(1);
    expect(earliestAffectedLayer(c, [qkEdge(1, 'zero')])).toBe(1);
    for (const [, m] of models()) {
      const base = await m.run(tokens, { recordResidual: true });
      const full = await m.run(tokens, { interventions: list });
      const part = await m.run(tokens, { interventions: list, startLayer: 0, residualIn: base.residuals!.get(0)! });
      expectClose('logits', part.logits, full.logits, 0);
      const late = [residualEdge('1.attn.resid_delta', 'final_resid', 'mean')];
      expectClose('from layer 1', (await m.run(tokens, { interventions: late, startLayer: 1, residualIn: base.residuals!.get(1)! })).logits, (await m.run(tokens, { interventions: late })).logits, 1e-5);
      const before = tf.memory().numTensors;
      await expect(m.run(tokens, { interventions: list, startLayer: 1, residualIn: base.residuals!.get(1)! })).rejects.toThrow(/0\.mlp\.resid_delta -> 1\.attn\.act_in: this run did not compute the writer/);
      expect(tf.memory().numTensors, 'a refused run leaves nothing behind').toBe(before);
      tf.dispose([...base.residuals!.values()]);
    }
  });

  it('runs with residual edges leave no tensors behind', async () => {
    for (const [, m] of models()) {
      await m.run(tokens, { interventions: mixed('mean'), record: 'all' });
      const before = tf.memory().numTensors;
      for (const mode of ['mean', 'zero'] as const) await m.run(tokens, { interventions: mixed(mode), record: ['1.attn.act_in'] });
      await m.run(tokens, { interventions: mixed('mean') });
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
