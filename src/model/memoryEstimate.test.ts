import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsHead } from './checkpoint/header';
import { loadModelFolder } from './checkpoint/loadModelFolder';
import type { SafetensorsHeader } from './checkpoint/safetensors';
import { filesSource, mapSource, urlSource } from './checkpoint/sources';
import { testFolder } from './testing/testFolder';
import { estimateDenseBytes, expectedTensors } from './checkpoint/validate';
import { parseConfig, type ModelConfig } from './config';
import { SparseGpt } from './forward';
import { ATTENTION_QUERY_CHUNK } from './attentionChunk';
import {
  defaultMemoryBudget, describePlan, estimateRepresentation, fixedMemoryBudget, parseByteSize, planMemory, promptCoverage, promptRunBytes,
  recordedPatternBytes, workingBytes, type RepresentationEstimate, type WeightRepresentation,
} from './memoryEstimate';
import { useBackend } from './testing/nodeBackends';
import { tf } from './tfjs';
import { isLinearWeight, type LoadedCheckpoint } from './weights';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** Bytes of weights the loaded checkpoint actually holds on the host (plus its site means). */
function weightBytes(ckpt: LoadedCheckpoint): number {
  let n = 0;
  for (const t of ckpt.tensors.values()) n += t.data.byteLength;
  for (const m of ckpt.sparse?.values() ?? []) n += m.bytes;
  return n;
}
const hostBytes = (ckpt: LoadedCheckpoint) => weightBytes(ckpt) + [...ckpt.means.values()].reduce((n, m) => n + m.byteLength, 0);

describe('memory estimate vs the bytes actually allocated (small models, cpu backend)', () => {
  beforeAll(() => useBackend('cpu'));
  const configs: [string, Parameters<typeof testFolder>[0]][] = [
    ['compact file', { config: { dModel: 32, nHead: 2, dHead: 8, bigramTable: true, sink: true } }],
    ['tied unembedding, no biases', { config: { tiedUnembed: true, bias: false } }],
    ['layernorm with bias', { config: { rmsNorm: false, lnBias: true } }],
  ];
  for (const representation of ['dense', 'sparse'] as WeightRepresentation[]) {
    it.each(configs)(`${representation}: %s`, async (_label, opts) => {
      const { files } = testFolder(opts);
      const loaded = await loadModelFolder(mapSource(files), { representation });
      const e = loaded.memory.estimate;
      expect(loaded.memory.representation).toBe(representation);
      expect(e.exact).toBe(true);
      expect(e.downloadBytes).toBe(files['model.safetensors']!.length);
      expect(loaded.checkpoint.means.size).toBeGreaterThan(0);
      expect(e.hostBytes).toBe(hostBytes(loaded.checkpoint));
      expect(e.weightBytes).toBe(weightBytes(loaded.checkpoint));
      expect((loaded.checkpoint.sparse?.size ?? 0) > 0).toBe(representation === 'sparse');
      const before = tf.memory().numBytes;
      const model = new SparseGpt(loaded.checkpoint);
      try {
        const means = [...loaded.checkpoint.means.values()].reduce((n, m) => n + m.byteLength, 0);
        expect(e.deviceBytes).toBe(model.weightBytes + means);
        expect(e.deviceBytes).toBe(tf.memory().numBytes - before);
        expect(e.steadyBytes).toBe(e.hostBytes + e.deviceBytes);
        expect(e.peakBytes).toBeGreaterThanOrEqual(e.steadyBytes);
      } finally {
        model.dispose();
      }
    });
  }

  it('sparse loading keeps exactly the weights of the dense loading', async () => {
    const { files } = testFolder({ config: { bigramTable: true } });
    const dense = await loadModelFolder(mapSource(files), { representation: 'dense' });
    const sparse = await loadModelFolder(mapSource(files), { representation: 'sparse' });
    for (const [key, t] of dense.checkpoint.tensors) {
      if (isLinearWeight(key)) {
        expect(sparse.checkpoint.tensors.has(key), key).toBe(false);
        expect([...sparse.checkpoint.sparse!.get(key)!.toDense()], key).toEqual([...t.data]);
      } else {
        expect(sparse.checkpoint.tensors.get(key)!.data, key).toEqual(t.data);
      }
    }
  });

  it('a dense-stored file kept sparse: the estimate is an upper bound (nonzeros unknown before the download)', async () => {
    const { files } = testFolder({ sparse: false });
    const loaded = await loadModelFolder(mapSource(files), { representation: 'sparse' });
    expect(loaded.memory.estimate.hostBytes).toBeGreaterThan(hostBytes(loaded.checkpoint));
  });

  it('from config.json alone (no header), the dense weights are estimateDenseBytes', () => {
    for (const tied of [false, true]) {
      const c = testFolder({ config: { tiedUnembed: tied } }).ckpt.config;
      const e = estimateRepresentation(c, null, null, 'dense');
      expect(e.weightBytes).toBe(estimateDenseBytes(c));
      expect(e.exact).toBe(false);
    }
  });

  it('working memory grows with T, not T^2: attention runs in chunks of queries', () => {
    const c = bridges2Config();
    expect(workingBytes(c, 64)).toBeGreaterThan(50e6);
    expect(workingBytes(c, 64)).toBeLessThan(80e6); // tf.profile measured 65 MB for a 64-token forward
    expect(workingBytes(c, 256)).toBeGreaterThan(3.5 * workingBytes(c, 64));
    expect(workingBytes(c, 256)).toBeLessThan(4.5 * workingBytes(c, 64));
  });
});

/** The csp_bridges2 configuration (scripts/make-bridges2-model.py). */
function bridges2Config(): ModelConfig {
  return parseConfig({
    block_size: 1024, vocab_size: 2048, n_layer: 4, n_head: 128, d_head: 16, d_model: 2048, d_mlp: 8192, afrac: 0.125,
    afrac_loctypes: 'attn_in,attn_out,mlp_in,mlp_out,mlp_neuron,attn_q,attn_k,attn_v', enable_bigram_table: true,
  });
}

/** A safetensors header (no data) of a model stored like the generator writes it: every 2-D tensor except the bigram
 *  table compact at `density` (or every tensor dense). */
function header(c: ModelConfig, opts: { density: number; compact: boolean }): SafetensorsHeader {
  const infos: SafetensorsHeader['infos'] = [];
  const metadata: Record<string, string> = { format: 'sparse-circuit-explorer/1' };
  let at = 0;
  const put = (name: string, dtype: 'F32' | 'I32', shape: number[]) => {
    const numel = shape.reduce((a, b) => a * b, 1);
    infos.push({ name, dtype, shape, numel, begin: at, end: at + 4 * numel });
    at += 4 * numel;
  };
  for (const t of expectedTensors(c)) {
    if (opts.compact && t.shape.length === 2 && t.name !== 'bigram_table') {
      const nnz = Math.round(t.shape[0]! * t.shape[1]! * opts.density);
      put(`${t.name}.__indices`, 'I32', [nnz]);
      put(`${t.name}.__values`, 'F32', [nnz]);
      metadata[`sparse:${t.name}`] = JSON.stringify(t.shape);
    } else {
      put(t.name, 'F32', t.shape);
    }
  }
  return { dataStart: 8 + 4096, metadata, infos };
}

describe('planMemory for a csp_bridges2-sized model (header only)', () => {
  const c = bridges2Config();
  const h = header(c, { density: 1 / 128, compact: true });
  const plan = (backend: string, o: Partial<Parameters<typeof planMemory>[3]> = {}) =>
    planMemory(c, h, null, { budget: defaultMemoryBudget(backend), maxWeightBytes: 2 * GiB, ...o });

  it('reads the header with the checkpoint reader: a malformed compact pair is refused before the download', () => {
    const bad = { ...h, metadata: { ...h.metadata, 'sparse:transformer.h.0.mlp.c_fc.weight': 'two by three' } };
    expect(() => planMemory(c, bad, null, { budget: defaultMemoryBudget('wasm'), maxWeightBytes: 2 * GiB }))
      .toThrow('model.safetensors: __metadata__["sparse:transformer.h.0.mlp.c_fc.weight"] must be a JSON array of dimension sizes');
  });

  it('on webgpu, the sparse form also holds the kernel\'s GPU copy of each linear weight by output row, no per-call scratch', () => {
    const wasm = estimateRepresentation(c, h, null, 'sparse', 'wasm');
    const gpu = estimateRepresentation(c, h, null, 'sparse', 'webgpu');
    const copies = expectedTensors(c)
      .filter((t) => isLinearWeight(t.name) && !(c.tiedUnembed && t.name === 'lm_head.weight'))
      .reduce((n, t) => n + (t.shape[0]! + 1) * 4 + Math.round((t.shape[0]! * t.shape[1]!) / 128) * 8, 0);
    expect(copies).toBeGreaterThan(0);
    expect(gpu.deviceBytes - wasm.deviceBytes).toBe(copies);
    expect(gpu.hostBytes).toBe(wasm.hostBytes);
    expect(gpu.scratchBytes).toBe(0);
  });

  it('estimates ~864 MB of dense weights and a few dozen MB sparse', () => {
    const p = plan('wasm');
    expect(p.dense.weightBytes).toBe(estimateDenseBytes(c));
    expect(p.dense.weightBytes).toBeGreaterThan(860e6);
    const means = 4 * (4 * (2048 * 7 + 8192) + 2048);
    expect(p.dense.steadyBytes).toBe(2 * (p.dense.weightBytes + means));
    // 1/128 of ~212M linear-weight entries at 8 bytes, plus wte, wpe, the bigram table and the small tensors dense.
    expect(p.sparse!.weightBytes).toBeGreaterThan(50e6);
    expect(p.sparse!.weightBytes).toBeLessThan(60e6);
    expect(p.sparse!.deviceBytes).toBeLessThan(45e6);
  });

  it('keeps it sparse on wasm and cpu (smaller and measured faster), dense on GPU backends when that fits', () => {
    expect(plan('wasm').representation).toBe('sparse');
    expect(plan('wasm').reason).toMatch(/instead of 1\.61 GiB .* dense, and faster on wasm/);
    expect(plan('cpu').representation).toBe('sparse');
    expect(plan('webgpu').representation).toBe('dense');
    expect(plan('webgl').representation).toBe('dense');
    // A 2 GiB machine (deviceMemory 4): dense needs 1.7 GB of it plus working memory, over the 2 GiB budget.
    const small = planMemory(c, h, null, { budget: defaultMemoryBudget('webgpu', { deviceMemoryGiB: 2 }), maxWeightBytes: 2 * GiB });
    expect(small.representation).toBe('sparse');
    expect(small.reason).toMatch(/^linear weights kept sparse: dense, it needs 1\.\d\d GiB .* at the peak of loading, over the 1\.00 GiB/);
  });

  it('refuses what fits in neither form, with what it needs, what is available and what would help', () => {
    expect(() => plan('wasm', { budget: fixedMemoryBudget('wasm', 64 * MiB, 'test budget'), heldBytes: 8 * MiB })).toThrow(
      new RegExp(
        '^model is too large to load on the wasm backend \\(n_layer=4, d_model=2048, d_mlp=8192, vocab_size=2048, with a bigram table\\): ' +
          'dense, it needs 1\\.67 GiB \\(\\d+ bytes\\) at the peak of loading, over the 56\\.00 MiB \\(58720256 bytes\\) available; ' +
          'with its linear weights kept sparse, it needs \\d+\\.\\d\\d MiB \\(\\d+ bytes\\) at the peak of loading, over the 56\\.00 MiB \\(58720256 bytes\\) available; ' +
          'available: 64\\.00 MiB \\(67108864 bytes\\) in all and 64\\.00 MiB \\(67108864 bytes\\) of wasm backend memory \\(test budget\\), ' +
          'of which 8\\.00 MiB \\(8388608 bytes\\) is held by the model that stays loaded\\. ' +
          'What would help: a machine or browser with more memory, or a smaller model\\.$',
      ),
    );
  });

  it('suggests a fresh tab only when the model would fit without the one that is loaded', () => {
    const budget = fixedMemoryBudget('wasm', 300 * MiB);
    expect(() => plan('wasm', { budget, heldBytes: 250 * MiB })).toThrow(/What would help: loading it in a fresh tab \(the current model holds memory until the new one is ready\); a machine/);
  });

  it('fits sparse but not dense: loads sparse and says why', () => {
    const p = plan('wasm', { budget: fixedMemoryBudget('wasm', 512 * MiB) });
    expect(p.representation).toBe('sparse');
    expect(p.availableBytes).toBe(512 * MiB);
    expect(() => plan('wasm', { budget: fixedMemoryBudget('wasm', 512 * MiB), representation: 'dense' })).toThrow(/^model is too large to load on the wasm backend .*What would help: letting the loader choose the representation/);
  });

  it('a file that stores the matrices densely cannot be kept sparse in a small budget: the advice says to store them compactly', () => {
    const dense = header(c, { density: 1, compact: false });
    expect(() => planMemory(c, dense, null, { budget: fixedMemoryBudget('wasm', 512 * MiB), maxWeightBytes: 2 * GiB }))
      .toThrow(/What would help: storing the weight matrices compactly \(K\.__indices \/ K\.__values, as train\/export\.py writes them\)/);
  });

  it('the weight guard (maxDenseBytes) keeps its wording', () => {
    expect(() => plan('wasm', { maxWeightBytes: 10 * MiB })).toThrow(
      /^model is too large to load: its dense float32 weights need 824\.36 MiB \(\d+ bytes\), over the 10\.00 MiB \(10485760 bytes\) budget \(n_layer=4, d_model=2048, d_mlp=8192, vocab_size=2048, with a bigram table\); with its linear weights kept sparse, its weights take 52\.\d\d MiB .*What would help: a machine or browser with more memory, or a smaller model\.$/,
    );
  });
});

describe('budgets', () => {
  it('follow navigator.deviceMemory and the wasm heap cap', () => {
    expect(defaultMemoryBudget('wasm', { deviceMemoryGiB: 8 })).toMatchObject({ bytes: 4 * GiB, deviceBytes: 3.5 * GiB });
    expect(defaultMemoryBudget('wasm', { deviceMemoryGiB: 2 })).toMatchObject({ bytes: GiB, deviceBytes: GiB });
    expect(defaultMemoryBudget('webgl').deviceBytes).toBe(GiB);
    expect(defaultMemoryBudget('cpu', {}).detail).toMatch(/unknown/);
  });

  it('parseByteSize', () => {
    expect(parseByteSize('64MiB')).toBe(64 * MiB);
    expect(parseByteSize('1.5 GB')).toBe(1.5e9);
    expect(parseByteSize('2e9')).toBe(2e9);
    expect(parseByteSize('12')).toBe(12);
    for (const bad of [null, '', 'lots', '-5MB', '0']) expect(parseByteSize(bad)).toBeNull();
  });
});

describe('reading the weights header before the download', () => {
  const { files } = testFolder({ seed: 2 });
  const bytes = files['model.safetensors']!;
  const len = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));

  it('from in-memory and picked files', async () => {
    for (const src of [mapSource(files), filesSource([new File([bytes as BlobPart], 'model.safetensors')])]) {
      const head = await readSafetensorsHead(src, 'model.safetensors');
      expect(head!.fileBytes).toBe(bytes.length);
      expect(head!.header.dataStart).toBe(len);
      expect(head!.header.infos.length).toBeGreaterThan(10);
    }
  });

  it('over HTTP with a Range request, or from the start of a full answer when the server ignores Range', async () => {
    for (const honoursRange of [true, false]) {
      const requests: (string | null)[] = [];
      const fetch = (async (_input: RequestInfo | URL, init?: RequestInit) => {
        const range = new Headers(init?.headers).get('range');
        requests.push(range);
        const m = /^bytes=0-(\d+)$/.exec(range ?? '');
        if (honoursRange && m) {
          const part = bytes.slice(0, Number(m[1]) + 1);
          return new Response(part as BlobPart, { status: 206, headers: { 'content-range': `bytes 0-${part.length - 1}/${bytes.length}` } });
        }
        return new Response(new Blob([bytes as BlobPart]).stream(), { headers: { 'content-length': String(bytes.length) } });
      }) as typeof globalThis.fetch;
      const head = await readSafetensorsHead(urlSource('http://x/m/', { fetch }), 'model.safetensors');
      expect(head!.fileBytes).toBe(bytes.length);
      expect(head!.header.dataStart).toBe(len);
      expect(requests).toEqual(['bytes=0-65535']);
    }
  });

  it('a missing file or a source without heads gives null; a corrupt header throws the parser\'s error', async () => {
    expect(await readSafetensorsHead(mapSource({}), 'model.safetensors')).toBeNull();
    expect(await readSafetensorsHead({ label: 'x', read: async () => null }, 'model.safetensors')).toBeNull();
    const corrupt = bytes.slice();
    corrupt[8] = '['.charCodeAt(0);
    await expect(readSafetensorsHead(mapSource({ 'model.safetensors': corrupt }), 'model.safetensors')).rejects.toThrow(/header is corrupt/);
  });
});

describe('working memory with attention in chunks, and the prompt length a plan covers', () => {
  // n_head 2, d_head 8 (Q = 16), d_model 32, d_mlp 64, vocab 100: per position 28*16 + 12*64 + 24*32 + 3*100 = 2284 floats.
  const c = parseConfig({ block_size: 256, vocab_size: 100, n_layer: 2, n_head: 2, d_head: 8, d_model: 32, d_mlp: 64 });

  it('counts one chunk of attention scores, the joined outputs and the mask: exact bytes', () => {
    expect(ATTENTION_QUERY_CHUNK).toBe(64);
    // 40 tokens, one chunk: 4 * (40*2284 + 6*2*40*40 scores + 40*40 mask)
    expect(workingBytes(c, 40)).toBe(4 * (91_360 + 19_200 + 1_600));
    // 100 tokens, two chunks: 4 * (100*2284 + 6*2*64*100 scores of one chunk + 2*100*16 outputs and join + 100*100 mask)
    expect(workingBytes(c, 100)).toBe(4 * (228_400 + 76_800 + 3_200 + 10_000));
    // A recorded pattern [2, T, T]: once in one chunk, and its pieces until joined past one chunk.
    expect(recordedPatternBytes(c, 40)).toBe(4 * 2 * 40 * 40);
    expect(recordedPatternBytes(c, 100)).toBe(2 * 4 * 2 * 100 * 100);
    expect(promptRunBytes(c, 100)).toBe(workingBytes(c, 100) + recordedPatternBytes(c, 100));
  });

  it('grows linearly in T past one chunk, apart from the [T, T] mask (the csp_bridges2 shape)', () => {
    const b = bridges2Config();
    const withoutMask = (T: number) => workingBytes(b, T) - 4 * T * T;
    expect(withoutMask(1024)).toBe(2 * withoutMask(512));
    expect(withoutMask(512)).toBe(2 * withoutMask(256));
    // tf.profile on this shape (sparse weights, wasm in Node) counted 135 MB at 256 tokens and 541 MB at 1,024; the
    // scores in one piece would take 6*128*1024*1024*4 = 3.2 GB more at 1,024.
    expect(workingBytes(b, 256)).toBeGreaterThan(135e6);
    expect(workingBytes(b, 1024)).toBeGreaterThan(541e6);
    expect(workingBytes(b, 1024)).toBeLessThan(1.2e9);
  });

  const estimate = { steadyBytes: 1_000_000, deviceBytes: 400_000, scratchBytes: 0 } as RepresentationEstimate;

  it('promptCoverage: the longest prompt whose run fits next to the weights, in the total and the backend budget', () => {
    const roomy = promptCoverage(c, estimate, 1e12, 1e12);
    expect(roomy).toEqual({ tokens: 256, limit: 'context', contextTokens: 256, bytes: promptRunBytes(c, 256) });
    const exactly150 = 1_000_000 + promptRunBytes(c, 150);
    expect(promptCoverage(c, estimate, exactly150, 1e12)).toEqual({ tokens: 150, limit: 'memory', contextTokens: 256, bytes: promptRunBytes(c, 150) });
    expect(promptCoverage(c, estimate, exactly150 - 1, 1e12).tokens).toBe(149);
    // The backend budget counts the backend's share of the weights only.
    expect(promptCoverage(c, estimate, 1e12, 400_000 + promptRunBytes(c, 90)).tokens).toBe(90);
    expect(promptCoverage(c, { ...estimate, scratchBytes: promptRunBytes(c, 90) }, 1e12, 400_000 + 2 * promptRunBytes(c, 90)).tokens).toBe(90);
    expect(promptCoverage(c, estimate, 1_000_000, 1e12).tokens).toBe(0);
  });

  it('a csp_bridges2-sized model covers its whole context on wasm; dense on webgpu, memory sets a shorter limit, in words', () => {
    const b = bridges2Config();
    const h = header(b, { density: 1 / 128, compact: true });
    const wasm = planMemory(b, h, null, { budget: defaultMemoryBudget('wasm'), maxWeightBytes: 2 * GiB });
    expect(wasm.prompt).toMatchObject({ tokens: 1024, limit: 'context', contextTokens: 1024 });
    expect(describePlan(wasm)).toMatch(/, covers prompts up to 1,024 tokens \(\+[\d.]+ GiB to run one that long\), of 4\.00 GiB available on wasm$/);
    const gpu = planMemory(b, h, null, { budget: defaultMemoryBudget('webgpu'), maxWeightBytes: 2 * GiB });
    expect(gpu.representation).toBe('dense');
    expect(gpu.prompt.limit).toBe('memory');
    expect(gpu.prompt.tokens).toBeGreaterThan(64);
    expect(gpu.prompt.tokens).toBeLessThan(1024);
    expect(gpu.estimate.deviceBytes + gpu.prompt.bytes).toBeLessThanOrEqual(gpu.budget.deviceBytes);
    expect(gpu.estimate.deviceBytes + promptRunBytes(b, gpu.prompt.tokens + 1)).toBeGreaterThan(gpu.budget.deviceBytes);
    expect(describePlan(gpu)).toContain(`covers prompts up to ${gpu.prompt.tokens.toLocaleString('en-US')} of the context's 1,024 tokens`);
  });
});
