import { z } from 'zod';
import { parseSafetensors, readRequiredText, toFloat32, toInt32, urlSource, type FolderSource, type SafetensorsEntry } from '../model/checkpoint';
import type { ModelConfig } from '../model/config';
import { allSites, siteWidth } from '../model/sites';
import { BpeTokenizer } from '../tokenizer/bpe';

/**
 * A model folder's optional snippets.safetensors (docs/model-folder.md, written by train/snippets.py): for every
 * hook-site channel, the held-out windows where it is largest (and, for signed sites, most negative), with the
 * channel's value on each token. Loaded on first use by the node panel and cached per model folder, through the
 * folder's FolderSource (a URL or a picked or dropped folder alike).
 */
export const SNIPPETS_FILE = 'snippets.safetensors';
export const SNIPPETS_FORMAT = 'sparse-circuit-explorer/snippets-1';

const count = z.number().int().nonnegative();
export const snippetsInfoSchema = z.object({
  split: z.string(),
  source: z.string().optional(),
  source_tokens: count,
  scored_tokens: count,
  windows: count,
  block_size: z.number().int().positive(),
  min_context: count,
  before: count.max(1024),
  after: count.max(1024),
  top_n: z.number().int().positive(),
  min_distance: count,
  bottom_sites: z.array(z.string()),
  snippets: count,
  model_sha256: z.string().nullable().optional(),
});
export type SnippetsInfo = z.infer<typeof snippetsInfoSchema>;

export interface Snippet {
  /** The channel's value on the focus token (exact). */
  value: number;
  /** Token ids of the window, `before` tokens, the focus token, `after` tokens. */
  tokens: number[];
  /** The channel's value on each token of the window (int8-quantised, so within 1/254 of the window's max |value|). */
  acts: Float32Array;
  /** Index of the focus token in `tokens`. */
  focus: number;
  /** Position of the focus token in the scanned token file. */
  pos: number;
}

export interface NodeSnippets {
  /** Largest values first. */
  top: Snippet[];
  /** Most negative values first; null for sites without a bottom list (non-negative sites such as mlp.post_act). */
  bottom: Snippet[] | null;
}

/** The model shape the file must match (a ModelSummary or ModelConfig). */
export type SnippetsModelShape = Pick<ModelConfig, 'nLayer' | 'nHead' | 'dHead' | 'dModel' | 'dMlp' | 'vocabSize'>;

export class SnippetsFile {
  constructor(
    readonly info: SnippetsInfo,
    private readonly offsets: Map<string, Int32Array>,
    private readonly pool: Uint16Array,
    private readonly value: Float32Array,
    private readonly scale: Float32Array,
    private readonly acts: Int8Array,
    private readonly start: Int32Array,
    private readonly pos: Int32Array,
  ) {}

  get width(): number {
    return this.info.before + this.info.after + 1;
  }

  private list(key: string, channel: number): Snippet[] | null {
    const o = this.offsets.get(key);
    if (!o || channel < 0 || channel + 1 >= o.length) return null;
    const out: Snippet[] = [];
    const w = this.width;
    for (let i = o[channel]!; i < o[channel + 1]!; i++) {
      const s = this.start[i]!;
      const k = this.scale[i]! / 127;
      out.push({
        value: this.value[i]!,
        tokens: Array.from(this.pool.subarray(s, s + w)),
        acts: Float32Array.from(this.acts.subarray(i * w, (i + 1) * w), (q) => q * k),
        focus: this.info.before,
        pos: this.pos[i]!,
      });
    }
    return out;
  }

  /** A node's snippets; null when the file has no lists for that site or channel. */
  forNode(site: string, channel: number): NodeSnippets | null {
    const top = this.list(`${site}.top`, channel);
    if (!top) return null;
    return { top, bottom: this.list(`${site}.bottom`, channel) };
  }
}

/** Parses snippets.safetensors; with `model`, checks that it was made for a model of that shape. Throws on any problem. */
export function parseSnippets(bytes: ArrayBuffer | Uint8Array, model?: SnippetsModelShape, fileName = SNIPPETS_FILE): SnippetsFile {
  const file = parseSafetensors(bytes, fileName);
  const fail = (msg: string): never => {
    throw new Error(`${fileName}: ${msg}`);
  };
  if (file.metadata.format !== SNIPPETS_FORMAT) fail(`format is ${JSON.stringify(file.metadata.format)}, expected "${SNIPPETS_FORMAT}"`);
  let raw: unknown;
  try {
    raw = JSON.parse(file.metadata.snippets ?? '');
  } catch {
    return fail('the "snippets" metadata entry is missing or not JSON');
  }
  const r = snippetsInfoSchema.safeParse(raw);
  if (!r.success) return fail(`the "snippets" metadata is invalid: ${r.error.issues[0]?.message} at ${r.error.issues[0]?.path.join('.')}`);
  const info = r.data;
  const width = info.before + info.after + 1;
  const S = info.snippets;
  const get = (name: string, dtype: SafetensorsEntry['dtype'], shape: number[]): SafetensorsEntry => {
    const e = file.tensors.get(name);
    if (!e) return fail(`tensor "${name}" is missing`);
    if (e.dtype !== dtype) fail(`tensor "${name}" has dtype ${e.dtype}, expected ${dtype}`);
    if (e.shape.length !== shape.length || e.shape.some((d, i) => shape[i]! >= 0 && d !== shape[i])) {
      fail(`tensor "${name}" has shape [${e.shape.join(',')}], expected [${shape.map((d) => (d < 0 ? 'n' : d)).join(',')}]`);
    }
    return e;
  };
  const tokensE = get('tokens', 'U16', [-1]);
  const pool = new Uint16Array(tokensE.numel);
  const dv = new DataView(tokensE.data.buffer, tokensE.data.byteOffset, tokensE.data.byteLength);
  for (let i = 0; i < pool.length; i++) pool[i] = dv.getUint16(2 * i, true);
  const value = Float32Array.from(toFloat32(get('value', 'F32', [S])));
  const scale = Float32Array.from(toFloat32(get('scale', 'F32', [S])));
  const actsE = get('acts', 'I8', [S, width]);
  const acts = new Int8Array(actsE.data.buffer, actsE.data.byteOffset, actsE.data.byteLength); // a view: 1-byte aligned
  const start = Int32Array.from(toInt32(get('start', 'I32', [S]), fileName));
  const pos = Int32Array.from(toInt32(get('pos', 'I32', [S]), fileName));
  for (let i = 0; i < S; i++) {
    if (start[i]! < 0 || start[i]! + width > pool.length) fail(`snippet ${i} starts at token ${start[i]}, outside the ${pool.length}-token pool`);
    if (!Number.isFinite(value[i]!) || !Number.isFinite(scale[i]!)) fail(`snippet ${i} has a non-finite value`);
  }
  if (model) {
    const bad = pool.findIndex((t) => t >= model.vocabSize);
    if (bad >= 0) fail(`token id ${pool[bad]} is outside this model's vocabulary (${model.vocabSize}): made for another model?`);
  }

  const offsets = new Map<string, Int32Array>();
  for (const [name, e] of file.tensors) {
    const m = /^(.+)\.(top|bottom)$/.exec(name);
    if (!m) continue;
    if (e.shape.length !== 1 || e.numel < 1) fail(`tensor "${name}" must be a 1-D list of offsets`);
    const o = Int32Array.from(toInt32(e, fileName));
    for (let c = 0; c < o.length; c++) {
      if (o[c]! < 0 || o[c]! > S || (c > 0 && o[c]! < o[c - 1]!)) fail(`tensor "${name}" is not a non-decreasing list of offsets in [0, ${S}]`);
    }
    offsets.set(name, o);
  }
  if (model) {
    const shape = model as ModelConfig; // allSites/siteWidth read only the shape fields
    for (const site of allSites(shape)) {
      const o = offsets.get(`${site}.top`);
      const w = siteWidth(shape, site);
      if (!o) fail(`no lists for hook site "${site}": made for another model?`);
      else if (o.length !== w + 1) fail(`hook site "${site}" has ${o.length - 1} channels in the file, ${w} in the model: made for another model?`);
    }
  }
  return new SnippetsFile(info, offsets, pool, value, scale, acts, start, pos);
}

export interface LoadedSnippets {
  file: SnippetsFile;
  /** The model folder's tokenizer, for showing token ids. */
  tokenizer: BpeTokenizer;
}

/** A snippet token as text: the tokenizer's token string, the end-of-text token as ⟨eot⟩. */
export function snippetTokenText(tokenizer: BpeTokenizer): (id: number) => string {
  return (id) => (id === tokenizer.endOfTextId ? '⟨eot⟩' : tokenizer.tokenString(id));
}

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

type Cached = Map<string, Promise<LoadedSnippets | null>>;
// Per folder reader (a local folder's reader is new on every pick, so a re-picked folder is read again) or URL.
let bySource = new WeakMap<FolderSource, Cached>();
const byUrl = new Map<string, Cached>();

function cacheFor(folder: FolderSource | string): Cached {
  let c = typeof folder === 'string' ? byUrl.get(folder) : bySource.get(folder);
  if (!c) {
    c = new Map();
    if (typeof folder === 'string') byUrl.set(folder, c);
    else bySource.set(folder, c);
  }
  return c;
}

/**
 * The snippets of a model folder (its reader, or its URL ending in '/') and its tokenizer, read once per folder; null
 * when the folder has no snippets file. A failed read is not cached, so a later call tries again.
 */
export function loadSnippets(folder: FolderSource | string, model: SnippetsModelShape, fetchFn?: Fetch): Promise<LoadedSnippets | null> {
  const cache = cacheFor(folder);
  const key = `${model.nLayer}.${model.dModel}.${model.dMlp}.${model.nHead}.${model.dHead}.${model.vocabSize}`;
  let p = cache.get(key);
  if (!p) {
    const source = typeof folder === 'string' ? urlSource(folder, fetchFn ? { fetch: fetchFn as typeof fetch } : {}) : folder;
    p = (async () => {
      const bytes = await source.read(SNIPPETS_FILE, { stage: 'extras' });
      if (!bytes) return null;
      const file = parseSnippets(bytes, model);
      const [enc, bpe] = await Promise.all(['tokenizer/encoder.json', 'tokenizer/vocab.bpe'].map((f) => readRequiredText(source, f)));
      return { file, tokenizer: BpeTokenizer.fromDataGym(enc!, bpe!, { vocabSize: model.vocabSize }) };
    })();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Forgets cached snippet files (tests). */
export function clearSnippetsCache(): void {
  bySource = new WeakMap();
  byUrl.clear();
}
