import type { ModelConfig } from '../config';
import { allSites, siteWidth } from '../sites';
import { CheckpointError } from './errors';
import { parseSafetensors, toFloat32, isFloatDtype } from './safetensors';

export const MEANS_FILE = 'means.safetensors';

export interface MeansResult {
  /** Site name -> mean per channel. Empty when the folder has no means file. */
  means: Map<string, Float32Array>;
  /** Notes for the user (e.g. that mean ablation is unavailable). */
  warnings: string[];
}

export const NO_MEANS_WARNING = `${MEANS_FILE} not found: mean ablation is unavailable for this model (zero ablation still works)`;

/**
 * Reads means.safetensors: one float tensor per hook site, named as the site, of shape [siteWidth].
 * `bytes === null` (file missing) gives an empty map and a warning.
 */
export function readMeans(bytes: ArrayBuffer | Uint8Array | null, config: ModelConfig, fileName = MEANS_FILE): MeansResult {
  if (bytes === null) return { means: new Map(), warnings: [NO_MEANS_WARNING] };
  const file = parseSafetensors(bytes, fileName);
  const err = (msg: string, site?: string) => new CheckpointError(`${fileName}: ${msg}`, { file: fileName, tensor: site });
  const sites = allSites(config);
  const means = new Map<string, Float32Array>();
  const missing: string[] = [];
  for (const site of sites) {
    const e = file.tensors.get(site);
    if (!e) {
      missing.push(site);
      continue;
    }
    const width = siteWidth(config, site);
    if (!isFloatDtype(e.dtype)) throw err(`site "${site}" has dtype ${e.dtype}, expected F32`, site);
    if (e.numel !== width || e.shape.length !== 1) {
      throw err(`site "${site}" has shape [${e.shape.join(',')}], expected [${width}] (the site's width)`, site);
    }
    const data = Float32Array.from(toFloat32(e));
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw err(`site "${site}" has a non-finite mean (${data[bad]}) at channel ${bad}`, site);
    means.set(site, data);
  }
  if (missing.length) {
    throw err(
      `missing the mean of ${missing.length} hook site(s): ${missing.slice(0, 5).map((s) => `"${s}"`).join(', ')}` +
        `${missing.length > 5 ? ', ...' : ''}`,
      missing[0],
    );
  }
  const known = new Set<string>(sites);
  const extra = [...file.tensors.keys()].filter((k) => !known.has(k));
  const warnings = extra.length
    ? [`${fileName}: ${extra.length} tensor(s) that are not hook sites of this model are ignored: ${extra.slice(0, 5).join(', ')}`]
    : [];
  return { means, warnings };
}
