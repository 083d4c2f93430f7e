import { readFileSync } from 'node:fs';
import { parseSafetensors, toFloat32, toInt32 } from '../checkpoint/safetensors';
import { SparseGpt } from '../forward';
import { allSites, siteWidth } from '../sites';
import type { LoadedCheckpoint } from '../weights';
import { compareTrace, type TraceEntry } from './nearTies';

export interface GoldenDiff {
  /** "prompt 0 logits", "prompt 2 1.mlp.post_act", "prompt 1 near-tie at 0.attn.q position 5", ... */
  label: string;
  /** Max abs difference over what no AbsTopK near-tie explains; NaN when the golden file lacks the tensor (fails
   *  every tolerance). For a near-tie entry: the tie's |x| gap (within the tolerance). */
  diff: number;
  /** Max abs difference over every row, near-ties included. */
  rawDiff?: number;
  /** Why rows beyond the tolerance are not counted: the near-tie they are downstream of. */
  explainedBy?: string;
  /** Set on the entries that report a near-tie (src/model/testing/nearTies.ts). */
  nearTie?: string;
}

/**
 * Runs the TF.js forward (active backend) on every prompt of a golden.safetensors written by PyTorch
 * (train/export.py `golden`) and returns the max abs difference of the logits and of every hook site, with
 * differences caused by an AbsTopK near-tie (float32 rounding choosing another channel than PyTorch) reported and
 * set apart rather than failed or hidden.
 */
export async function goldenFileDiffs(checkpoint: LoadedCheckpoint, goldenPath: string, tol = 1e-4): Promise<GoldenDiff[]> {
  const golden = parseSafetensors(new Uint8Array(readFileSync(goldenPath)), 'golden.safetensors');
  const prompts = JSON.parse(golden.metadata.prompts ?? '[]') as string[];
  if (prompts.length === 0) return [{ label: 'golden file has no prompts', diff: Number.NaN }];
  const c = checkpoint.config;
  const model = new SparseGpt(checkpoint);
  const out: GoldenDiff[] = [];
  try {
    for (let p = 0; p < prompts.length; p++) {
      const tokensEntry = golden.tensors.get(`p${p}.tokens`);
      if (!tokensEntry) {
        out.push({ label: `prompt ${p}: golden file lacks p${p}.tokens`, diff: Number.NaN });
        continue;
      }
      const got = await model.run([...toInt32(tokensEntry)], { record: 'all' });
      const want = (key: string) => {
        const t = golden.tensors.get(`p${p}.${key}`);
        return t ? toFloat32(t) : undefined;
      };
      // Forward order, logits last: what a near-tie at one site can move comes after it.
      const entries: TraceEntry[] = allSites(c).map((site) => ({ label: site, got: got.sites.get(site), want: want(site), width: siteWidth(c, site), selects: true }));
      entries.push({ label: 'logits', got: got.logits, want: want('logits'), width: c.vocabSize });
      const { diffs, nearTies } = compareTrace(entries, { tol });
      for (const d of [diffs.at(-1)!, ...diffs.slice(0, -1)]) {
        out.push({ label: `prompt ${p} ${d.label}`, diff: d.diff, rawDiff: d.rawDiff, ...(d.explainedBy ? { explainedBy: d.explainedBy } : {}) });
      }
      for (const t of nearTies) out.push({ label: `prompt ${p} near-tie at ${t.site} position ${t.position}`, diff: t.gap, nearTie: t.message });
    }
  } finally {
    model.dispose();
  }
  return out;
}
