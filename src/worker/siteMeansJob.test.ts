import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMeans } from '../model/checkpoint/means';
import { parseConfig } from '../model/config';
import type { Intervention } from '../model/interventions';
import { useBackend } from '../model/testing/nodeBackends';
import { readModelFolder } from '../model/testing/publicModelFolders';
import { Engine } from './engine';
import type { ProgressOf } from './protocol';
import type { MeansRequest } from './siteMeansJob';

/**
 * Means from text through the engine (the worker's logic), on the converted OpenAI-shaped fixture with its
 * means.safetensors left out: the fixture's corpus files (test-fixtures/site-means/corpus, the texts PyTorch's
 * compute_means ran on to make that means file) give back that file's means, mean ablation then gives the logits of
 * the folder with its means, and the card records the provenance. Refusals and a cancel leave the model without means.
 */
const ROOT = resolve(__dirname, '../..');
const MODEL = resolve(ROOT, 'test-fixtures/openai-small/converted');
const CORPUS = resolve(ROOT, 'test-fixtures/site-means/corpus');
const folder = readModelFolder(MODEL);
const config = parseConfig(JSON.parse(new TextDecoder().decode(folder.get('config.json')!)));
const golden = readMeans(folder.get('means.safetensors')!, config).means;
const texts = readdirSync(CORPUS).sort().map((name) => ({ name, text: readFileSync(resolve(CORPUS, name), 'utf8') }));
const request: MeansRequest = { texts, windows: 16, windowTokens: 64 };
const PROMPT = 'def f(x):\n    return "a';
// Every node outside this small circuit is replaced by its mean: the logits depend on every site's means.
const CIRCUIT: Intervention[] = [{ kind: 'circuit', nodes: ['0.attn.act_in:1', '1.mlp.post_act:3'], mode: 'mean' }];
const signal = () => new AbortController().signal;

async function engineWith(paths: (p: string) => boolean): Promise<Engine> {
  const e = new Engine();
  const files = [...folder].filter(([p]) => paths(p)).map(([path, bytes]) => ({ path: `openai-small/${path}`, file: new File([bytes.slice()], path.split('/').pop()!) }));
  await e.load({ kind: 'files', files }, () => {}, signal());
  return e;
}

let withMeans: Engine;
beforeAll(async () => {
  await useBackend('cpu');
  withMeans = await engineWith(() => true);
});

describe('engine: means computed from text', () => {
  it('the corpus files give the folder\'s means, mean ablation then answers as the folder with its means does, and the card says where they came from', async () => {
    const e = await engineWith((p) => p !== 'means.safetensors');
    expect(e.summary().hasMeans).toBe(false);
    await expect(e.predict(PROMPT, 5, CIRCUIT)).rejects.toThrow('mean ablation needs the mean of site');
    const count = e.countMeansText(request);
    expect(count).toEqual({ tokens: 411, windows: 16, windowTokens: 64, problem: null });

    const progress: ProgressOf<'means'>[] = [];
    const out = await e.computeMeans(request, (p) => progress.push(p), signal());
    expect(progress.at(-1)).toEqual({ kind: 'means', stage: 'windows 16 of 16', done: 16, total: 16 });
    expect(out.summary.hasMeans).toBe(true);
    expect(out.summary.warnings).toEqual([]);
    expect((out.summary.card as { means: unknown }).means).toEqual(out.info);
    expect(out.info).toMatchObject({ source: 'text', computed_in: 'browser', corpus_tokens: 411, windows: 16, window_tokens: 64 });
    expect(out.info.texts.map((t) => t.name)).toEqual(['0.py', '1.py', '2.py']);
    for (const t of out.info.texts) expect(t.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(out.info.texts[0]!.sha256).not.toBe(out.info.texts[1]!.sha256);

    // means.safetensors as saved: the folder's own means, to 1e-5 of each site's largest.
    const saved = readMeans(out.file, config).means;
    expect([...saved.keys()]).toEqual([...golden.keys()]);
    for (const [site, g] of golden) {
      const scale = Math.max(...g.map(Math.abs));
      const diff = Math.max(...saved.get(site)!.map((v, i) => Math.abs(v - g[i]!)));
      expect(diff / scale, site).toBeLessThan(1e-5);
    }

    const ours = await e.predict(PROMPT, 5, CIRCUIT);
    const theirs = await withMeans.predict(PROMPT, 5, CIRCUIT);
    expect(ours.top.map((p) => p.id)).toEqual(theirs.top.map((p) => p.id));
    ours.top.forEach((p, i) => expect(Math.abs(p.logit - theirs.top[i]!.logit)).toBeLessThan(1e-4));
    const zero = await e.predict(PROMPT, 5, [{ ...CIRCUIT[0]!, mode: 'zero' } as Intervention]);
    expect(Math.max(...zero.top.map((p, i) => Math.abs(p.logit - ours.top[i]!.logit)))).toBeGreaterThan(1e-2);

    await expect(e.computeMeans(request, () => {}, signal())).rejects.toThrow('this model has its means already (means.safetensors)');
  });

  it('an empty or too short text and a cancel are refused and leave the model without means', async () => {
    const e = await engineWith((p) => p !== 'means.safetensors');
    expect(e.countMeansText({ texts: [{ name: null, text: '' }] })).toEqual({
      tokens: 0, windows: null, windowTokens: null, problem: 'the text is empty: give some text (for example Python code) to compute the means over',
    });
    await expect(e.computeMeans({ texts: [{ name: null, text: '' }] }, () => {}, signal())).rejects.toThrow('the text is empty');
    const short = e.countMeansText({ texts: [{ name: null, text: 'x = 1\n' }] });
    expect(short.problem).toBe(`the text is ${short.tokens} tokens long, fewer than one window of 64 tokens (plus one): give more text`);
    await expect(e.computeMeans({ texts: [{ name: null, text: 'x = 1\n' }] }, () => {}, signal())).rejects.toThrow('fewer than one window');

    const ctrl = new AbortController();
    const run = e.computeMeans({ ...request, windows: 64 }, (p) => { if (p.done > 0) ctrl.abort(); }, ctrl.signal);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(e.summary().hasMeans).toBe(false);
    expect(e.summary().warnings).toHaveLength(1);
    await expect(e.predict(PROMPT, 5, CIRCUIT)).rejects.toThrow('mean ablation needs the mean of site');
  });

  it('pasted text is read as one file: Windows line ends as Python\'s text mode reads them', () => {
    const e = withMeans;
    const lf = e.countMeansText({ texts: [{ name: null, text: texts[0]!.text }] });
    const crlf = e.countMeansText({ texts: [{ name: null, text: texts[0]!.text.replace(/\n/g, '\r\n') }] });
    expect(crlf).toEqual(lf);
    // Each text is tokenized alone and ends with <|endoftext|>.
    const one = (t: { name: string; text: string }) => e.countMeansText({ texts: [t] }).tokens;
    expect(e.countMeansText({ texts: texts.slice(0, 2) }).tokens).toBe(one(texts[0]!) + one(texts[1]!));
    expect(e.countMeansText({ texts: [texts[0]!, { name: null, text: '' }] }).tokens).toBe(one(texts[0]!));
  });
});
