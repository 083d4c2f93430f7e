import type { ModelConfig } from '../../config';
import { allSites, siteWidth } from '../../sites';
import { CheckpointError } from '../errors';
import { TorchTensor } from '../torch/tensorRebuild';
import { listed, pyStrList, shapeStr } from './pyRepr';

/**
 * A released mean_baseline_pretrain.pt (read by torch/readTorchFile.ts) -> one mean per hook-site channel, by the
 * rules of train/openai_import/tokenizer_means.py (means_from_baseline). The released structure is unverified; what is
 * accepted is {site: tensor[width]} keyed by our hook-site names, optionally one dict level down, with leading
 * singleton dimensions squeezed. Per-position means are refused (the runtime ablates with one mean per channel).
 */

export interface ReleaseMeans {
  /** Site -> mean per channel, in hook-site order. */
  means: Map<string, Float32Array>;
  /** Keys that are not sites of this model (at most 20, sorted): the model card lists them. */
  ignoredKeys: string[];
}

function asTensor(v: unknown): { shape: number[]; data: Float32Array } | null {
  if (v instanceof TorchTensor) return { shape: [...v.shape], data: v.data instanceof Float32Array ? v.data : Float32Array.from(v.data) };
  // torch.as_tensor of a (nested) list of numbers
  const shape: number[] = [];
  let level: unknown = v;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  if (shape.length === 0) return typeof v === 'number' ? { shape: [], data: Float32Array.of(v) } : null;
  const flat = (v as unknown[]).flat(shape.length - 1);
  const numel = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== numel || !flat.every((x) => typeof x === 'number')) return null;
  return { shape, data: Float32Array.from(flat as number[]) };
}

export function meansFromBaseline(obj: unknown, config: ModelConfig, src: string): ReleaseMeans {
  const err = (msg: string, tensor?: string) => new CheckpointError(`${src}: ${msg}`, { file: src, tensor });
  const names = allSites(config);
  const hasSites = (d: unknown): d is Map<unknown, unknown> => d instanceof Map && names.some((n) => d.has(n));
  let dict: Map<unknown, unknown>;
  if (hasSites(obj)) dict = obj;
  else {
    const inner = obj instanceof Map ? [...obj.values()].filter(hasSites) : [];
    if (inner.length !== 1) {
      const keys = obj instanceof Map ? pyStrList([...obj.keys()].slice(0, 10).map(String)) : obj === null ? 'NoneType' : typeof obj;
      throw err(`unrecognised mean-baseline structure (top-level keys: ${keys}); expected {site: tensor[width]} with sites such as ${names[0]}, ${names[names.length - 1]}`);
    }
    dict = inner[0]!;
  }
  const missing = names.filter((n) => !dict.has(n));
  if (missing.length) throw err(`no mean for site(s) ${listed(missing)}`, missing[0]);
  const means = new Map<string, Float32Array>();
  for (const site of names) {
    const w = siteWidth(config, site);
    const t = asTensor(dict.get(site));
    if (!t) throw err(`mean of site "${site}" is not a tensor or a list of numbers`, site);
    const stored = shapeStr(t.shape);
    let shape = t.shape;
    while (shape.length > 1 && shape[0] === 1) shape = shape.slice(1);
    if (shape.length !== 1 || shape[0] !== w) {
      throw err(`mean of site "${site}" has shape ${stored}, expected [${w}]${shape.length > 1 ? ' (per-position means are not supported)' : ''}`, site);
    }
    means.set(site, t.data);
  }
  const known = new Set<string>(names);
  const ignoredKeys = [...dict.keys()].map(String).filter((k) => !known.has(k)).sort().slice(0, 20);
  return { means, ignoredKeys };
}
