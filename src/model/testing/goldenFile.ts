import { readFileSync } from 'node:fs';
import { parseSafetensors, toFloat32, toInt32 } from '../checkpoint/safetensors';
import { SparseGpt } from '../forward';
import { interventionListSchema } from '../interventions';
import { allSites, siteWidth, type SiteName } from '../sites';
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
  /** The tolerance this entry was held to (scaledTol); absent on entries that carry no comparison. */
  tol?: number;
}

/**
 * Relative part of the golden tolerance. Two float32 implementations (PyTorch with MKL, TF.js with XNNPACK) sum a
 * dot product in different orders, so they agree to a few ulps of the magnitudes involved, not to a fixed number:
 * the ulp at 128 is 1.5e-5, and a residual stream whose values reach 150 (a dense model's outlier channel) differs
 * by ~1.1e-6 of that between the two. Every tensor is held to tol + GOLDEN_REL_TOL × max|expected|, which is tol
 * within 1% wherever values stay below 10 (the sparse models, logits) and about 8 float32 ulps of the largest value
 * above that.
 */
export const GOLDEN_REL_TOL = 1e-6;

/** tol plus GOLDEN_REL_TOL of the largest |value| the golden file expects for this tensor. */
export function scaledTol(tol: number, want: ArrayLike<number> | undefined): number {
  let m = 0;
  for (let i = 0; want && i < want.length; i++) m = Math.max(m, Math.abs(want[i]!));
  return tol + GOLDEN_REL_TOL * m;
}

/** What golden.safetensors' "edge_ablations" metadata holds (train/reference_runs.py `edge_golden`). */
interface EdgeAblationGolden {
  prompt: number;
  positions: number[];
  lists: unknown[];
}

/**
 * Runs the TF.js forward (active backend) on every prompt of a golden.safetensors written by PyTorch
 * (train/export.py `golden`) and returns the max abs difference of the logits and of every hook site, with
 * differences caused by an AbsTopK near-tie (float32 rounding choosing another channel than PyTorch) reported and
 * set apart rather than failed or hidden. When the file has edge-ablation results (PyTorch's own path patching and
 * q·k score edit, train/edge_ablation.py), each list is replayed through the runtime's interventions and its logits and
 * residual-edge readers at the stored positions are compared the same way.
 */
export async function goldenFileDiffs(checkpoint: LoadedCheckpoint, goldenPath: string, tol = 1e-4): Promise<GoldenDiff[]> {
  return goldenBytesDiffs(checkpoint, new Uint8Array(readFileSync(goldenPath)), tol);
}

/** goldenFileDiffs on the golden file's bytes (no file system: the browser harness runs it too). */
export async function goldenBytesDiffs(checkpoint: LoadedCheckpoint, goldenBytes: Uint8Array, tol = 1e-4): Promise<GoldenDiff[]> {
  const golden = parseSafetensors(goldenBytes, 'golden.safetensors');
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
      const { diffs, nearTies } = compareTrace(withScaledTol(entries, tol), { tol });
      for (const d of [diffs.at(-1)!, ...diffs.slice(0, -1)]) {
        out.push({ label: `prompt ${p} ${d.label}`, diff: d.diff, rawDiff: d.rawDiff, tol: d.tol, ...(d.explainedBy ? { explainedBy: d.explainedBy } : {}) });
      }
      for (const t of nearTies) out.push({ label: `prompt ${p} near-tie at ${t.site} position ${t.position}`, diff: t.gap, nearTie: t.message });
    }
    const edges = golden.metadata.edge_ablations;
    if (edges) {
      const spec = JSON.parse(edges) as EdgeAblationGolden;
      const tokens = golden.tensors.get(`p${spec.prompt}.tokens`);
      if (!tokens) out.push({ label: `edge ablations: golden file lacks p${spec.prompt}.tokens`, diff: Number.NaN });
      for (let i = 0; tokens && i < spec.lists.length; i++) {
        const list = interventionListSchema.parse(spec.lists[i]);
        const readers = allSites(c).filter((s) => golden.tensors.has(`e${i}.${s}`));
        const got = await model.run([...toInt32(tokens)], { interventions: list, record: readers });
        const at = (data: Float32Array, width: number) => Float32Array.from(spec.positions.flatMap((t) => [...data.subarray(t * width, (t + 1) * width)]));
        const entries: TraceEntry[] = readers.map((site: SiteName) => ({
          label: site, got: at(got.sites.get(site)!, siteWidth(c, site)), want: toFloat32(golden.tensors.get(`e${i}.${site}`)!),
          width: siteWidth(c, site), selects: true, positionOfRow: (r: number) => spec.positions[r]!,
        }));
        const logits = golden.tensors.get(`e${i}.logits`);
        entries.push({ label: 'logits', got: at(got.logits, c.vocabSize), want: logits && toFloat32(logits), width: c.vocabSize, positionOfRow: (r) => spec.positions[r]! });
        const { diffs, nearTies } = compareTrace(withScaledTol(entries, tol), { tol });
        const name = `edge ablation ${i} (${JSON.stringify(spec.lists[i])})`;
        for (const d of diffs) out.push({ label: `${name} ${d.label}`, diff: d.diff, rawDiff: d.rawDiff, tol: d.tol, ...(d.explainedBy ? { explainedBy: d.explainedBy } : {}) });
        for (const t of nearTies) out.push({ label: `${name} near-tie at ${t.site} position ${t.position}`, diff: t.gap, nearTie: t.message });
      }
    }
  } finally {
    model.dispose();
  }
  return out;
}

/** Each entry held to scaledTol of what it expects. */
function withScaledTol(entries: readonly TraceEntry[], tol: number): TraceEntry[] {
  return entries.map((e) => ({ ...e, tol: scaledTol(tol, e.want) }));
}
