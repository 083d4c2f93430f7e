import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectGoldenMatch } from '../../testing/compare';
import { goldenFileDiffs } from '../../testing/goldenFile';
import { useBackend } from '../../testing/nodeBackends';
import { CheckpointError } from '../errors';
import { loadModelFolder } from '../loadModelFolder';
import { parseSafetensors } from '../safetensors';
import { mapSource } from '../sources';
import { expandTensors } from '../sparse';
import { zipFolder, zipFolderSource } from '../zipFolder';
import { convertRelease, type ConvertProgress } from './convertRelease';
import { looksLikeRelease, sortReleaseFiles, type Named } from './releaseFiles';

/**
 * The browser's conversion of the release-shaped fixture (test-fixtures/openai-small/released) against what
 * `python train/openai_import` made of it (test-fixtures/openai-small/converted): the same config, the same tensors
 * bit for bit, the same means and tokenizer, the same notes and size figures on the card, and the same logits as
 * PyTorch's golden file.
 */
const FIX = resolve(__dirname, '../../../../test-fixtures/openai-small');
const REL = join(FIX, 'released');
const CONV = join(FIX, 'converted');
const RELEASE_PATHS = [
  'models/csp_tiny/final_model.pt',
  'models/csp_tiny/beeg_config.json',
  'tinypython/encoder.json',
  'tinypython/vocab.bpe',
  'viz/csp_tiny/mean_baseline_pretrain.pt',
];
const bytesOf = (p: string) => new Uint8Array(readFileSync(p));
const released = (paths = RELEASE_PATHS, edit: Record<string, Uint8Array> = {}): Named<Blob>[] =>
  paths.map((p) => ({ path: `released/${p}`, file: new Blob([(edit[p] ?? bytesOf(join(REL, p))) as Uint8Array<ArrayBuffer>]) }));
const tensorsOf = (bytes: Uint8Array, name: string) => expandTensors(parseSafetensors(bytes, name));
const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;

async function convertFixture(edit: Record<string, Uint8Array> = {}, paths = RELEASE_PATHS) {
  return convertRelease(sortReleaseFiles(released(paths, edit)));
}

describe('converting the release-shaped fixture in TypeScript', () => {
  it('tells release files from a model folder', () => {
    expect(looksLikeRelease(RELEASE_PATHS)).toBe(true);
    expect(looksLikeRelease(['m/config.json', 'm/model.safetensors'])).toBe(false);
    expect(looksLikeRelease(['final_model.pt'])).toBe(true);
    expect(looksLikeRelease(['m.zip'])).toBe(false);
    const sorted = sortReleaseFiles(released());
    expect(sorted.modelDir).toBe('csp_tiny');
    expect(sorted.meansBaseline?.path).toMatch(/mean_baseline_pretrain\.pt$/);
  });

  it('gives the Python importer\'s folder: config, tensors (exact), means (exact), tokenizer, notes, sizes', async () => {
    const events: ConvertProgress[] = [];
    const out = await convertRelease(sortReleaseFiles(released()), { onProgress: (e) => events.push(e) });
    expect(new TextDecoder().decode(out.files.get('config.json'))).toBe(readFileSync(join(CONV, 'config.json'), 'utf8'));

    const ours = tensorsOf(out.files.get('model.safetensors')!, 'ours');
    const theirs = tensorsOf(bytesOf(join(CONV, 'model.safetensors')), 'python');
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [k, t] of theirs) {
      expect(ours.get(k)!.shape, k).toEqual(t.shape);
      expect(Buffer.from(ours.get(k)!.data.buffer, ours.get(k)!.data.byteOffset, ours.get(k)!.data.byteLength)
        .equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), k).toBe(true);
    }
    // stored compactly exactly where the Python writer stores compactly
    const sparseKeys = (b: Uint8Array) => Object.keys(parseSafetensors(b, 'x').metadata).filter((k) => k.startsWith('sparse:')).sort();
    expect(sparseKeys(out.files.get('model.safetensors')!)).toEqual(sparseKeys(bytesOf(join(CONV, 'model.safetensors'))));

    const meansOurs = tensorsOf(out.files.get('means.safetensors')!, 'ours');
    const meansTheirs = tensorsOf(bytesOf(join(CONV, 'means.safetensors')), 'python');
    expect([...meansOurs.keys()].sort()).toEqual([...meansTheirs.keys()].sort());
    for (const [k, t] of meansTheirs) expect(Array.from(meansOurs.get(k)!.data), k).toEqual(Array.from(t.data));

    for (const f of ['tokenizer/encoder.json', 'tokenizer/vocab.bpe']) expect(Buffer.from(out.files.get(f)!).equals(readFileSync(join(CONV, f)))).toBe(true);

    const card = json(out.files.get('model-card.json')!);
    const pyCard = JSON.parse(readFileSync(join(CONV, 'model-card.json'), 'utf8')) as Record<string, unknown>;
    expect(card.conversion_notes).toEqual(pyCard.conversion_notes);
    for (const k of ['kind', 'nonzero_params', 'total_params', 'weight_l0_fraction', 'sparsified_nonzero', 'sparsified_total', 'afrac']) expect(card[k], k).toEqual(pyCard[k]);
    const src = card.source as Record<string, unknown>;
    const pySrc = pyCard.source as Record<string, unknown>;
    for (const k of ['final_model_sha256', 'final_model_bytes', 'beeg_config_sha256', 'beeg_config', 'encoder_json_sha256', 'vocab_bpe_sha256']) expect(src[k], k).toEqual(pySrc[k]);
    expect((card.means as Record<string, unknown>).sha256).toBe((pyCard.means as Record<string, unknown>).sha256);
    expect(card.id).toBe('csp_tiny');

    // progress went through reading the checkpoint's bytes up to its full size
    const ckpt = events.filter((e) => e.stage === 'reading' && e.file.endsWith('final_model.pt'));
    expect(ckpt.at(-1)).toMatchObject({ loadedBytes: 490824, totalBytes: 490824 });
  });

  it('the converted folder loads without warnings and matches PyTorch\'s golden logits to 1e-4 (also from its zip)', async () => {
    await useBackend('cpu');
    const out = await convertFixture();
    const { checkpoint, warnings } = await loadModelFolder(mapSource(out.files, 'converted in memory'));
    expect(warnings).toEqual([]);
    expectGoldenMatch(await goldenFileDiffs(checkpoint, join(CONV, 'golden.safetensors')), 1e-4);

    const zip = zipFolder(out.files, out.id);
    const reopened = await loadModelFolder(zipFolderSource({ path: 'csp_tiny.zip', file: new Blob([zip as Uint8Array<ArrayBuffer>]) }));
    expect(reopened.warnings).toEqual([]);
    for (const [k, t] of checkpoint.tensors) expect(Array.from(reopened.checkpoint.tensors.get(k)!.data), k).toEqual(Array.from(t.data));
    expect(reopened.card).toEqual(json(out.files.get('model-card.json')!));
  });

  it('stops at Cancel: an abort during the checkpoint\'s read rejects with the abort and makes no folder', async () => {
    const ctrl = new AbortController();
    const seen: string[] = [];
    const run = convertRelease(sortReleaseFiles(released()), {
      signal: ctrl.signal,
      onProgress: (e) => {
        seen.push(`${e.stage} ${e.file}`);
        if (e.file.endsWith('final_model.pt')) ctrl.abort(new DOMException('cancelled', 'AbortError'));
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.some((s) => s.startsWith('writing'))).toBe(false);
  });

  it('notes viz_data.pt files it does not convert, by task', async () => {
    const out = await convertFixture({}, [...RELEASE_PATHS, 'viz/csp_tiny/single_double_quote/prune_v4/k_optim/viz_data.pt']);
    expect(out.notes.at(-1)).toMatch(/viz_data\.pt \(task single_double_quote\): not converted here/);
    expect([...out.files.keys()].some((k) => k.startsWith('circuits/'))).toBe(false);
  });

  it('without a mean baseline: no means.safetensors and a card that says so', async () => {
    const out = await convertFixture({}, RELEASE_PATHS.slice(0, 4));
    expect(out.files.has('means.safetensors')).toBe(false);
    expect(json(out.files.get('model-card.json')!).means).toBeNull();
  });

  const beeg = JSON.parse(readFileSync(join(REL, 'models/csp_tiny/beeg_config.json'), 'utf8')) as Record<string, unknown>;
  const withConfig = (c: Record<string, unknown>) => ({ 'models/csp_tiny/beeg_config.json': new TextEncoder().encode(JSON.stringify(c)) });
  it.each([
    ['an option the runtime cannot reproduce', { ...beeg, rtopk: true }, /unsupported option rtopk=true: the runtime implements only AbsTopK/],
    ['a low-rank bigram table', { ...beeg, bigram_table_rank: 8 }, /unsupported option bigram_table_rank=8/],
    ['an unknown key', { ...beeg, warp_drive: 3 }, /unknown config key\(s\) warp_drive=3: OpenAI's own load_model rejects them/],
    ['a shape that does not match the checkpoint', { ...beeg, d_mlp: 48 }, /tensor "transformer\.h\.0\.mlp\.c_fc\.weight" has shape \[64,32\], expected \[48,32\]/],
    ['a missing required key', Object.fromEntries(Object.entries(beeg).filter(([k]) => k !== 'n_layer')), /missing required key\(s\): n_layer/],
    ['more layers than the checkpoint has', { ...beeg, n_layer: 3 }, /missing tensor\(s\) the config needs: transformer\.h\.2\./],
  ])('refuses %s, naming it', async (_what, config, message) => {
    await expect(convertFixture(withConfig(config))).rejects.toThrow(message);
  });

  it('fills a missing d_head with OpenAI\'s default and a note; a default the checkpoint contradicts is refused by tensor', async () => {
    const noHead = { ...beeg };
    delete noHead.d_head;
    const ok = await convertFixture(withConfig(noHead));
    expect(ok.notes).toContain("d_head missing: OpenAI's default d_model // n_head = 16");
    expect(new TextDecoder().decode(ok.files.get('config.json'))).toBe(readFileSync(join(CONV, 'config.json'), 'utf8'));
    // without "sink" the model has no sink (OpenAI's default), so the checkpoint's sink logits are unused: refused
    const noSink = { ...beeg };
    delete noSink.sink;
    await expect(convertFixture(withConfig(noSink))).rejects.toThrow(/tensor\(s\) the configured architecture does not use: transformer\.h\.0\.attn\.attn_imp\.sink_logit/);
  });

  it('names what is missing among the files given', () => {
    expect(() => sortReleaseFiles(released(RELEASE_PATHS.filter((p) => !p.endsWith('vocab.bpe'))))).toThrow(/no vocab\.bpe among the 4 file\(s\) given: the release's tinypython\/ folder holds them/);
    expect(() => sortReleaseFiles(released(RELEASE_PATHS.filter((p) => !p.endsWith('beeg_config.json'))))).toThrow(CheckpointError);
  });

  it('takes a circuit named viz_data.pkl (OpenAI\'s README\'s name) as a viz file, its task from the path', () => {
    const viz = (task: string, name: string) => ({ path: `released/viz/csp_tiny/${task}/prune_v4/k_optim/${name}`, file: new Blob([]) });
    const sorted = sortReleaseFiles([...released(), viz('while_return_true_beeg', 'viz_data.pt'), viz('single_double_quote', 'viz_data.pkl')]);
    expect(sorted.viz.map((v) => [v.task, v.path.split('/').pop()])).toEqual([['single_double_quote', 'viz_data.pkl'], ['while_return_true_beeg', 'viz_data.pt']]);
    expect(sorted.checkpoint.path).toBe('released/models/csp_tiny/final_model.pt');
    expect(looksLikeRelease(['viz_data.pkl'])).toBe(false); // a circuit alone is not a model
    expect(() => sortReleaseFiles([...released(), viz('single_double_quote', 'viz_data.pt'), viz('single_double_quote', 'viz_data.pkl')])).toThrow(
      /two viz files for task "single_double_quote" \(.*viz_data\.pkl and .*viz_data\.pt\); drop one/,
    );
  });
});
