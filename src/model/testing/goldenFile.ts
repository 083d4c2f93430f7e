import { readFileSync } from 'node:fs';
import { parseSafetensors, toFloat32, toInt32 } from '../checkpoint/safetensors';
import { SparseGpt } from '../forward';
import { allSites } from '../sites';
import type { LoadedCheckpoint } from '../weights';
import { maxAbsDiff } from './goldenDiffs';

export interface GoldenDiff {
  /** "prompt 0 logits", "prompt 2 1.mlp.post_act", ... */
  label: string;
  /** Max abs difference; NaN when the golden file lacks the tensor (fails every tolerance). */
  diff: number;
}

/**
 * Runs the TF.js forward (active backend) on every prompt of a golden.safetensors written by PyTorch
 * (train/export.py `golden`) and returns the max abs difference of the logits and of every hook site.
 */
export async function goldenFileDiffs(checkpoint: LoadedCheckpoint, goldenPath: string): Promise<GoldenDiff[]> {
  const golden = parseSafetensors(new Uint8Array(readFileSync(goldenPath)), 'golden.safetensors');
  const prompts = JSON.parse(golden.metadata.prompts ?? '[]') as string[];
  if (prompts.length === 0) return [{ label: 'golden file has no prompts', diff: Number.NaN }];
  const model = new SparseGpt(checkpoint);
  const out: GoldenDiff[] = [];
  try {
    for (let p = 0; p < prompts.length; p++) {
      const tokens = [...toInt32(golden.tensors.get(`p${p}.tokens`)!)];
      const got = await model.run(tokens, { record: 'all' });
      out.push({ label: `prompt ${p} logits`, diff: maxAbsDiff(got.logits, toFloat32(golden.tensors.get(`p${p}.logits`)!)) });
      for (const site of allSites(checkpoint.config)) {
        const want = golden.tensors.get(`p${p}.${site}`);
        out.push({ label: `prompt ${p} ${site}`, diff: want ? maxAbsDiff(got.sites.get(site)!, toFloat32(want)) : Number.NaN });
      }
    }
  } finally {
    model.dispose();
  }
  return out;
}
