import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpeTokenizer } from './bpe';

/**
 * For every shipped tokenizer (public/models/<id>/tokenizer/) with a golden.json written by the Python trainer
 * ([{"text", "ids"}] from tiktoken's encode_ordinary), our encoder must give exactly the same ids. Folders whose
 * names start with "_" or "." are exports in progress and are left out.
 */
const modelsDir = resolve(__dirname, '../../public/models');
const folders = existsSync(modelsDir)
  ? readdirSync(modelsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !/^[_.]/.test(d.name) && existsSync(join(modelsDir, d.name, 'tokenizer', 'golden.json')))
      .map((d) => join(modelsDir, d.name, 'tokenizer'))
  : [];

describe('shipped tokenizers match the Python golden ids', () => {
  if (folders.length === 0) {
    it.skip('SKIPPED: no public/models/*/tokenizer/golden.json exists yet', () => {});
    return;
  }
  for (const folder of folders) {
    it(`${folder.slice(modelsDir.length + 1)}: encode(text) equals golden ids`, () => {
      const tok = BpeTokenizer.fromDataGym(
        readFileSync(join(folder, 'encoder.json'), 'utf8'),
        readFileSync(join(folder, 'vocab.bpe'), 'utf8'),
      );
      const golden = JSON.parse(readFileSync(join(folder, 'golden.json'), 'utf8')) as { text: string; ids: number[] }[];
      expect(golden.length).toBeGreaterThan(0);
      for (const g of golden) {
        expect(tok.encode(g.text), JSON.stringify(g.text)).toEqual(g.ids);
        expect(tok.decode(g.ids)).toBe(g.text);
      }
    });
  }
});
