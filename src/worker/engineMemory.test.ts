import { beforeAll, describe, expect, it } from 'vitest';
import { testFolder } from '../model/testing/testFolder';
import { useBackend } from '../model/testing/nodeBackends';
import { testTokens } from '../model/testing/goldenDiffs';
import { promptRunBytes } from '../model/memoryEstimate';
import type { TaskFile } from '../tasks/taskSchema';
import { Engine } from './engine';
import { isPromptLengthError } from './promptLimit';
import type { EngineMemoryOptions, LoadProgress } from './protocol';

// The memory plan through the app's engine: it is reported before the download, a model held sparse answers like the
// dense one (node pruning runs on it, limited to a layer range; edge pruning says why it cannot), and a model that does not fit the budget is refused before its
// weights are read, leaving the loaded model answering.
const config = { dModel: 32, nHead: 2, dHead: 8, nLayer: 2, bigramTable: true };
const PROMPT = 'print("hi';
const signal = new AbortController().signal;

/** A task of random token prompts (labels arbitrary: only that pruning runs is checked here). */
function tokenTask(vocabSize: number): TaskFile {
  const prompt = (i: number) => ({ text: `p${i}`, tokens: testTokens(4 + (i % 3), vocabSize, i + 1), correct: 1 + (i % 2), alternative: 2 - (i % 2) });
  const pairs = Array.from({ length: 12 }, (_, i) => ({ a: prompt(2 * i), b: prompt(2 * i + 1) }));
  return { task: 't', description: '', target_tokens: ['1', '2'], train: pairs.slice(0, 8), test: pairs.slice(8) };
}

function asFiles(files: Record<string, Uint8Array>): File[] {
  return Object.entries(files).map(([path, bytes]) => new File([bytes.slice()], path.split('/').pop()!));
}

async function engineWith(memory: EngineMemoryOptions) {
  const e = new Engine();
  await e.init('cpu', memory);
  return e;
}

beforeAll(() => useBackend('cpu'));

describe('engine memory plan', () => {
  const files = asFiles(testFolder({ config, seed: 7 }).files);

  it('plans before the download and keeps a small model dense', async () => {
    const e = await engineWith({});
    const events: LoadProgress[] = [];
    const s = await e.load({ kind: 'files', files }, (p) => events.push(p), signal);
    const planned = events.findIndex((p) => p.stage === 'planned');
    expect(planned).toBeGreaterThanOrEqual(0);
    expect(events.slice(0, planned).some((p) => p.stage === 'weights')).toBe(false); // before any weights byte
    expect(events[planned]!.memory!.representation).toBe('dense');
    expect(s.memory.representation).toBe('dense');
    expect(s.memory.text).toMatch(/^dense weights: [\d.]+ MiB, peak [\d.]+ MiB while loading, covers prompts up to \d+ tokens \(\+[\d.]+ MiB to run one that long\), of 4\.00 GiB available on cpu$/);
    expect(s.memory.prompt).toMatchObject({ tokens: s.blockSize, limit: 'context', contextTokens: s.blockSize });
    expect(s.edgePruneUnsupported).toBeNull();
  });

  it('?weights=sparse: the same predictions; node pruning runs (over a layer range); edge pruning says why it cannot', async () => {
    const dense = await engineWith({});
    await dense.load({ kind: 'files', files }, () => {}, signal);
    const sparse = await engineWith({ representation: 'sparse' });
    const s = await sparse.load({ kind: 'files', files }, () => {}, signal);
    expect(s.memory.representation).toBe('sparse');
    expect(s.nonzeroWeights).toBe(dense.summary().nonzeroWeights);
    expect(s.totalWeights).toBe(dense.summary().totalWeights);
    const a = await dense.predict(PROMPT, 5, []);
    const b = await sparse.predict(PROMPT, 5, []);
    expect(b.top.map((p) => p.id)).toEqual(a.top.map((p) => p.id));
    b.top.forEach((p, i) => expect(p.logit).toBeCloseTo(a.top[i]!.logit, 4));
    expect(s.edgePruneUnsupported).toMatch(/^pruning by edges needs dense weights \(it masks each candidate weight entry of a dense matrix\), and this model's linear weights are kept sparse/);
    const task = tokenTask(s.vocabSize);
    await expect(sparse.prune(task, { steps: 1, ablation: 'zero', granularity: 'edges' }, () => {}, signal)).rejects.toThrow(s.edgePruneUnsupported!);
    // Node pruning on the last layer: progress through every phase, a circuit of last-layer nodes only.
    const phases = new Set<string>();
    const { circuit } = await sparse.prune(task, { steps: 3, ablation: 'zero', layers: [1, 1] }, (p) => phases.add(p.stage.split(' ·')[0]!), signal);
    expect([...phases]).toEqual(expect.arrayContaining(['optimising masks', 'bisecting k', 'calibrating', 'done']));
    expect(circuit.layers).toEqual([1, 1]);
    expect(circuit.prune_config?.layers).toEqual([1, 1]);
    // Candidates: layer 1's attn/mlp act_in and resid_delta and final_resid (d_model each), q, k, v (n_head * d_head
    // each) and mlp.post_act (d_mlp).
    expect(circuit.total_nodes).toBe(5 * 32 + 3 * 16 + s.dMlp);
    expect(circuit.nodes.every((n) => n.site.startsWith('1.') || n.site === 'final_resid')).toBe(true);
    await expect(sparse.prune(task, { steps: 1, ablation: 'zero', layers: [1, 2] }, () => {}, signal)).rejects.toThrow('layer range 1-2 does not fit this model: layers are 0-1');
    await expect(sparse.prune(task, { steps: 1, ablation: 'zero', layers: [1, 1], granularity: 'edges' }, () => {}, signal)).rejects.toThrow(s.edgePruneUnsupported!);
    await expect(dense.prune(task, { steps: 1, ablation: 'zero', layers: [1, 1], granularity: 'edges' }, () => {}, signal)).rejects.toThrow('a layer range limits pruning by nodes only');
  });

  it('a prompt longer than the plan covers is refused, naming the limit (context or memory); the rest run', async () => {
    const folder = testFolder({ config: { dModel: 32, nHead: 8, dHead: 4, nLayer: 1, blockSize: 256 }, seed: 5 });
    const probe = await engineWith({});
    const roomy = await probe.load({ kind: 'files', files: asFiles(folder.files) }, () => {}, signal);
    expect(roomy.memory.prompt).toMatchObject({ tokens: 256, limit: 'context' });
    // A budget with room for the weights and a 100-token prompt's run, not a 101-token one's.
    const e = await engineWith({ budgetBytes: roomy.memory.steadyBytes + promptRunBytes(folder.ckpt.config, 100) });
    const s = await e.load({ kind: 'files', files: asFiles(folder.files) }, () => {}, signal);
    expect(s.memory.prompt).toMatchObject({ tokens: 100, limit: 'memory', contextTokens: 256 });
    expect(s.memory.text).toContain("covers prompts up to 100 of the context's 256 tokens");
    const detailed = (n: number) => e.runDetailed({
      input: { tokens: testTokens(n, s.vocabSize, 3) }, variants: [{ label: 'full', interventions: [] }], nodes: [], attentionLayers: [0], targets: null, topK: 3,
    }, signal);
    expect((await detailed(100)).variants[0]!.attention[0]).toHaveLength(8 * 100 * 100);
    await expect(detailed(101)).rejects.toThrow(
      'the prompt is 101 tokens long; the memory plan on cpu covers prompts up to 100 tokens (this model\'s context holds 256, but a longer ' +
        'prompt\'s attention and activations would not fit next to the weights; see "weights in memory")',
    );
    await expect(detailed(257)).rejects.toThrow("the prompt is 257 tokens long; this model's context holds 256");
    // Through predict (text): the same refusal, recognisable as a length problem; a short prompt runs.
    let long = 'x = 1\n';
    while ((await probe.predict(long, 1, [])).tokens.length <= 100) long += long;
    await expect(e.predict(long, 1, [])).rejects.toThrow(/^the prompt is [\d,]+ tokens long; (the memory plan on cpu covers prompts up to 100 tokens|this model's context holds 256)/);
    const refusal = await e.predict(long, 1, []).then(() => 'ran', (err: Error) => err.message);
    expect(isPromptLengthError(refusal)).toBe(true);
    expect((await e.predict('x = 1\n', 1, [])).top).toHaveLength(1);
    expect(isPromptLengthError('could not load model: HTTP 404')).toBe(false);
  });

  it('?memoryBudget=: a model over the budget is refused with the numbers; the loaded one keeps answering', async () => {
    const e = await engineWith({ budgetBytes: 1_200_000 });
    const small = testFolder({ config: { dModel: 16, nHead: 2, dHead: 4, nLayer: 1 }, seed: 2 });
    await e.load({ kind: 'files', files: asFiles(small.files) }, () => {}, signal);
    const before = await e.predict(PROMPT, 5, []);
    const big = testFolder({ config: { dModel: 128, nHead: 4, dHead: 32, nLayer: 2, dMlp: 512 }, seed: 3 });
    const events: LoadProgress[] = [];
    await expect(e.load({ kind: 'files', files: asFiles(big.files) }, (p) => events.push(p), signal)).rejects.toThrow(
      /^model is too large to load on the cpu backend \(n_layer=2, d_model=128, d_mlp=512, vocab_size=377\): dense, it needs .* over the [\d.]+ (KiB|MiB) \(\d+ bytes\) available; with its linear weights kept sparse, it needs .*available: 1\.14 MiB \(1200000 bytes\) in all .*held by the model that stays loaded\. What would help: /,
    );
    expect(events.some((p) => p.stage === 'weights')).toBe(false); // refused before reading the weights
    const after = await e.predict(PROMPT, 5, []);
    expect(after.top).toEqual(before.top);
    expect(e.summary().dModel).toBe(16);
  });
});
