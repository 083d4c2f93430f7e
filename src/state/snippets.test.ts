import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../model/config';
import { allSites, siteWidth } from '../model/sites';
import { MODELS_DIR, shippedModelFolders } from '../model/testing/publicModelFolders';
import { BpeTokenizer } from '../tokenizer/bpe';
import { clearSnippetsCache, loadSnippets, parseSnippets, SNIPPETS_FILE, SNIPPETS_FORMAT, type SnippetsModelShape } from './snippets';

// ---- a minimal safetensors writer for the dtypes snippets.safetensors uses (U16, I8, I32, F32)

type T = { dtype: 'U16' | 'I8' | 'I32' | 'F32'; shape: number[]; data: Uint16Array | Int8Array | Int32Array | Float32Array };

function writeFile(tensors: Record<string, T>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + bytes.length] };
    parts.push(bytes);
    off += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let o = 8 + json.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const SHAPE: SnippetsModelShape = { nLayer: 1, nHead: 1, dHead: 2, dModel: 2, dMlp: 3, vocabSize: 10 };
const BEFORE = 2;
const AFTER = 1;
const W = BEFORE + AFTER + 1;

/**
 * A file for SHAPE: 0.mlp.post_act channel 1 has two top snippets; 0.attn.q channel 0 one top and one bottom snippet.
 */
function synthetic(edit: { info?: Record<string, unknown>; tensors?: (t: Record<string, T>) => void; format?: string } = {}): Uint8Array {
  const S = 4;
  const sites = allSites(SHAPE as never);
  const tensors: Record<string, T> = {
    tokens: { dtype: 'U16', shape: [8], data: Uint16Array.from([1, 2, 3, 4, 5, 6, 7, 9]) },
    value: { dtype: 'F32', shape: [S], data: Float32Array.from([2, 1, 0.5, -0.25]) },
    scale: { dtype: 'F32', shape: [S], data: Float32Array.from([2, 1, 0.5, 0.5]) },
    acts: { dtype: 'I8', shape: [S, W], data: Int8Array.from([0, 64, 127, -127, 0, 0, 127, 0, 0, 0, 127, 0, 0, 0, -64, 127]) },
    start: { dtype: 'I32', shape: [S], data: Int32Array.from([0, 4, 2, 3]) },
    pos: { dtype: 'I32', shape: [S], data: Int32Array.from([102, 206, 54, 80]) },
  };
  let at = 0;
  for (const site of sites) {
    const w = siteWidth(SHAPE as never, site);
    const dirs = site.endsWith('mlp.post_act') ? ['top'] : ['top', 'bottom'];
    for (const d of dirs) {
      const counts = new Array<number>(w).fill(0);
      if (site === '0.attn.q' && d === 'top') counts[0] = 1;
      if (site === '0.attn.q' && d === 'bottom') counts[0] = 1;
      if (site === '0.mlp.post_act') counts[1] = 2;
      const o = [at];
      for (const c of counts) o.push((at += c));
      tensors[`${site}.${d}`] = { dtype: 'I32', shape: [w + 1], data: Int32Array.from(o) };
    }
  }
  edit.tensors?.(tensors);
  const info = {
    split: 'heldout', source_tokens: 1000, scored_tokens: 500, windows: 10, block_size: 64, min_context: 2, before: BEFORE,
    after: AFTER, top_n: 2, min_distance: W, bottom_sites: sites.filter((s) => !s.endsWith('post_act')), snippets: S, ...edit.info,
  };
  return writeFile(tensors, { format: edit.format ?? SNIPPETS_FORMAT, snippets: JSON.stringify(info) });
}

describe('parseSnippets', () => {
  it('reads the lists of a node, dequantises the window values and keeps the exact focus value', () => {
    const f = parseSnippets(synthetic(), SHAPE);
    expect(f.info.split).toBe('heldout');
    // the offsets put 0.attn.q's snippets (site order) before 0.mlp.post_act's
    const q = f.forNode('0.attn.q', 0)!;
    expect(q.top.map((s) => s.value)).toEqual([2]);
    expect(q.top[0]!.tokens).toEqual([1, 2, 3, 4]);
    expect(q.top[0]!.focus).toBe(BEFORE);
    [0, 64 * 2 / 127, 2, -2].forEach((v, j) => expect(q.top[0]!.acts[j]).toBeCloseTo(v, 6));
    expect(q.bottom!.map((s) => s.value)).toEqual([1]);
    expect(f.forNode('0.attn.q', 1)).toEqual({ top: [], bottom: [] });
    const m = f.forNode('0.mlp.post_act', 1)!;
    expect(m.bottom).toBeNull(); // an unsigned site has no bottom list
    expect(m.top.map((s) => [s.value, s.pos, s.tokens])).toEqual([[0.5, 54, [3, 4, 5, 6]], [-0.25, 80, [4, 5, 6, 7]]]);
    expect(f.forNode('0.mlp.post_act', 3)).toBeNull();
    expect(f.forNode('7.attn.q', 0)).toBeNull();
  });

  it('refuses files that are malformed or made for another model', () => {
    expect(() => parseSnippets(synthetic({ format: 'other' }), SHAPE)).toThrow(/format is "other"/);
    expect(() => parseSnippets(synthetic({ info: { before: -1 } }), SHAPE)).toThrow(/metadata is invalid.*before/);
    expect(() => parseSnippets(synthetic({ tensors: (t) => delete t.scale }), SHAPE)).toThrow(/"scale" is missing/);
    expect(() => parseSnippets(synthetic({ tensors: (t) => { t.value!.dtype = 'I32'; } }), SHAPE)).toThrow(/dtype I32, expected F32/);
    expect(() => parseSnippets(synthetic({ info: { after: 2 } }), SHAPE)).toThrow(/"acts" has shape \[4,4\], expected \[4,5\]/);
    expect(() => parseSnippets(synthetic({ tensors: (t) => { t.start!.data[1] = 5; } }), SHAPE)).toThrow(/outside the 8-token pool/);
    expect(() => parseSnippets(synthetic({ tensors: (t) => { (t['0.attn.k.top']!.data as Int32Array)[1] = 9; } }), SHAPE))
      .toThrow(/0.attn.k.top" is not a non-decreasing/);
    expect(() => parseSnippets(synthetic(), { ...SHAPE, vocabSize: 8 })).toThrow(/token id 9 is outside/);
    expect(() => parseSnippets(synthetic(), { ...SHAPE, dMlp: 4 })).toThrow(/"0.mlp.post_act" has 3 channels in the file, 4 in the model/);
    expect(() => parseSnippets(synthetic(), { ...SHAPE, nLayer: 2 })).toThrow(/no lists for hook site "1.attn.act_in"/);
    expect(() => parseSnippets(new Uint8Array(3))).toThrow(/truncated/);
  });
});

describe('loadSnippets', () => {
  afterEach(() => clearSnippetsCache());
  const dir = join(MODELS_DIR, 'sparse-py-2l');
  const tok = (f: string) => readFileSync(join(dir, 'tokenizer', f), 'utf8');
  const tokenizerFiles = existsSync(join(dir, 'tokenizer/encoder.json'));
  const shape2k = { ...SHAPE, vocabSize: 2048 };
  const respond = (files: Record<string, Uint8Array | string>) => vi.fn(async (url: string) => {
    const name = url.replace(/^\/m\//, '');
    const body = files[name];
    if (body === undefined) return new Response('not found', { status: 404 });
    return new Response(typeof body === 'string' ? body : new Blob([body as Uint8Array<ArrayBuffer>]), { status: 200, headers: { 'content-type': 'application/octet-stream' } });
  });

  it('gives null for a folder without the file, and asks only once', async () => {
    const fetchFn = respond({});
    expect(await loadSnippets('/m/', SHAPE, fetchFn)).toBeNull();
    expect(await loadSnippets('/m/', SHAPE, fetchFn)).toBeNull();
    expect(fetchFn).toHaveBeenCalledTimes(1);
    expect(fetchFn.mock.calls[0]![0]).toBe(`/m/${SNIPPETS_FILE}`);
  });

  it('treats a dev server\'s HTML page as a missing file', async () => {
    const fetchFn = vi.fn(async () => new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } }));
    expect(await loadSnippets('/m/', SHAPE, fetchFn)).toBeNull();
  });

  it.skipIf(!tokenizerFiles)('loads the file and the folder\'s tokenizer once, lazily, per folder', async () => {
    const fetchFn = respond({ [SNIPPETS_FILE]: synthetic(), 'tokenizer/encoder.json': tok('encoder.json'), 'tokenizer/vocab.bpe': tok('vocab.bpe') });
    const a = await loadSnippets('/m/', shape2k, fetchFn);
    const b = await loadSnippets('/m/', shape2k, fetchFn);
    expect(a).toBe(b);
    expect(fetchFn).toHaveBeenCalledTimes(3);
    expect(a!.tokenizer.tokenString(a!.file.forNode('0.attn.q', 0)!.top[0]!.tokens[0]!)).toBe(a!.tokenizer.tokenString(1));
  });

  it('does not cache failures', async () => {
    let fail = true;
    const fetchFn = vi.fn(async () => (fail ? new Response('', { status: 500 }) : new Response('', { status: 404 })));
    await expect(loadSnippets('/m/', SHAPE, fetchFn)).rejects.toThrow(/HTTP 500/);
    fail = false;
    expect(await loadSnippets('/m/', SHAPE, fetchFn)).toBeNull();
  });

  it('reports a broken file', async () => {
    const fetchFn = respond({ [SNIPPETS_FILE]: synthetic({ format: 'nope' }) });
    await expect(loadSnippets('/m/', SHAPE, fetchFn)).rejects.toThrow(/format is "nope"/);
  });
});

/** The files shipped in public/models/ parse against their model's config and hold what the panel shows. */
describe('shipped snippet files', () => {
  const withFile = shippedModelFolders().filter((id) => existsSync(join(MODELS_DIR, id, SNIPPETS_FILE)));
  if (withFile.length === 0) {
    it.skip('SKIPPED: no public/models/<id>/snippets.safetensors yet', () => {});
    return;
  }
  for (const id of withFile) {
    it(`${id}: sorted lists for every node, focus values within the quantisation step`, () => {
      const dir = join(MODELS_DIR, id);
      const config = parseConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
      const f = parseSnippets(readFileSync(join(dir, SNIPPETS_FILE)), config);
      const tokenizer = BpeTokenizer.fromDataGym(readFileSync(join(dir, 'tokenizer/encoder.json'), 'utf8'),
        readFileSync(join(dir, 'tokenizer/vocab.bpe'), 'utf8'), { vocabSize: config.vocabSize });
      expect(f.info.split).toBe('heldout');
      expect(f.info.scored_tokens).toBeGreaterThan(0);
      let total = 0;
      let nodesWithSnippets = 0;
      const problems: string[] = []; // collected, not expect()ed one by one: there are ~40k snippets
      for (const site of allSites(config)) {
        for (let c = 0; c < siteWidth(config, site); c++) {
          const n = f.forNode(site, c)!;
          if ((n.bottom === null) !== !f.info.bottom_sites.includes(site)) problems.push(`${site}: bottom list`);
          for (const [list, sign] of [[n.top, 1], [n.bottom ?? [], -1]] as const) {
            const at = `${site}:${c} ${sign > 0 ? 'top' : 'bottom'}`;
            if (list.length > f.info.top_n) problems.push(`${at}: ${list.length} snippets`);
            list.forEach((s, k) => {
              if (!(sign * s.value > 0)) problems.push(`${at}[${k}]: value ${s.value} has the wrong sign`);
              if (k > 0 && sign * s.value > sign * list[k - 1]!.value) problems.push(`${at}[${k}]: not sorted`);
              // int8 against the window's largest |value|: within half a step of the exact focus value
              const step = s.acts.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127;
              if (Math.abs(s.acts[s.focus]! - s.value) > step * 0.51 + 1e-6) problems.push(`${at}[${k}]: focus ${s.acts[s.focus]} vs ${s.value}`);
              for (const t of list.slice(0, k)) if (Math.abs(t.pos - s.pos) < f.info.min_distance) problems.push(`${at}[${k}]: too close`);
            });
            total += list.length;
          }
          if (n.top.length) nodesWithSnippets++;
        }
      }
      expect(problems.slice(0, 10)).toEqual([]);
      expect(total).toBe(f.info.snippets);
      expect(nodesWithSnippets).toBeGreaterThan(0);
      // the token ids decode with the model's own tokenizer
      const first = allSites(config).map((s) => f.forNode(s, 0)!.top[0]).find((s) => s)!;
      expect(tokenizer.decode(first.tokens).length).toBeGreaterThan(0);
    });
  }
});
