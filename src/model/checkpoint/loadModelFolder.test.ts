import { describe, expect, it } from 'vitest';
import { checkpointToFolderFiles } from '../testing/safetensorsWriter';
import { loadModelFolder } from './loadModelFolder';
import { NO_MEANS_WARNING } from './means';
import { filesSource, mapSource, urlSource, type LoadProgressEvent } from './sources';
import { testFolder } from '../testing/testFolder';

describe('loadModelFolder', () => {
  for (const sparse of [true, false]) {
    it(`loads a ${sparse ? 'compact sparse' : 'dense'} folder exactly, with means, tokenizer and card`, async () => {
      const { ckpt, files } = testFolder({ sparse, config: { rmsNorm: false, lnBias: true, sink: true, bigramTable: sparse } });
      const events: LoadProgressEvent[] = [];
      const out = await loadModelFolder(
        mapSource({ ...files, 'model-card.json': '{"name":"tiny","loss":1.5}' }),
        { onProgress: (e) => events.push(e) },
      );
      expect(out.warnings).toEqual([]);
      expect(out.card).toEqual({ name: 'tiny', loss: 1.5 });
      expect(out.checkpoint.config).toEqual(ckpt.config);
      expect([...out.checkpoint.tensors.keys()].sort()).toEqual([...ckpt.tensors.keys()].sort());
      for (const [k, v] of ckpt.tensors) {
        expect(out.checkpoint.tensors.get(k)!.shape, k).toEqual(v.shape);
        expect(out.checkpoint.tensors.get(k)!.data, k).toEqual(v.data);
      }
      expect([...out.checkpoint.means.keys()].sort()).toEqual([...ckpt.means.keys()].sort());
      for (const [k, v] of ckpt.means) expect(out.checkpoint.means.get(k)).toEqual(v);
      expect(out.tokenizer.decode(out.tokenizer.encode('def f(x):\n    return x'))).toBe('def f(x):\n    return x');
      const stages = [...new Set(events.map((e) => e.stage))];
      expect(stages).toEqual(['config', 'weights', 'validate', 'means', 'tokenizer']);
      expect(events.find((e) => e.stage === 'weights')!.file).toBe('model.safetensors');
    });
  }

  it('loads a tied-unembedding model without lm_head.weight', async () => {
    const { files } = testFolder({ config: { tiedUnembed: true, bias: false } });
    const out = await loadModelFolder(mapSource(files));
    expect(out.checkpoint.tensors.has('lm_head.weight')).toBe(false);
    expect(out.checkpoint.config.tiedUnembed).toBe(true);
  });

  it('loads from picked File objects with folder paths', async () => {
    const { files } = testFolder({ seed: 3 });
    const picked = Object.entries(files).map(([path, bytes]) => ({ path: `picked/${path}`, file: new Blob([bytes as BlobPart]) }));
    const out = await loadModelFolder(filesSource(picked));
    expect(out.checkpoint.tensors.size).toBeGreaterThan(10);
  });

  it('loads over HTTP with streamed progress', async () => {
    const { ckpt, files } = testFolder({ seed: 5 });
    const fetch = (async (input: RequestInfo | URL) => {
      const path = String(input).replace('http://localhost/models/tiny/', '');
      const bytes = files[path];
      if (!bytes) return new Response('no', { status: 404 });
      return new Response(new Blob([bytes as BlobPart]).stream(), { headers: { 'content-length': String(bytes.length) } });
    }) as typeof globalThis.fetch;
    const events: LoadProgressEvent[] = [];
    const out = await loadModelFolder(urlSource('http://localhost/models/tiny/', { fetch }), { onProgress: (e) => events.push(e) });
    expect(out.checkpoint.tensors.get('lm_head.weight')!.data).toEqual(ckpt.tensors.get('lm_head.weight')!.data);
    const last = events.filter((e) => e.file === 'model.safetensors' && e.stage === 'weights').at(-1)!;
    expect(last).toEqual({
      stage: 'weights', file: 'model.safetensors', loadedBytes: files['model.safetensors']!.length, totalBytes: files['model.safetensors']!.length,
    });
    expect(events.some((e) => e.file === 'tokenizer/vocab.bpe' && e.stage === 'tokenizer')).toBe(true);
  });

  it('loads without means (and says mean ablation is unavailable)', async () => {
    const { files } = testFolder();
    delete files['means.safetensors'];
    const out = await loadModelFolder(mapSource(files));
    expect(out.checkpoint.means.size).toBe(0);
    expect(out.warnings).toEqual([NO_MEANS_WARNING]);
  });

  it('refuses missing files, a tokenizer too big for the model, and honours abort', async () => {
    const { ckpt, files } = testFolder();
    const { ['config.json']: _c, ...noConfig } = files;
    await expect(loadModelFolder(mapSource(noConfig))).rejects.toThrow('config.json is missing from the in-memory folder');
    const { ['tokenizer/vocab.bpe']: _v, ...noVocab } = files;
    await expect(loadModelFolder(mapSource(noVocab))).rejects.toThrow('tokenizer/vocab.bpe is missing from the in-memory folder');
    const small = { ...ckpt, config: { ...ckpt.config, vocabSize: 300 }, tensors: new Map(ckpt.tensors) };
    small.tensors.set('transformer.wte.weight', { shape: [300, 16], data: new Float32Array(300 * 16) });
    small.tensors.set('lm_head.weight', { shape: [300, 16], data: new Float32Array(300 * 16) });
    small.tensors.set('final_logits_bias', { shape: [300], data: new Float32Array(300) });
    const smallFiles = { ...files, ...checkpointToFolderFiles(small, { sparse: true }) };
    await expect(loadModelFolder(mapSource(smallFiles))).rejects.toThrow(
      "tokenizer/encoder.json: the tokenizer has 377 token ids but the model's vocab_size is 300",
    );
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(loadModelFolder(mapSource(files), { signal: ctrl.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const badCard = await loadModelFolder(mapSource({ ...files, 'model-card.json': '{' }));
    expect(badCard.card).toBeUndefined();
    expect(badCard.warnings[0]).toContain('model-card.json is not valid JSON and was ignored');
    void [_c, _v];
  });
});
