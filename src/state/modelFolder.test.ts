import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { urlSource, type FolderSource } from '../model/checkpoint/sources';
import { MODELS_DIR } from '../model/testing/publicModelFolders';
import { folderReader, localLoad, modelDisplayName } from './modelFolder';
import { clearSnippetsCache, loadSnippets } from './snippets';
import { fetchCircuit, fetchTask, fetchTaskList } from './taskFiles';

// The page reads a model folder's tasks, circuits and snippets through one FolderSource, so the shipped folder picked
// from disk (with a parent folder's prefix, as the folder picker gives it) answers exactly as the same folder over HTTP.
const DIR = join(MODELS_DIR, 'sparse-py-2l');
const have = existsSync(join(DIR, 'config.json')) && existsSync(join(DIR, 'tasks'));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

/** The folder as the picker lists it: Files with webkitRelativePath "picked/sparse-py-2l/...". */
function pickedFolder(): File[] {
  return walk(DIR).map((p) => {
    const f = new File([readFileSync(p)], p.split('/').pop()!);
    Object.defineProperty(f, 'webkitRelativePath', { value: `picked/sparse-py-2l/${relative(DIR, p)}` });
    return f;
  });
}

/** The same folder over HTTP, as a static server answers (404 for anything else, HEAD without a body). */
function served(): FolderSource {
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const path = join(DIR, decodeURIComponent(String(input).replace(/^\/models\/sparse-py-2l\//, '')));
    if (!existsSync(path) || statSync(path).isDirectory()) return new Response('not found', { status: 404 });
    const body = init?.method === 'HEAD' ? null : readFileSync(path);
    return new Response(body, { status: 200, headers: { 'content-type': 'application/octet-stream' } });
  }) as typeof fetch;
  return urlSource('/models/sparse-py-2l/', { fetch: fetchFn });
}

const config = have ? JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) : {};
const shape = { nLayer: config.n_layer, dModel: config.d_model, dMlp: config.d_mlp, nHead: config.n_head, dHead: config.d_head, vocabSize: config.vocab_size };

describe.skipIf(!have)('a shipped model folder picked from disk reads like the same folder over HTTP', () => {
  afterEach(() => clearSnippetsCache());

  it('tasks, circuits and snippets', async () => {
    const { source, label, kind } = localLoad(pickedFolder(), 'picked');
    expect(label).toBe('the picked folder "sparse-py-2l"');
    expect(kind).toBe('picked');
    const local = folderReader(source);
    const remote = served();
    const card = JSON.parse(readFileSync(join(DIR, 'model-card.json'), 'utf8'));

    const tasks = await fetchTaskList(local, card);
    expect(tasks.length).toBeGreaterThan(0);
    expect(tasks).toEqual(await fetchTaskList(remote, card));
    const task = tasks.includes('single_double_quote') ? 'single_double_quote' : tasks[0]!;
    expect(await fetchTask(local, task)).toEqual(await fetchTask(remote, task));
    const circuit = await fetchCircuit(local, task);
    expect(circuit).not.toBeNull();
    expect(circuit).toEqual(await fetchCircuit(remote, task));
    expect(await fetchCircuit(local, 'no_such_task')).toBeNull();

    const snippets = await loadSnippets(local, shape);
    expect(snippets).not.toBeNull();
    expect(snippets!.file.forNode('0.mlp.post_act', 0)).toEqual((await loadSnippets(remote, shape))!.file.forNode('0.mlp.post_act', 0));
  });

  it('a folder without snippets or circuits reads them as absent', async () => {
    const files = pickedFolder().filter((f) => !/snippets|circuits\//.test(f.webkitRelativePath));
    const local = filesFolder(files);
    expect(await loadSnippets(local, shape)).toBeNull();
    expect(await fetchCircuit(local, 'single_double_quote')).toBeNull();
  });
});

/** The reader the page keeps for files it was given (localLoad, then folderReader, as openLocalModel does). */
function filesFolder(files: File[]): FolderSource {
  return folderReader(localLoad(files, 'dropped').source);
}

describe('naming a local model', () => {
  it('uses the card\'s name or id, else the folder name', () => {
    expect(modelDisplayName({ name: 'Mine', id: 'x' }, 'folder', 'id')).toBe('Mine');
    expect(modelDisplayName({ id: 'x' }, 'folder', 'id')).toBe('x');
    expect(modelDisplayName({ name: ' ' }, 'folder', 'id')).toBe('folder');
    expect(modelDisplayName(undefined, null, 'id')).toBe('id');
  });

  it('says "picked" or "dropped", folder or files', () => {
    const f = (path: string) => ({ path, file: new Blob(['{}']) });
    expect(localLoad([f('/m/config.json'), f('/m/model.safetensors')], 'dropped').label).toBe('the dropped folder "m"');
    expect(localLoad([f('config.json'), f('model.safetensors')], 'picked').label).toBe('2 picked files');
    expect(localLoad([f('config.json')], 'dropped').label).toBe('1 dropped file');
  });
});
