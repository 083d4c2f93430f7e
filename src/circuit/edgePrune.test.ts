import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparseGpt } from '../model/forward';
import type { AblationMode, Intervention } from '../model/interventions';
import { parseNodeId, parseSite } from '../model/registry';
import { useBackend, type NodeBackendName } from '../model/testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from '../model/testing/randomCheckpoint';
import { tf } from '../model/tfjs';
import { SeededRng } from '../tasks/seeded';
import type { TaskPrompt } from '../tasks/taskSchema';
import { edgeCandidates, type EdgeCandidates } from './edgePruneCandidates';
import { circuitInterventions } from './circuitInterventions';
import { edgeCircuitParts } from './edgePruneFile';
import { EdgePruneForward } from './edgePruneForward';
import { appliedMasks, type AppliedMasks } from './edgePruneMasks';
import { extractEdges } from './edges';
import { evalLogitDiffs } from './taskBatch';

/**
 * The key exactness property of edge pruning: its forward pass (masks on nodes and on every candidate edge) is the
 * runtime's model under the matching interventions, for every edge kind and both ablation modes. On a random 2-layer
 * model with AbsTopK at every location and an attention sink (where the attention output of a mean-ablated v channel
 * is not its mean, so node and edge ablation differ).
 */
const PROMPTS: TaskPrompt[] = [
  { text: 'a', tokens: [3, 9, 17, 4, 22, 5], correct: 1, alternative: 2 },
  { text: 'b', tokens: [7, 30, 2], correct: 2, alternative: 1 },
  { text: 'c', tokens: [11, 12, 13, 14, 40, 41, 42, 8], correct: 5, alternative: 6 },
];

/** Every mask 1 but the given effective edge masks 0; every node kept. */
function onlyEdgesAblated(c: EdgeCandidates, ablated: number[]): AppliedMasks {
  const eff = new Float32Array(c.edges.length).fill(1);
  for (const e of ablated) eff[e] = 0;
  return { node: new Float32Array(c.layout.total).fill(1), eff, keptAt: new Int32Array(c.layout.total) };
}

/** Candidate edges by shape: every weight matrix, residual within a layer, across layers and into final_resid, q·k. */
function byShape(c: EdgeCandidates): Map<string, number[]> {
  const out = new Map<string, number[]>();
  c.edges.forEach((e, i) => {
    const s = parseSite(parseNodeId(e.source).site);
    const t = parseSite(parseNodeId(e.target).site);
    const shape = e.kind === 'residual'
      ? `residual ${t.layer === null ? 'to final' : t.layer === s.layer ? 'same layer' : 'next layer'}`
      : `${e.kind} ${s.kind}>${t.kind}`;
    out.set(shape, [...(out.get(shape) ?? []), i]);
  });
  return out;
}

describe.each<NodeBackendName>(['cpu', 'wasm'])('edge pruning forward pass on %s', (backend) => {
  let model: SparseGpt;
  let cands: EdgeCandidates;
  beforeAll(async () => {
    await useBackend(backend);
    const ckpt = randomCheckpoint({ config: { afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS, sink: true }, seed: 21, density: 0.3 });
    model = new SparseGpt(ckpt);
    cands = edgeCandidates(ckpt);
  });
  afterAll(() => {
    model.dispose();
    tf.disposeVariables();
  });
  const runtime = (interventions: Intervention[]) => evalLogitDiffs(model, PROMPTS, { batchSize: 2, interventions });

  it('the candidates are every edge of the model by the edge rule, of all three kinds', () => {
    const all = extractEdges(model.ckpt, Array.from({ length: cands.layout.total }, (_, i) => cands.layout.node(i)));
    expect(cands.edges).toEqual(all);
    const shapes = [...byShape(cands).keys()].sort();
    expect(shapes).toEqual([
      'qk attn.q>attn.k', 'residual next layer', 'residual same layer', 'residual to final',
      'weight attn.act_in>attn.k', 'weight attn.act_in>attn.q', 'weight attn.act_in>attn.v', 'weight attn.v>attn.resid_delta',
      'weight mlp.act_in>mlp.post_act', 'weight mlp.post_act>mlp.resid_delta',
    ]);
  });

  for (const mode of ['mean', 'zero'] as const) {
    it(`${mode}: every mask 1 is the unpruned model, bit for bit`, async () => {
      const fwd = new EdgePruneForward(model, cands, mode);
      try {
        const d = await fwd.evalLogitDiffs(PROMPTS, onlyEdgesAblated(cands, []), { batchSize: 2 });
        expect(Array.from(d)).toEqual(Array.from(await runtime([])));
      } finally {
        fwd.dispose();
      }
    });

    it(`${mode}: one edge mask 0 is the runtime's ablation of that edge, for every edge shape`, async () => {
      const fwd = new EdgePruneForward(model, cands, mode);
      const base = await runtime([]);
      try {
        for (const [shape, edges] of byShape(cands)) {
          // Up to 6 edges of the shape, spread over the list; at least one must change the output, or the comparison
          // would prove nothing (an edge into a channel that AbsTopK drops on these prompts changes nothing).
          let moved = 0;
          for (const e of edges.filter((_, j) => j % Math.ceil(edges.length / 6) === 0)) {
            const edge = cands.edges[e]!;
            const viaMask = await fwd.evalLogitDiffs(PROMPTS, onlyEdgesAblated(cands, [e]), { batchSize: 2 });
            const viaRuntime = await runtime([{ kind: 'edge', source: edge.source, target: edge.target, mode }]);
            for (let i = 0; i < PROMPTS.length; i++) expect(viaMask[i], `${shape} ${edge.source}->${edge.target} prompt ${i}`).toBeCloseTo(viaRuntime[i]!, 4);
            if (Array.from(viaRuntime).some((d, i) => Math.abs(d - base[i]!) > 1e-4)) moved++;
          }
          expect(moved, `no ${shape} edge tried changes the output`).toBeGreaterThan(0);
        }
      } finally {
        fwd.dispose();
      }
    });

    it(`${mode}: a random edge circuit is the runtime's circuit restriction plus its edge ablations`, async () => {
      const fwd = new EdgePruneForward(model, cands, mode);
      const rng = new SeededRng(mode === 'mean' ? 1 : 2);
      try {
        for (const share of [0.05, 0.3, 0.9]) {
          const m = Float32Array.from(cands.edges, () => (rng.uniform() < share ? 1 : 0));
          const parts = edgeCircuitParts(cands, m);
          const nodes = parts.nodes.map((v) => cands.layout.node(v));
          const list = circuitInterventions({ nodes, granularity: 'edges', ablated_edges: parts.ablated }, mode as AblationMode);
          const viaMask = await fwd.evalLogitDiffs(PROMPTS, appliedMasks(cands, m), { batchSize: 2 });
          const viaRuntime = await runtime(list);
          for (let i = 0; i < PROMPTS.length; i++) expect(viaMask[i], `share ${share} prompt ${i}`).toBeCloseTo(viaRuntime[i]!, 4);
          expect(parts.ablated.length).toBeGreaterThan(0);
        }
      } finally {
        fwd.dispose();
      }
    });
  }
});
