import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config';
import { byteMutations, cleanlyAsync, fuzzParams, jsonMutations, textMutations } from '../testing/fuzz';
import { testFolder } from '../testing/testFolder';
import { CheckpointError } from './errors';
import { loadModelFolder } from './loadModelFolder';
import { mapSource } from './sources';

/**
 * Property: a model folder whose config.json, model.safetensors or means.safetensors is corrupted loads (and then
 * holds every tensor its config needs, at the right shape) or fails with a CheckpointError or ConfigError that names
 * the file; the loader never lets an engine error out. Fewer runs than the single-parser fuzzers: each is a load.
 */
const { files } = testFolder({ sparse: true, config: { nLayer: 1 } });
const OK = [CheckpointError, ConfigError];
const configText = new TextDecoder().decode(files['config.json']!);

async function load(edit: Record<string, Uint8Array | string>) {
  const out = await cleanlyAsync(() => loadModelFolder(mapSource({ ...files, ...edit }), { maxDenseBytes: 8 << 20 }), OK, /config\.json|model\.safetensors|means\.safetensors|tokenizer|too large to load/);
  if (!out) return;
  const c = out.checkpoint.config;
  const wte = out.checkpoint.tensors.get('transformer.wte.weight')!;
  expect(wte.shape).toEqual([c.vocabSize, c.dModel]);
  for (const [k, t] of out.checkpoint.tensors) expect(t.data.length, k).toBe(t.shape.reduce((a, b) => a * b, 1));
}

describe('loadModelFolder on corrupted folders, fuzzed', () => {
  it('config.json: text and structural mutations', async () => {
    const edits = fc.oneof(textMutations(configText), jsonMutations(JSON.parse(configText)).map((v) => JSON.stringify(v) ?? ''));
    await fc.assert(fc.asyncProperty(edits, (text) => load({ 'config.json': text })), fuzzParams(80));
  });

  it('model.safetensors, means.safetensors and the tokenizer files: byte mutations and truncations', async () => {
    const file = fc.constantFrom('model.safetensors', 'means.safetensors', 'tokenizer/encoder.json', 'tokenizer/vocab.bpe');
    const edit = file.chain((name) => byteMutations(files[name]!, name.endsWith('.safetensors') ? 600 : files[name]!.length).map((bytes) => ({ [name]: bytes })));
    await fc.assert(fc.asyncProperty(edit, (e) => load(e)), fuzzParams(160));
  });
});
