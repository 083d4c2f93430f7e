import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelFolder } from './checkpoint/loadModelFolder';
import { parseSafetensors, toFloat32, toInt32 } from './checkpoint/safetensors';
import { mapSource } from './checkpoint/sources';
import { SparseGpt } from './forward';
import { computeSiteMeans, planMeansWindows, SiteMeansError } from './siteMeans';
import { allSites } from './sites';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { readModelFolder } from './testing/publicModelFolders';
import { tf } from './tfjs';

/**
 * Per-channel means computed by the runtime against train/reference_runs.py `compute_means` on the same model and
 * tokens (test-fixtures/site-means/golden.safetensors, written and kept current by train/tests/test_site_means.py):
 * every site within 1e-5 of its largest mean's magnitude, on cpu and wasm, whatever the batching.
 */
const ROOT = resolve(__dirname, '../..');
const MODEL = resolve(ROOT, 'test-fixtures/openai-small/converted');
const golden = parseSafetensors(readFileSync(resolve(ROOT, 'test-fixtures/site-means/golden.safetensors')), 'golden.safetensors');
const cases = JSON.parse(golden.metadata.cases!) as Record<string, { windows: number; window_tokens: number; batch: number }>;

async function model(): Promise<SparseGpt> {
  const { checkpoint } = await loadModelFolder(mapSource(readModelFolder(MODEL), 'test-fixtures/openai-small/converted/'));
  return SparseGpt.fromCheckpoint(checkpoint);
}

function goldenCase(name: string): { tokens: Int32Array; means: Map<string, Float32Array> } {
  const tokens = toInt32(golden.tensors.get(`${name}/tokens`)!);
  const means = new Map<string, Float32Array>();
  for (const [k, e] of golden.tensors) if (k.startsWith(`${name}/`) && k !== `${name}/tokens`) means.set(k.slice(name.length + 1), toFloat32(e));
  return { tokens, means };
}

/** Largest |ours - golden| of each site over its largest |golden|. */
function relativeErrors(ours: Map<string, Float32Array>, want: Map<string, Float32Array>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [site, g] of want) {
    const o = ours.get(site)!;
    expect(o.length, site).toBe(g.length);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < g.length; i++) {
      scale = Math.max(scale, Math.abs(g[i]!));
      diff = Math.max(diff, Math.abs(o[i]! - g[i]!));
    }
    out.set(site, diff / Math.max(scale, 1e-30));
  }
  return out;
}

describe('the windows compute_means runs (means_from_corpus rules)', () => {
  it('evenly spaced full windows, T capped by block_size and the caller, n by the corpus', () => {
    expect(planMeansWindows(150, 64, { windows: 7, windowTokens: 24 })).toEqual({ windowTokens: 24, windows: 7, stride: 18 });
    expect(planMeansWindows(411, 64, { windows: 16, windowTokens: 256 })).toEqual({ windowTokens: 64, windows: 16, stride: 21 });
    expect(planMeansWindows(70, 64)).toEqual({ windowTokens: 64, windows: 6, stride: 1 });
    expect(planMeansWindows(5000, 1024, { maxWindowTokens: 100 })).toEqual({ windowTokens: 100, windows: 128, stride: 38 });
  });

  it('refuses an empty text and one shorter than a window plus one, saying how long it is', () => {
    expect(() => planMeansWindows(0, 64)).toThrow(new SiteMeansError('the text is empty: give some text (for example Python code) to compute the means over'));
    expect(() => planMeansWindows(64, 64)).toThrow('the text is 64 tokens long, fewer than one window of 64 tokens (plus one): give more text');
    expect(() => planMeansWindows(100, 64, { windows: 0 })).toThrow('windows must be a positive whole number (got 0)');
    expect(() => planMeansWindows(100, 64, { windowTokens: 2.5 })).toThrow('window tokens must be a positive whole number (got 2.5)');
  });
});

describe.each<NodeBackendName>(['cpu', 'wasm'])('computeSiteMeans matches compute_means on %s', (backend) => {
  it.each(Object.keys(cases))('case %s, batched as PyTorch was and one window at a time', async (name) => {
    await useBackend(backend);
    const m = await model();
    try {
      const { tokens, means } = goldenCase(name);
      const c = cases[name]!;
      expect([...means.keys()].sort()).toEqual([...allSites(m.config)].sort());
      m.causalMask(planMeansWindows(tokens.length, m.config.blockSize, { windows: c.windows, windowTokens: c.window_tokens }).windowTokens); // kept by the model
      for (const batchWindows of [c.batch, 1]) {
        const progress: [number, number][] = [];
        const before = tf.memory().numTensors;
        const got = await computeSiteMeans(m, tokens, { windows: c.windows, windowTokens: c.window_tokens, batchWindows, onProgress: (d, t) => progress.push([d, t]) });
        expect(tf.memory().numTensors).toBe(before);
        for (const [site, err] of relativeErrors(got.means, means)) expect(err, `${name} ${site} (batch ${batchWindows})`).toBeLessThan(1e-5);
        const n = got.plan.windows;
        expect(progress[0]).toEqual([0, n]);
        expect(progress.at(-1)).toEqual([n, n]);
        expect(progress.length).toBe(1 + Math.ceil(n / batchWindows));
      }
    } finally {
      m.dispose();
    }
  });

  it('the corpus case gives the fixture model its own means.safetensors (the released mean baseline)', async () => {
    await useBackend(backend);
    const m = await model();
    try {
      const { tokens } = goldenCase('corpus');
      const got = await computeSiteMeans(m, tokens, { windows: 16, windowTokens: 64 });
      for (const [site, err] of relativeErrors(got.means, m.ckpt.means)) expect(err, site).toBeLessThan(1e-5);
    } finally {
      m.dispose();
    }
  });

  it('a cancel between batches stops the job and frees its tensors; a token outside the vocabulary is refused', async () => {
    await useBackend(backend);
    const m = await model();
    try {
      const { tokens } = goldenCase('short');
      const ctrl = new AbortController();
      m.causalMask(24); // kept by the model
      const before = tf.memory().numTensors;
      const run = computeSiteMeans(m, tokens, { windows: 7, windowTokens: 24, batchWindows: 2, onProgress: (d) => { if (d === 2) ctrl.abort(); }, signal: ctrl.signal });
      await expect(run).rejects.toMatchObject({ name: 'AbortError' });
      expect(tf.memory().numTensors).toBe(before);
      const bad = Int32Array.from(tokens);
      bad[3] = m.config.vocabSize;
      await expect(computeSiteMeans(m, bad, { windows: 7, windowTokens: 24 })).rejects.toThrow(`token ${m.config.vocabSize} at position 3 is outside the vocabulary [0, ${m.config.vocabSize})`);
    } finally {
      m.dispose();
    }
  });
});
