import { extractEdges } from '../circuit/edges';
import { loadModelFolder } from '../model/checkpoint/loadModelFolder';
import { CheckpointError } from '../model/checkpoint/errors';
import type { ImportViz, VizInput } from '../model/checkpoint/release/convertRelease';
import { shapeStr } from '../model/checkpoint/release/pyRepr';
import {
  asFloat, promptsOf, readTaskSamples, readViz, resolveTargets, sampleHypotheses, storedChannel, type TaskSamples,
} from '../model/checkpoint/release/releaseViz';
import {
  chooseReading, MAX_LISTED, noReadingMessage, sortedKept, storedLayerLosses, vizFiles, type ActsCheck, type VizFiles,
} from '../model/checkpoint/release/releaseVizFiles';
import { mapSource } from '../model/checkpoint/sources';
import { TorchTensor } from '../model/checkpoint/torch/tensorRebuild';
import { SparseGpt } from '../model/forward';
import type { Intervention } from '../model/interventions';
import { allSites, nodeId, siteWidth, type NodeRef } from '../model/sites';
import { tf } from '../model/tfjs';
import type { LoadedCheckpoint } from '../model/weights';
import type { BpeTokenizer } from '../tokenizer/bpe';
import type { TargetPrompt, Variant } from './protocol';
import { evalTask } from './taskEval';
import { yieldToMessages } from './yieldToMessages';

/**
 * The released circuits (viz_data.pt) of a release converted in the page, as train/openai_import/viz_import.py imports
 * them: each file's circuit and task samples are read (model/checkpoint/release/releaseViz.ts), the sample reading
 * whose full-model loss matches the stored loss is chosen, and the circuit is evaluated on the converted model, with
 * the worker's task evaluation (evalTask) and the circuit room's edge extraction, under mean ablation: the full model,
 * the circuit, the circuit's nodes ablated, every node ablated, and each stored layer's circuit nodes ablated as well.
 * The stored task-sample activations are compared with ours. releaseVizFiles.ts lays the files out.
 */

/** Recorded as the command that converted the files (the Python importer records its own). */
export const PAGE_COMMAND = 'converted in the browser by the Sparse Circuit Explorer';

const mean = 'mean' as const;

/** One converted folder's viz files -> their task and circuit files, in the order given. */
export const importReleaseViz: ImportViz = async (folder, viz, ctx) => {
  const { checkpoint, tokenizer } = await loadModelFolder(mapSource(folder, 'the converted release'), { signal: ctx.signal });
  const model = new SparseGpt(checkpoint);
  try {
    const out: VizFiles[] = [];
    for (const v of viz) out.push(await importOne(model, checkpoint, tokenizer, v, ctx));
    return out;
  } finally {
    model.dispose();
  }
};

async function importOne(model: SparseGpt, ckpt: LoadedCheckpoint, enc: BpeTokenizer, v: VizInput, ctx: Parameters<ImportViz>[2]): Promise<VizFiles> {
  const { signal } = ctx;
  const config = ckpt.config;
  const step = async (what: string) => {
    ctx.onStage(`circuit ${v.task}: ${what}`, v.path);
    await yieldToMessages();
    signal?.throwIfAborted();
  };
  await step('unpickling (only tensors, storages and OrderedDict are allowed)');
  const read = readViz(v.bytes, v.path, config);
  const kept = sortedKept(read);
  const nodes: NodeRef[] = allSites(config).flatMap((site) => (kept.get(site) ?? []).map((channel) => ({ site, channel })));
  const ids = nodes.map(nodeId);
  const samples = readTaskSamples(read.importances, config, v.path);
  const { targets, from } = resolveTargets(enc, v.task);
  const hyps = sampleHypotheses(samples.rows, targets);
  if (!hyps.length) throw new CheckpointError(noReadingMessage(v.path, v.task), { file: v.path });

  const never = new AbortController().signal;
  const evaluate = async (prompts: TargetPrompt[], variants: Variant[]) =>
    (await evalTask(model, prompts, variants, () => {}, signal ?? never)).variants;

  await step(`choosing among ${hyps.length} readings of task_samples`);
  const scored = [];
  for (const h of hyps) {
    const [full] = await evaluate(promptsOf(h.pairs), [{ label: h.name, interventions: [] }]);
    scored.push({ name: h.name, pairs: h.pairs, loss: full!.loss });
  }
  const reading = chooseReading(scored, asFloat(read.importances.get('loss')));

  await step('evaluating the circuit under mean ablation');
  const circuitIv: Intervention[] = [{ kind: 'circuit', nodes: ids, mode: mean }];
  const layers = storedLayerLosses(read) ?? [];
  const [full, circuit, ablated, zero, ...perLayer] = await evaluate(promptsOf(reading.pairs), [
    { label: 'full model', interventions: [] },
    { label: 'circuit', interventions: circuitIv },
    { label: 'circuit ablated', interventions: ids.map((node) => ({ kind: 'node', node, mode: mean })) },
    { label: 'every node ablated', interventions: [{ kind: 'circuit', nodes: [], mode: mean }] },
    ...layers.map(([key]) => ({ label: `${key} ablated too`, interventions: [{ kind: 'circuit' as const, nodes: ids.filter((id) => !id.startsWith(`${key}.`)), mode: mean }] })),
  ]);
  await step('comparing the stored task-sample activations');
  const acts = await compareTaskSampleActs(model, samples, circuitIv);
  await step('listing the edges');
  const edges = extractEdges(ckpt, nodes);
  return vizFiles(read, config, enc, {
    task: v.task, path: v.path, sha256: v.sha256, modelId: ctx.id, command: PAGE_COMMAND, backend: `tfjs-${tf.getBackend()}`,
  }, {
    reading, full: full!, circuit: circuit!, ablated: ablated!, zeroLoss: zero!.loss,
    layerLosses: new Map(layers.map(([key], i) => [key, perLayer[i]!.loss])), acts, edges,
  }, from);
}

/**
 * The stored task-sample activations (under the circuit's mean ablation) against ours on the padded rows
 * (viz_import.compare_task_sample_acts). A stored tensor whose shape differs from ours ([N, T]) is listed as not
 * compared, with both shapes: a max difference over nothing would read as a perfect match.
 */
async function compareTaskSampleActs(model: SparseGpt, samples: TaskSamples, interventions: Intervention[]): Promise<ActsCheck> {
  const out: ActsCheck = { task_sample_acts_max_abs_diff: null, task_sample_acts_compared: 0, task_sample_acts_not_compared: [] };
  const stored = samples.storedActs;
  if (!(stored instanceof Map) || stored.size === 0) return out;
  const config = model.config;
  const sites = new Set<string>(allSites(config));
  const record = [...stored.keys()].filter((loc): loc is string => typeof loc === 'string' && sites.has(loc));
  const [N, T] = samples.tokens.shape as [number, number];
  const tok = tf.tensor2d(Int32Array.from(samples.tokens.data), [N, T], 'int32');
  const rec = new Map<string, Float32Array>();
  try {
    const { logits, records } = model.forwardTensors(tok, { record, interventions });
    logits.dispose();
    for (const [site, t] of records) {
      rec.set(site, (await t.data()) as Float32Array);
      t.dispose();
    }
  } finally {
    tok.dispose();
  }
  let diff: number | null = null;
  const skipped: string[] = [];
  for (const [loc, perCh] of stored) {
    if (!rec.has(loc as string) || !(perCh instanceof Map)) {
      skipped.push(!rec.has(loc as string) ? `${String(loc)}: not a site of this model` : `${String(loc)}: a ${perCh instanceof TorchTensor ? 'Tensor' : Array.isArray(perCh) ? 'list' : typeof perCh}, not {channel: activations}`);
      continue;
    }
    const ours = rec.get(loc as string)!;
    const w = siteWidth(config, loc as string);
    for (const [c, a] of perCh) {
      const ch = storedChannel(c);
      const has = ch >= 0 && ch < w;
      if (!has || !(a instanceof TorchTensor) || a.shape.length !== 2 || a.shape[0] !== N || a.shape[1] !== T) {
        const got = a instanceof TorchTensor ? shapeStr(a.shape) : a === null ? 'NoneType' : Array.isArray(a) ? 'list' : typeof a;
        skipped.push(`${String(loc)}:${String(c)}: not compared: stored ${got}, ours ${has ? shapeStr([N, T]) : 'none (not a channel of the site)'}`);
        continue;
      }
      let d = 0;
      for (let i = 0; i < N * T; i++) d = Math.max(d, Math.abs(ours[i * w + ch]! - Math.fround(a.data[i]!)));
      diff = diff === null ? d : Math.max(diff, d);
      out.task_sample_acts_compared++;
    }
  }
  out.task_sample_acts_max_abs_diff = diff;
  out.task_sample_acts_not_compared = [...skipped.slice(0, MAX_LISTED), ...(skipped.length > MAX_LISTED ? [`... and ${skipped.length - MAX_LISTED} more`] : [])];
  return out;
}
