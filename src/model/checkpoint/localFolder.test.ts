import { describe, expect, it } from 'vitest';
import { testFolder } from '../testing/testFolder';
import { folderHas, readOptionalJson, readRequired, readRequiredText } from './folderRead';
import { loadModelFolder } from './loadModelFolder';
import { filesSource, mapSource, withPaths } from './sources';

// A local model folder as the folder picker hands it over: File objects whose webkitRelativePath starts with the picked
// folder's name (Node's File has no such property, so it is set as the browser sets it: an own read-only value).
function picked(path: string, body: string | Uint8Array): File {
  const f = new File([typeof body === 'string' ? body : body.slice()], path.split('/').pop()!);
  Object.defineProperty(f, 'webkitRelativePath', { value: path });
  return f;
}

const FOLDER: Record<string, string> = {
  'config.json': '{"n_layer":1}',
  'model.safetensors': 'W',
  'tokenizer/encoder.json': 'E',
  'tokenizer/vocab.bpe': 'V',
  'tasks/index.json': '{"tasks":["quote"]}',
  'tasks/quote.json': '{"task":"quote"}',
  'circuits/quote.json': '{"circuit":"quote"}',
  'circuits/brackets.json': '{"circuit":"brackets"}',
  'snippets.safetensors': 'S',
};
const pick = (prefix: string, files = FOLDER) => Object.entries(files).map(([p, body]) => picked(prefix + p, body));
const text = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);

describe('a picked local folder (filesSource)', () => {
  for (const [what, prefix, root] of [
    ['the model folder itself', 'my-model/', 'my-model/'],
    ['a parent folder holding it (nested prefix)', 'picked/models/my-model/', 'picked/models/my-model/'],
  ] as const) {
    it(`reads required and optional files by folder path: ${what}`, async () => {
      const src = filesSource(pick(prefix));
      expect(src.name).toBe('my-model');
      expect(src.label).toBe(`the folder ${root}`);
      expect(text(await src.read('config.json', { stage: 'config' }))).toBe('{"n_layer":1}');
      expect(await readRequiredText(src, 'tokenizer/vocab.bpe')).toBe('V');
      expect(await readOptionalJson(src, 'tasks/index.json')).toEqual({ tasks: ['quote'] });
      expect(await readOptionalJson(src, 'tasks/quote.json')).toEqual({ task: 'quote' });
      expect(await readOptionalJson(src, 'circuits/quote.json')).toEqual({ circuit: 'quote' });
      expect(text(await src.read('snippets.safetensors', { stage: 'extras' }))).toBe('S');
      // Absent optional files are null, never another file of the same name.
      expect(await src.read('means.safetensors', { stage: 'means' })).toBeNull();
      expect(await src.read('tasks/brackets.json', { stage: 'extras' })).toBeNull();
      expect(await folderHas(src, 'tasks/quote.json')).toBe(true);
      expect(await folderHas(src, 'tasks/brackets.json')).toBe(false);
      await expect(readRequired(src, 'model-card.json')).rejects.toThrow(`model-card.json is missing from the folder ${root}`);
    });
  }

  it('keeps the paths through withPaths, which is what travels to the worker', async () => {
    const pathed = withPaths(pick('outer/m/'));
    expect(pathed.map((p) => p.path)).toContain('outer/m/tasks/quote.json');
    // A File posted to a worker loses webkitRelativePath; the path + file pairs read the same.
    const src = filesSource(pathed.map((p) => ({ path: p.path, file: new Blob([p.file]) })));
    expect(await readOptionalJson(src, 'circuits/quote.json')).toEqual({ circuit: 'quote' });
    expect(src.name).toBe('m');
  });

  it('reads dropped paths (leading "/") and Windows separators', async () => {
    const src = filesSource([
      { path: '/drop/m/config.json', file: new Blob(['{}']) },
      { path: 'drop\\m\\tasks\\quote.json', file: new Blob(['{"t":1}']) },
    ]);
    expect(src.name).toBe('m');
    expect(await readOptionalJson(src, 'tasks/quote.json')).toEqual({ t: 1 });
  });

  it('loose files (no folder) are matched by name, only for the loader\'s own files', async () => {
    const src = filesSource([new File(['{}'], 'config.json'), new File(['E'], 'encoder.json'), new File(['{"c":1}'], 'quote.json')]);
    expect(src.name).toBeNull();
    expect(src.label).toBe('the chosen files');
    expect(text(await src.read('tokenizer/encoder.json', { stage: 'tokenizer' }))).toBe('E');
    expect(await src.read('tasks/quote.json', { stage: 'extras' })).toBeNull();
    expect(await src.read('circuits/quote.json', { stage: 'extras' })).toBeNull();
  });

  it('prefers the shallowest config.json, and refuses two model folders side by side', async () => {
    const withBackup = filesSource([...pick('m/'), picked('m/backup/config.json', '{"old":1}')]);
    expect(text(await withBackup.read('config.json', { stage: 'config' }))).toBe('{"n_layer":1}');
    const two = filesSource([...pick('models/a/'), ...pick('models/b/')]);
    await expect(two.read('config.json', { stage: 'config' })).rejects.toThrow(
      /config\.json: found 2 files named "config\.json" in the chosen files .*pick the files of a single model folder/,
    );
  });

  it('a nested copy of a file does not shadow the folder\'s own', async () => {
    const src = filesSource([...pick('m/'), picked('m/old/tokenizer/vocab.bpe', 'OLD')]);
    expect(await readRequiredText(src, 'tokenizer/vocab.bpe')).toBe('V');
  });

  it('loads a whole model from a picked folder with a nested prefix, and names the missing file when one is', async () => {
    const { files } = testFolder({ config: { dModel: 16, nHead: 2, dHead: 8, nLayer: 1 }, seed: 5 });
    const list = Object.entries(files).map(([p, bytes]) => picked(`models/tiny/${p}`, bytes));
    const loaded = await loadModelFolder(filesSource(list));
    expect(loaded.checkpoint.config.nLayer).toBe(1);
    const noVocab = list.filter((f) => !f.webkitRelativePath.endsWith('vocab.bpe'));
    await expect(loadModelFolder(filesSource(noVocab))).rejects.toThrow('tokenizer/vocab.bpe is missing from the folder models/tiny/');
  });
});

describe('an in-memory folder (mapSource) resolves paths the same way', () => {
  it('answers tasks/ and circuits/ by path', async () => {
    const src = mapSource(FOLDER);
    expect(await readOptionalJson(src, 'circuits/brackets.json')).toEqual({ circuit: 'brackets' });
    expect(await readOptionalJson(src, 'tasks/brackets.json')).toBeNull();
  });
});
