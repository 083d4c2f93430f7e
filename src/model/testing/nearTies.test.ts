import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceForward } from '../reference/referenceForward';
import { allSites, siteWidth } from '../sites';
import type { LoadedCheckpoint } from '../weights';
import { expectGoldenMatch } from './compare';
import { goldenDiffs, testTokens } from './goldenDiffs';
import { goldenFileDiffs } from './goldenFile';
import { compareTrace, type TraceEntry } from './nearTies';
import { useBackend, type NodeBackendName } from './nodeBackends';
import { makeConfig, randomCheckpoint } from './randomCheckpoint';
import { writeSafetensors } from './safetensorsWriter';

// Synthetic traces: one selecting site [T=3, width 4] keeping 2 channels per row, then logits [3, 2].
function trace(site: number[], logits: number[], wantSite: number[], wantLogits: number[]): TraceEntry[] {
  return [
    { label: '0.mlp.post_act', got: site, want: wantSite, width: 4, selects: true },
    { label: 'logits', got: logits, want: wantLogits, width: 2 },
  ];
}
const wantSite = [5, 0, 0.5, 0, /**/ 4, 0.30000002, 0, 0, /**/ 0, 2, 0, 1];
const wantLogits = [1, 2, 3, 4, 5, 6];

describe('compareTrace', () => {
  it('explains a swap of channels with nearly equal |x| and everything downstream of it, and reports it', () => {
    // Position 1: got kept channel 2 (0.3) where the reference kept channel 1 (0.30000002); logits move at >= 1.
    const got = [5, 0, 0.5, 0, /**/ 4, 0, -0.3, 0, /**/ 0, 2, 0, 1];
    const r = compareTrace(trace(got, [1, 2, 4, 3, 6, 5], wantSite, wantLogits));
    expect(r.nearTies.map((t) => t.message)).toEqual([
      'near-tie at 0.mlp.post_act position 1 (|x| gap 2.0e-8: kept channel 2 where the reference kept 1)',
    ]);
    expect(r.diffs.map((d) => [d.label, d.diff])).toEqual([['0.mlp.post_act', 0], ['logits', 0]]);
    expect(r.diffs[1]!.rawDiff).toBe(1);
    expect(r.diffs[1]!.explainedBy).toMatch(/^near-tie at 0.mlp.post_act position 1/);
  });

  it('still fails a swap whose |x| differ by more than the tie tolerance', () => {
    const got = [5, 0, 0.5, 0, /**/ 4, 0, 0.2, 0, /**/ 0, 2, 0, 1];
    const r = compareTrace(trace(got, [1, 2, 4, 3, 6, 5], wantSite, wantLogits));
    expect(r.nearTies).toEqual([]);
    expect(r.diffs[0]!.diff).toBeCloseTo(0.30000002, 6);
    expect(r.diffs[1]!.diff).toBe(1);
  });

  it('still fails downstream differences at positions before the tie, and value errors at the tie row', () => {
    const got = [5, 0, 0.5, 0, /**/ 4, 0, 0.3, 0, /**/ 0, 2, 0, 1];
    // Logits at position 0 (upstream of the tie at position 1) are off: a real bug.
    expect(compareTrace(trace(got, [1.5, 2, 4, 3, 6, 5], wantSite, wantLogits)).diffs[1]!.diff).toBe(0.5);
    // A channel kept by both disagrees at the tie's row: not a tie.
    const off = [5, 0, 0.5, 0, /**/ 4.5, 0, 0.3, 0, /**/ 0, 2, 0, 1];
    const r = compareTrace(trace(off, wantLogits, wantSite, wantLogits));
    expect(r.nearTies).toEqual([]);
    expect(r.diffs[0]!.diff).toBe(0.5);
  });

  it('never explains NaN, missing data or a length mismatch', () => {
    const r = compareTrace([
      { label: 'a', got: [Number.NaN, 0], want: [0, 1], width: 2, selects: true },
      { label: 'b', got: [1], want: undefined, width: 1 },
      { label: 'c', got: [1, 2], want: [1], width: 1 },
    ]);
    expect(r.diffs.map((d) => d.diff)).toEqual([Number.NaN, Number.NaN, Number.NaN]);
  });
});

/**
 * A real near-tie: neurons 7 and 8 of layer 0's MLP have the same c_fc row, and their biases differ by 2^-40. In
 * float64 (the reference) neuron 8 is larger; in float32 (TF.js) the 2^-40 is lost, the two tie exactly and AbsTopK
 * keeps the lower index, 7. Seven neurons sit far above (bias 10) and the rest at 0, so 7 and 8 compete for the
 * k-th (8th) slot at every position, and their c_proj columns differ, so the logits move by O(1).
 */
function nearTieCheckpoint(): LoadedCheckpoint {
  const config = makeConfig({ nLayer: 1, afrac: 0.25, afracLocations: new Set(['mlp_neuron']), activation: 'gelu', bias: true });
  const ckpt = randomCheckpoint({ config, seed: 3 });
  const { dModel: d, dMlp: m } = config;
  const fc = ckpt.tensors.get('transformer.h.0.mlp.c_fc.weight')!.data;
  const fcBias = ckpt.tensors.get('transformer.h.0.mlp.c_fc.bias')!.data;
  const proj = ckpt.tensors.get('transformer.h.0.mlp.c_proj.weight')!.data;
  fc.fill(0);
  fcBias.fill(0);
  for (let n = 0; n < 7; n++) fcBias[n] = 10;
  for (let i = 0; i < d; i++) fc[7 * d + i] = fc[8 * d + i] = ((i % 5) - 2) * 0.4;
  fcBias[8] = 2 ** -40;
  for (let o = 0; o < d; o++) {
    proj[o * m + 7] = 2;
    proj[o * m + 8] = -2;
  }
  return ckpt;
}

describe.each<NodeBackendName>(['cpu', 'wasm'])('golden comparisons with a constructed AbsTopK near-tie on %s', (backend) => {
  const tokens = testTokens(6, 48, 5);

  it('goldenDiffs (against the float64 reference) reports the tie and passes what it explains', async () => {
    await useBackend(backend);
    const ckpt = nearTieCheckpoint();
    const diffs = await goldenDiffs(ckpt, tokens);
    const ties = Object.keys(diffs).filter((k) => k.startsWith('near-tie'));
    expect(ties).toContain('near-tie at 0.mlp.post_act position 0');
    for (const [k, v] of Object.entries(diffs)) expect(v, k).toBeLessThanOrEqual(1e-4);
  });

  it('goldenFileDiffs (against a golden file) reports it as explained, and the raw logits really moved', async () => {
    await useBackend(backend);
    const ckpt = nearTieCheckpoint();
    const ref = referenceForward(ckpt, tokens);
    const tensors: Parameters<typeof writeSafetensors>[0] = {
      'p0.tokens': { dtype: 'I32', shape: [tokens.length], data: Int32Array.from(tokens) },
      'p0.logits': { dtype: 'F32', shape: [tokens.length, ckpt.config.vocabSize], data: Float32Array.from(ref.logits) },
    };
    for (const s of allSites(ckpt.config)) {
      tensors[`p0.${s}`] = { dtype: 'F32', shape: [tokens.length, siteWidth(ckpt.config, s)], data: Float32Array.from(ref.sites.get(s)!) };
    }
    const dir = mkdtempSync(join(tmpdir(), 'near-tie-'));
    writeFileSync(join(dir, 'golden.safetensors'), writeSafetensors(tensors, { prompts: JSON.stringify(['x']) }));
    const diffs = await goldenFileDiffs(ckpt, join(dir, 'golden.safetensors'));
    const logits = diffs.find((x) => x.label === 'prompt 0 logits')!;
    expect(logits.rawDiff).toBeGreaterThan(0.1);
    expect(logits.explainedBy).toMatch(/^near-tie at 0.mlp.post_act position 0 \(\|x\| gap .*: kept channel 7 where the reference kept 8\)$/);
    const ties = expectGoldenMatch(diffs);
    expect(ties.length).toBeGreaterThan(0);
  });
});
