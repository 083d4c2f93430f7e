import type { ModelConfig } from '../../config';
import { allSites, siteWidth } from '../../sites';
import type { BpeTokenizer } from '../../../tokenizer/bpe';
import { CheckpointError } from '../errors';
import { describe } from '../torch/pickleVm';
import { readTorchFileOrPickle } from '../torch/bareTorchPickle';
import { TorchTensor } from '../torch/tensorRebuild';
import { pyStr, pyStrList, shapeStr } from './pyRepr';

/**
 * Reading a released viz_data.pt as train/openai_import/viz_read.py reads it: its circuit (kept channels per site, in
 * the stored order), its task samples and the readings they allow, and its values as JSON. The file goes through the
 * same pickle reader and allow-list as the checkpoint, so nothing in it can run.
 *
 * The release stores neither the target tokens nor whether a task_samples row includes its decisive token, so the
 * readings are hypotheses (docs/openai-import.md, "Tasks"); the importer picks the one the stored loss supports.
 */

/** Target tokens of the released tasks that paper-notes section 5 names (folder suffixes like _beeg3 are stripped). */
export const KNOWN_TARGETS: Readonly<Record<string, readonly [string, string]>> = {
  single_double_quote: ['"', "'"],
  bracket_counting: [']]\n', ']\n'],
  while_return_true: [':', '\n'],
  set_or_string: ['.add', ' +='],
  set_or_string_fixedvarname: ['.add', ' +='],
};

export interface VizPrompt {
  tokens: number[];
  correct: number;
  alternative: number;
}
export type VizPair = readonly [VizPrompt, VizPrompt];

export interface VizHypothesis {
  name: string;
  pairs: VizPair[];
}

export interface ReadViz {
  /** The file's top-level dict. */
  viz: Map<unknown, unknown>;
  importances: Map<unknown, unknown>;
  /** Kept channels per site, in circuit_data's own order (ch_interv_losses is aligned with it). */
  keptOrder: Map<string, number[]>;
  /** circuit_data's entries that are not tensors (e.g. an embedded prune_config). */
  circuitExtra: Map<string, unknown>;
}

export interface TaskSamples {
  /** The padded rows [N, T], as stored. */
  tokens: TorchTensor;
  /** task_samples[1]: {site: {channel: activations [N, T]}} under the circuit's mean ablation, or null. */
  storedActs: unknown;
  /** The rows with their trailing token-0 padding removed. */
  rows: number[][];
}

const fail = (file: string, msg: string): never => {
  throw new CheckpointError(`${file}: ${msg}`, { file });
};

/** Python's `type(v).__name__` for the values a pickle gives. */
const pyType = (v: unknown) => (v === null ? 'NoneType' : v instanceof TorchTensor ? 'Tensor' : describe(v));

/** Released values (tensors, tuples, numbers, dicts) as JSON-safe data (viz_read.jsonable). */
export function jsonable(v: unknown): unknown {
  if (v instanceof TorchTensor) {
    const item = (x: number) => (v.dtype === 'bool' ? x !== 0 : Number.isFinite(x) ? x : null);
    if (v.numel === 1) return item(v.data[0]!);
    const nest = (dim: number, at: number): unknown => {
      if (dim === v.shape.length) return item(v.data[at]!);
      const stride = v.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: v.shape[dim]! }, (_, i) => nest(dim + 1, at + i * stride));
    };
    return nest(0, 0);
  }
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonable(x)]));
  if (Array.isArray(v)) return v.map(jsonable);
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  if (v === null || v === undefined || typeof v === 'boolean' || typeof v === 'string') return v ?? null;
  return String(v);
}

/** A stored number (a Python number or a one-element tensor) as a float, else null (viz_read.as_float). */
export function asFloat(v: unknown): number | null {
  if (v instanceof TorchTensor) return v.numel === 1 ? v.data[0]! : null;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  if (typeof v === 'bigint') return Number(v);
  return null;
}

function trim(row: number[]): number[] {
  let n = row.length;
  while (n > 0 && row[n - 1] === 0) n--;
  return row.slice(0, n);
}

/** circuit_data {loc: LongTensor of kept channels | bool mask} -> kept channels per site in stored order. */
function readCircuitData(cd: unknown, config: ModelConfig, src: string): { kept: Map<string, number[]>; extra: Map<string, unknown> } {
  if (!(cd instanceof Map)) return fail(src, `circuit_data is a ${pyType(cd)}, expected a dict`);
  const sites = allSites(config);
  const widths = new Map(sites.map((s) => [s as string, siteWidth(config, s)]));
  const kept = new Map<string, number[]>();
  const extra = new Map<string, unknown>();
  for (const [loc, v] of cd) {
    if (!(v instanceof TorchTensor)) {
      extra.set(String(loc), v);
      continue;
    }
    const w = typeof loc === 'string' ? widths.get(loc) : undefined;
    if (w === undefined) fail(src, `circuit_data location "${String(loc)}" is not a node site of this model (sites: ${sites[0]} ... final_resid)`);
    let chans: number[];
    if (v.dtype === 'bool') {
      if (v.numel !== w) fail(src, `circuit_data["${loc}"] is a mask of shape ${shapeStr(v.shape)}, expected [${w}]`);
      chans = [];
      v.data.forEach((x, i) => { if (x !== 0) chans.push(i); });
    } else {
      chans = Array.from(v.data, (x) => Math.trunc(x));
    }
    const bad = chans.filter((c) => !(c >= 0 && c < w!));
    if (bad.length) fail(src, `circuit_data["${loc}"] has channel ${bad[0]} outside [0, ${w})`);
    if (new Set(chans).size !== chans.length) fail(src, `circuit_data["${loc}"] lists a channel twice`);
    if (chans.length) kept.set(loc as string, chans);
  }
  return { kept, extra };
}

/** A viz file's bytes (viz_data.pt, or viz_data.pkl as OpenAI's README names it: a torch.save zip or a bare pickle,
 *  told apart by content as viz_load.load_viz_file does) -> its dict, importances and circuit (viz_read.read_viz). */
export function readViz(bytes: Uint8Array, path: string, config: ModelConfig): ReadViz {
  return vizFromValue(readTorchFileOrPickle(bytes, path, 'viz data'), path, config);
}

/** The unpickled value of a viz_data.pt -> its dict, importances and circuit, checked against the model. */
export function vizFromValue(viz: unknown, path: string, config: ModelConfig): ReadViz {
  if (!(viz instanceof Map) || !viz.has('circuit_data') || !viz.has('importances')) {
    const found = viz instanceof Map ? pyStrList([...viz.keys()].slice(0, 10).map(String)) : pyType(viz);
    return fail(path, `not a viz_data.pt (expected circuit_data and importances; found ${found})`);
  }
  const imp = viz.get('importances');
  const { kept, extra } = readCircuitData(viz.get('circuit_data'), config, path);
  const importances = imp instanceof Map ? imp : new Map<unknown, unknown>();
  const bmc = importances.get('beeg_model_config');
  if (bmc instanceof Map) {
    const ours: Record<string, number> = { n_layer: config.nLayer, d_model: config.dModel, n_head: config.nHead, d_head: config.dHead, vocab_size: config.vocabSize };
    const diff = Object.entries(ours).filter(([a, v]) => bmc.has(a) && bmc.get(a) !== v).map(([a, v]) => `${a}=${String(bmc.get(a))} (model: ${v})`);
    if (diff.length) fail(path, `made for another model: beeg_model_config has ${diff.join(', ')}`);
  }
  return { viz, importances, keptOrder: kept, circuitExtra: extra };
}

/** importances.task_samples = (tokens [N, T], {loc: {ch: acts}}) -> the rows and stored activations (read_task_samples). */
export function readTaskSamples(imp: Map<unknown, unknown>, config: ModelConfig, src: string): TaskSamples {
  const ts = imp.get('task_samples');
  if (ts === undefined || ts === null) return fail(src, 'importances has no task_samples');
  const tokens = Array.isArray(ts) ? ts[0] : ts;
  const storedActs = Array.isArray(ts) && ts.length > 1 ? ts[1] : null;
  if (!(tokens instanceof TorchTensor) || tokens.shape.length !== 2) {
    return fail(src, `task_samples tokens should be a [N, T] tensor, got ${tokens instanceof TorchTensor ? shapeStr(tokens.shape) : pyType(tokens)}`);
  }
  const [N, T] = tokens.shape as [number, number];
  if (N < 2 || N % 2) fail(src, `task_samples has ${N} rows; expected an even number (class 1 then class 2)`);
  if (T > config.blockSize) fail(src, `task_samples rows have ${T} tokens, more than block_size ${config.blockSize}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of tokens.data) { lo = Math.min(lo, t); hi = Math.max(hi, t); }
  if (hi >= config.vocabSize || lo < 0) fail(src, `task_samples hold token ids outside [0, ${config.vocabSize})`);
  const rows = Array.from({ length: N }, (_, i) => trim(Array.from(tokens.data.subarray(i * T, (i + 1) * T), Math.trunc)));
  const empty = rows.findIndex((r) => r.length === 0);
  if (empty >= 0) fail(src, `task_samples row ${empty} is all padding`);
  return { tokens, storedActs, rows };
}

/**
 * Candidate readings of task_samples: rows i < N/2 are class 1, row i pairs with row i + N/2.
 * prompt: a row is the prompt; the two targets come from the task, each orientation a hypothesis.
 * with-target: a row's last token is its correct token; the alternative is the partner row's last token.
 * (viz_read.sample_hypotheses with layout "auto", the page's only layout.)
 */
export function sampleHypotheses(rows: readonly number[][], targets: readonly [number, number] | null): VizHypothesis[] {
  const n = rows.length / 2;
  const out: VizHypothesis[] = [];
  if (targets) {
    for (const o of [0, 1]) {
      const [t1, t2] = o === 0 ? [targets[0], targets[1]] : [targets[1], targets[0]];
      const pairs = Array.from({ length: n }, (_, i): VizPair => [
        { tokens: rows[i]!, correct: t1, alternative: t2 },
        { tokens: rows[i + n]!, correct: t2, alternative: t1 },
      ]);
      out.push({ name: `prompt/class1=${o === 0 ? 'first' : 'second'}-target`, pairs });
    }
  }
  const ok = Array.from({ length: n }, (_, i) => i).every((i) => rows[i]!.length >= 2 && rows[i + n]!.length >= 2 && rows[i]!.at(-1) !== rows[i + n]!.at(-1));
  if (ok) {
    const pairs = Array.from({ length: n }, (_, i): VizPair => [
      { tokens: rows[i]!.slice(0, -1), correct: rows[i]!.at(-1)!, alternative: rows[i + n]!.at(-1)! },
      { tokens: rows[i + n]!.slice(0, -1), correct: rows[i + n]!.at(-1)!, alternative: rows[i]!.at(-1)! },
    ]);
    out.push({ name: 'with-target', pairs });
  }
  return out;
}

/** Both prompts of every pair, a then b. */
export const promptsOf = (pairs: readonly VizPair[]): VizPrompt[] => pairs.flatMap((p) => [p[0], p[1]]);

/** The two target token ids of a task from the table of known tasks, and where they came from (resolve_targets). */
export function resolveTargets(enc: BpeTokenizer, task: string): { targets: [number, number] | null; from: string | null } {
  const base = task.replace(/_beeg\d*$/, '');
  const spec = KNOWN_TARGETS[base];
  if (!spec) return { targets: null, from: null };
  const where = `known targets of ${base}`;
  const ids = spec.map((s) => {
    const toks = enc.encode(s);
    if (!toks.length) throw new CheckpointError(`${where}: target ${pyStr(s)} encodes to no token`);
    return toks[0]!; // as the release does: enc.encode(s)[0]
  });
  if (ids[0] === ids[1]) throw new CheckpointError(`${where}: needs two different target tokens, got ids [${ids.join(', ')}]`);
  return { targets: [ids[0]!, ids[1]!], from: `paper-notes section 5 (${base})` };
}

/** A stored {channel: activations} key as a channel index, or -1 (compare_task_sample_acts). */
export function storedChannel(c: unknown): number {
  if (typeof c === 'number' && Number.isInteger(c)) return c;
  if (c instanceof TorchTensor && c.numel === 1) return c.data[0]!;
  return -1;
}
