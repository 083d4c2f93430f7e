import { describe, expect, it } from 'vitest';
import { jsonFile } from './checkpoint/release/folderFiles';
import { readZipEntries } from './checkpoint/torch/zipEntries';
import { zipFolder } from './checkpoint/zipFolder';
import { zipWithMeans } from './siteMeansFolder';

const text = (b: Uint8Array | null) => new TextDecoder().decode(b!);

describe('zipWithMeans', () => {
  it('adds means.safetensors, sets the card\'s means in place and keeps every other file byte for byte', () => {
    const files = new Map<string, Uint8Array>([
      ['config.json', jsonFile({ n_layer: 1 })],
      ['model.safetensors', Uint8Array.of(1, 2, 3, 4)],
      ['tokenizer/vocab.bpe', new TextEncoder().encode('#version: 0.2\n')],
      ['model-card.json', jsonFile({ id: 'm', means: null, circuits: [] })],
    ]);
    const out = readZipEntries(zipWithMeans(zipFolder(files, 'm'), 'm.zip', Uint8Array.of(9, 9), { source: 'text', windows: 3 }), 'm.zip');
    expect([...out.names].sort()).toEqual(['m/config.json', 'm/means.safetensors', 'm/model-card.json', 'm/model.safetensors', 'm/tokenizer/vocab.bpe']);
    for (const p of ['config.json', 'model.safetensors', 'tokenizer/vocab.bpe']) expect(out.read(`m/${p}`), p).toEqual(files.get(p));
    expect(out.read('m/means.safetensors')).toEqual(Uint8Array.of(9, 9));
    expect(text(out.read('m/model-card.json'))).toBe(text(jsonFile({ id: 'm', means: { source: 'text', windows: 3 }, circuits: [] })));
  });

  it('refuses a zip without a model folder at its top', () => {
    const zip = zipFolder(new Map([['x/config.json', jsonFile({})]]), 'deep');
    expect(() => zipWithMeans(zip, 'deep.zip', Uint8Array.of(), {})).toThrow('deep.zip: no model folder (a directory with config.json) at the top of the zip');
  });
});
