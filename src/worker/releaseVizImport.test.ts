import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { circuitFileSchema } from '../circuit/circuitSchema';
import { convertRelease, type ConvertProgress } from '../model/checkpoint/release/convertRelease';
import { sortReleaseFiles, type Named } from '../model/checkpoint/release/releaseFiles';
import { useBackend, type NodeBackendName } from '../model/testing/nodeBackends';
import { P, torchZip } from '../model/testing/torchFiles';
import { taskFileSchema } from '../tasks/taskSchema';
import { importReleaseViz, PAGE_COMMAND } from './releaseVizImport';

/**
 * The released circuits of the release-shaped fixture (test-fixtures/openai-small/released/viz/csp_tiny/<task>/...,
 * made by train/openai_fixture_viz.py), imported in TypeScript, against what `python train/openai_import --viz` made
 * of them (test-fixtures/openai-small/converted, kept current by train/tests/test_openai_import.py): the same task
 * files, circuit files, tasks/index.json and card entries, exact in structure, ids, tokens and texts, and within 1e-6
 * in every number. Only what names the converter differs: provenance.command and backend.
 */
const ROOT = resolve(__dirname, '../..');
const CONV = join(ROOT, 'test-fixtures/openai-small/converted');
const REL = 'test-fixtures/openai-small/released';
const TASKS = ['single_double_quote', 'while_return_true_beeg'];
const PATHS = [
  'models/csp_tiny/final_model.pt',
  'models/csp_tiny/beeg_config.json',
  'tinypython/encoder.json',
  'tinypython/vocab.bpe',
  'viz/csp_tiny/mean_baseline_pretrain.pt',
  ...TASKS.map((t) => `viz/csp_tiny/${t}/prune_v4/k_optim/viz_data.pt`),
];
const TOL = 1e-6;

/** The files under their repository paths, so that the recorded paths read as the Python importer's. */
const released = (paths = PATHS): Named<Blob>[] =>
  paths.map((p) => ({ path: `${REL}/${p}`, file: new Blob([readFileSync(join(ROOT, REL, p))]) }));
const json = (b: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(b)) as unknown;
const pyJson = (p: string) => JSON.parse(readFileSync(join(CONV, p), 'utf8')) as unknown;

/** Every difference between two JSON values: keys (and their order), types, strings and lengths exactly, numbers within TOL. */
function jsonDiffs(ours: unknown, theirs: unknown, at: string, skip: ReadonlySet<string>, out: string[] = []): string[] {
  if (skip.has(at)) return out;
  if (typeof theirs === 'number' && typeof ours === 'number') {
    if (!(Math.abs(ours - theirs) <= TOL)) out.push(`${at}: ${ours} vs ${theirs}`);
  } else if (Array.isArray(theirs) && Array.isArray(ours)) {
    if (ours.length !== theirs.length) out.push(`${at}: ${ours.length} items vs ${theirs.length}`);
    else theirs.forEach((t, i) => jsonDiffs(ours[i], t, `${at}[${i}]`, skip, out));
  } else if (theirs !== null && typeof theirs === 'object' && ours !== null && typeof ours === 'object' && !Array.isArray(ours)) {
    const [ko, kt] = [Object.keys(ours), Object.keys(theirs)];
    if (ko.join() !== kt.join()) out.push(`${at}: keys ${ko.join(',')} vs ${kt.join(',')}`);
    else for (const k of kt) jsonDiffs((ours as Record<string, unknown>)[k], (theirs as Record<string, unknown>)[k], `${at}.${k}`, skip, out);
  } else if (ours !== theirs) {
    out.push(`${at}: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`);
  }
  return out;
}

async function convert(paths = PATHS, onProgress?: (e: ConvertProgress) => void) {
  return convertRelease(sortReleaseFiles(released(paths)), { id: 'openai-small', importViz: importReleaseViz, onProgress });
}

describe.each<NodeBackendName>(['cpu', 'wasm'])('released circuits imported in TypeScript (%s)', (backend) => {
  it('give the Python importer\'s task files, circuit files, index and card entries', async () => {
    await useBackend(backend);
    const stages: string[] = [];
    // listed in reverse: the folder's order (tasks/index.json, the card) follows the paths, not the listing
    const out = await convert([...PATHS].reverse(), (e) => stages.push(`${e.stage} ${e.file}`));
    expect(json(out.files.get('tasks/index.json'))).toEqual(pyJson('tasks/index.json'));
    for (const task of TASKS) {
      const taskFile = json(out.files.get(`tasks/${task}.json`));
      const circuitFile = json(out.files.get(`circuits/${task}.json`));
      taskFileSchema.parse(taskFile);
      circuitFileSchema.parse(circuitFile);
      expect(jsonDiffs(taskFile, pyJson(`tasks/${task}.json`), task, new Set([`${task}.provenance.command`]))).toEqual([]);
      expect(jsonDiffs(circuitFile, pyJson(`circuits/${task}.json`), task, new Set([`${task}.backend`]))).toEqual([]);
      expect((taskFile as { provenance: { command: string } }).provenance.command).toBe(PAGE_COMMAND);
      expect((circuitFile as { backend: string }).backend).toBe(`tfjs-${backend} (${PAGE_COMMAND})`);
    }
    const card = json(out.files.get('model-card.json')) as Record<string, Record<string, unknown>>;
    const pyCard = pyJson('model-card.json') as Record<string, Record<string, unknown>>;
    expect(card.source!.viz).toEqual(pyCard.source!.viz);
    expect(jsonDiffs(card.circuits, pyCard.circuits, 'circuits', new Set())).toEqual([]);
    // the viz files are not noted as unconverted, and each import reported its steps
    expect(out.notes.join('\n')).not.toMatch(/viz_data\.pt/);
    for (const task of TASKS) expect(stages.some((s) => s.startsWith(`circuit ${task}: evaluating`))).toBe(true);
  });
});

describe('released circuits named viz_data.pkl (OpenAI\'s README\'s name), read by content', () => {
  it('a torch.save zip and a bare pickle (pickle.dump) under that name give the files the viz_data.pt gives', async () => {
    await useBackend('cpu');
    // single_double_quote: the released zip renamed; while_return_true_beeg: test-fixtures/openai-small/viz-pkl's pickle
    const pkl = {
      single_double_quote: { path: `${REL}/viz/csp_tiny/single_double_quote/prune_v4/k_optim/viz_data.pkl`, from: `${REL}/viz/csp_tiny/single_double_quote/prune_v4/k_optim/viz_data.pt` },
      while_return_true_beeg: { path: 'test-fixtures/openai-small/viz-pkl/csp_tiny/while_return_true_beeg/prune_v4/k_optim/viz_data.pkl', from: null },
    };
    const files: Named<Blob>[] = [
      ...released(PATHS.filter((p) => !p.endsWith('viz_data.pt'))),
      ...Object.values(pkl).map((v) => ({ path: v.path, file: new Blob([readFileSync(join(ROOT, v.from ?? v.path))]) })),
    ];
    const sorted = sortReleaseFiles(files);
    expect(sorted.viz.map((v) => [v.task, v.path])).toEqual(Object.entries(pkl).map(([t, v]) => [t, v.path]));
    const out = await convertRelease(sorted, { id: 'openai-small', importViz: importReleaseViz });
    const sha = (p: string) => createHash('sha256').update(readFileSync(join(ROOT, p))).digest('hex');
    for (const [task, v] of Object.entries(pkl)) {
      const pt = `${REL}/viz/csp_tiny/${task}/prune_v4/k_optim/viz_data.pt`;
      // what names the source file is swapped for the .pt's; everything else must be what the .pt gives
      const asPt = (b: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(b).replaceAll(v.path, pt).replaceAll(sha(v.from ?? v.path), sha(pt))) as unknown;
      expect(jsonDiffs(asPt(out.files.get(`tasks/${task}.json`)), pyJson(`tasks/${task}.json`), task, new Set([`${task}.provenance.command`]))).toEqual([]);
      expect(jsonDiffs(asPt(out.files.get(`circuits/${task}.json`)), pyJson(`circuits/${task}.json`), task, new Set([`${task}.backend`]))).toEqual([]);
    }
    expect(json(out.files.get('tasks/index.json'))).toEqual(pyJson('tasks/index.json'));
  });
});

describe('released circuits: refusals', () => {
  it('stops at Cancel during a circuit\'s import and makes no folder', async () => {
    await useBackend('cpu');
    const ctrl = new AbortController();
    const seen: string[] = [];
    const run = convertRelease(sortReleaseFiles(released()), {
      importViz: importReleaseViz,
      signal: ctrl.signal,
      onProgress: (e) => {
        seen.push(e.stage);
        if (e.stage.startsWith('circuit while_return_true_beeg: evaluating')) ctrl.abort(new DOMException('cancelled', 'AbortError'));
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.some((s) => s.startsWith('circuit single_double_quote: listing the edges'))).toBe(true);
    expect(seen).not.toContain('converted');
  });

  it('a viz file without the mean baseline is refused before anything is read (its circuit needs mean ablation)', async () => {
    await expect(convert(PATHS.filter((p) => !p.includes('mean_baseline')))).rejects.toThrow(
      /single_double_quote\/prune_v4\/k_optim\/viz_data\.pt: a viz_data\.pt needs means for the circuits' mean ablation: drop the release's mean_baseline_pretrain\.pt/,
    );
  });

  it('a viz file whose pickle asks for code stops the conversion with the global named', async () => {
    const evil = torchZip(Uint8Array.from([
      ...P.proto(), ...P.emptyDict, ...P.str('circuit_data'), ...P.emptyDict, ...P.setitem,
      ...P.str('importances'), ...P.global('builtins', 'eval'), ...P.tupleOf(P.str('__import__("os").system("x")')), ...P.reduce, ...P.setitem, ...P.stop,
    ]));
    const files = released().map((f) => (f.path.includes('single_double_quote/') ? { ...f, file: new Blob([evil as Uint8Array<ArrayBuffer>]) } : f));
    await expect(convertRelease(sortReleaseFiles(files), { importViz: importReleaseViz })).rejects.toThrow(
      /^refused: test-fixtures\/openai-small\/released\/viz\/csp_tiny\/single_double_quote\/prune_v4\/k_optim\/viz_data\.pt asks for global builtins\.eval; only tensor rebuilds/,
    );
  });

  it('a task whose targets the page cannot tell is refused by name, with the Python importer\'s way out', async () => {
    await useBackend('cpu');
    const renamed = released().map((f) => (f.path.includes('single_double_quote/') ? { ...f, path: f.path.replace('single_double_quote', 'mystery_task') } : f));
    await expect(convertRelease(sortReleaseFiles(renamed), { importViz: importReleaseViz })).rejects.toThrow(
      /mystery_task\/prune_v4\/k_optim\/viz_data\.pt: cannot tell the target tokens of task "mystery_task": .*--targets 'mystery_task=/,
    );
  });
});
