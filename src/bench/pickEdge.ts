import type { Intervention } from '../model/interventions';
import type { LoadedCheckpoint } from '../model/weights';

/** The largest-|w| entry of a layer's MLP output matrix, as an edge intervention (post_act -> resid_delta). */
export function strongestMlpOutEdge(ckpt: LoadedCheckpoint, layer: number): Intervention {
  const w = ckpt.tensors.get(`transformer.h.${layer}.mlp.c_proj.weight`);
  if (!w) throw new Error(`layer ${layer} has no mlp.c_proj.weight`);
  const [, nIn] = w.shape as [number, number];
  let best = 0;
  for (let i = 1; i < w.data.length; i++) if (Math.abs(w.data[i]!) > Math.abs(w.data[best]!)) best = i;
  const out = Math.floor(best / nIn);
  const inp = best % nIn;
  return { kind: 'edge', source: `${layer}.mlp.post_act:${inp}`, target: `${layer}.mlp.resid_delta:${out}`, mode: 'mean' };
}
