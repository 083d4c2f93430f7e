import type { ModelConfig } from '../../config';
import type { EdgeKind } from '../../registry';
import { allSites, siteWidth } from '../../sites';
import type { BpeTokenizer } from '../../../tokenizer/bpe';
import { CheckpointError } from '../errors';
import { TorchTensor } from '../torch/tensorRebuild';
import { asFloat, jsonable, KNOWN_TARGETS, type ReadViz, type VizPair, type VizPrompt } from './releaseViz';

/**
 * The files one viz_data.pt becomes, tasks/<task>.json and circuits/<task>.json, and the card's summary of it, laid
 * out field for field as train/openai_import/viz_import.py writes them. The numbers that need the model (losses under
 * ablation, layer losses, activations, edges) are measured by the caller and passed in; everything else is read from
 * the file here.
 *
 * Loss scales: the release sums the two prompts' losses of a contrast pair, so every stored loss is twice the
 * per-prompt loss stored here (docs/openai-import.md, "Losses").
 */

/** The paper's pruning target, per-prompt scale (docs/circuits.md). */
export const TARGET_LOSS = 0.15;
/** Problems listed by name in a check; the rest are counted. */
export const MAX_LISTED = 10;

export interface Metrics {
  loss: number;
  accuracy: number;
}

export interface ScoredReading {
  name: string;
  pairs: VizPair[];
  /** Full-model per-prompt loss of the reading. */
  loss: number;
}

export interface ChosenReading {
  name: string;
  pairs: VizPair[];
  reason: string;
  scored: [string, number][];
}

export interface ActsCheck {
  task_sample_acts_max_abs_diff: number | null;
  task_sample_acts_compared: number;
  task_sample_acts_not_compared: string[];
}

export interface VizEdge {
  source: string;
  target: string;
  weight: number;
  kind: EdgeKind;
}

/** What the caller measured with the model for one viz file. */
export interface VizMeasurements {
  reading: ChosenReading;
  full: Metrics;
  circuit: Metrics;
  /** The circuit's own nodes ablated. */
  ablated: Metrics;
  /** Every node ablated. */
  zeroLoss: number;
  /** Per stored layer key ("0.attn"): the loss with that sublayer's circuit nodes ablated as well. */
  layerLosses: Map<string, number>;
  acts: ActsCheck;
  edges: VizEdge[];
}

export interface VizSource {
  task: string;
  /** The viz file's path as given (recorded as imported_from). */
  path: string;
  sha256: string;
  modelId: string;
  /** What converted it (recorded as provenance.command and in backend). */
  command: string;
  /** The runtime's backend, e.g. "tfjs-cpu". */
  backend: string;
}

export interface VizFiles {
  taskFile: Record<string, unknown>;
  circuitFile: Record<string, unknown>;
  /** The model card's entry under circuits. */
  summary: Record<string, unknown>;
}

/** The reading whose full-model loss (x2) is closest to the stored loss; without one, the lowest loss (choose_reading). */
export function chooseReading(scored: readonly ScoredReading[], storedLoss: number | null): ChosenReading {
  const key = (s: ScoredReading) => (storedLoss === null ? s.loss : Math.abs(2 * s.loss - storedLoss));
  let best = scored[0]!;
  for (const s of scored) if (key(s) < key(best)) best = s;
  return {
    name: best.name, pairs: best.pairs,
    reason: storedLoss === null ? 'no stored loss: the lowest full-model loss' : 'closest to the stored full-model loss',
    scored: scored.map((s) => [s.name, s.loss]),
  };
}

/** Kept channels per site, ascending. */
export function sortedKept(read: ReadViz): Map<string, number[]> {
  return new Map([...read.keptOrder].map(([s, c]) => [s, [...c].sort((a, b) => a - b)]));
}

/** {site:channel: (ch_interv_loss - interv_loss) / 2}: the per-prompt loss increase when the node is also ablated.
 *  ch_interv_losses lists are aligned with circuit_data's own (unsorted) order. */
function nodeScores(read: ReadViz, storedInterv: number | null, src: string): Map<string, number> {
  const chLosses = read.importances.get('ch_interv_losses');
  const out = new Map<string, number>();
  if (!(chLosses instanceof Map) || storedInterv === null) return out;
  for (const [loc, chans] of read.keptOrder) {
    const vals = chLosses.get(loc);
    if (vals === undefined || vals === null) continue;
    const list = vals instanceof TorchTensor ? Array.from(vals.data) : Array.isArray(vals) ? vals.map((v) => asFloat(v) ?? NaN) : [];
    if (list.length !== chans.length) {
      throw new CheckpointError(`${src}: ch_interv_losses["${loc}"] has ${list.length} values for ${chans.length} circuit channels`, { file: src });
    }
    chans.forEach((c, i) => out.set(`${loc}:${c}`, (list[i]! - storedInterv) / 2));
  }
  return out;
}

const rel = (a: number, b: number | null) => (b === null ? null : Math.abs(a - b) / Math.max(Math.abs(b), 1e-12));

/** Stored per-layer losses ({"0.attn": x2 loss}) as a list of entries, or null when absent. */
export function storedLayerLosses(read: ReadViz): [string, number][] | null {
  const s = read.importances.get('layer_interv_losses');
  return s instanceof Map ? [...s].map(([k, v]) => [String(k), asFloat(v) ?? NaN]) : null;
}

function displayText(enc: BpeTokenizer, tokens: readonly number[]): string {
  return enc.decode(tokens) || ' ';
}

/** The task file, the circuit file and the card's summary of one viz file (viz_import.import_viz's output). */
export function vizFiles(read: ReadViz, config: ModelConfig, enc: BpeTokenizer, src: VizSource, m: VizMeasurements, targetsFrom: string | null): VizFiles {
  const { viz, importances: imp } = read;
  const kept = sortedKept(read);
  const k = [...kept.values()].reduce((a, c) => a + c.length, 0);
  const storedLoss = asFloat(imp.get('loss'));
  const storedInterv = asFloat(imp.get('interv_loss'));
  const total = allSites(config).reduce((a, s) => a + siteWidth(config, s), 0);
  const scores = nodeScores(read, storedInterv, src.path);
  const nodes = allSites(config).flatMap((site) => (kept.get(site) ?? []).map((channel) => {
    const score = scores.get(`${site}:${channel}`);
    return score === undefined ? { site, channel } : { site, channel, score };
  }));
  const counts = { weight: 0, residual: 0, qk: 0 };
  for (const e of m.edges) counts[e.kind as keyof typeof counts]++;

  const layers = storedLayerLosses(read);
  const curve: [number, number][] = [];
  const allLoss = viz.get('all_loss');
  for (const item of Array.isArray(allLoss) ? allLoss : []) {
    const a = Array.isArray(item) ? asFloat(item[0]) : null;
    const b = Array.isArray(item) ? asFloat(item[1]) : null;
    if (a !== null && b !== null) curve.push([a, b / 2]);
  }
  const numTotal = viz.get('num_total_nodes');
  const released = {
    loss_x2: storedLoss, interv_loss_x2: storedInterv,
    loss: storedLoss === null ? null : storedLoss / 2,
    interv_loss: storedInterv === null ? null : storedInterv / 2,
    layer_interv_losses: layers ? Object.fromEntries(layers.map(([a, b]) => [a, b / 2])) : null,
    layer_ablation_delta: layers && storedInterv !== null ? Object.fromEntries(layers.map(([a, b]) => [a, (b - storedInterv) / 2])) : null,
    num_total_nodes: numTotal === undefined ? null : Math.trunc(asFloat(numTotal) ?? NaN),
    prune_config: jsonable(viz.has('prune_config') ? viz.get('prune_config') : read.circuitExtra.get('prune_config')),
  };
  const layerRel = layers ? layers.map(([key, x2]) => rel(m.layerLosses.get(key) ?? NaN, x2 / 2)!) : [];
  const checks = {
    circuit_loss_vs_stored_interv_loss_rel: rel(2 * m.circuit.loss, storedInterv),
    full_model_loss_vs_stored_loss_rel: rel(2 * m.full.loss, storedLoss),
    layer_interv_losses_vs_ours_max_rel: layerRel.length ? Math.max(...layerRel) : null,
    ...m.acts,
    num_total_nodes_matches: released.num_total_nodes === null ? null : released.num_total_nodes === total,
  };
  const circuitFile = {
    task: src.task, model: src.modelId, ablation: 'mean', k, nodes, edges: m.edges,
    edge_count: m.edges.length, target_loss: TARGET_LOSS,
    full_model_loss: m.full.loss, full_model_accuracy: m.full.accuracy,
    circuit_loss: m.circuit.loss, circuit_accuracy: m.circuit.accuracy,
    ablated_loss: m.ablated.loss, ablated_accuracy: m.ablated.accuracy,
    logit_scale: 1, logit_shift: 0,
    loss_at_k: [[0, m.zeroLoss], [k, m.circuit.loss], [total, m.full.loss]],
    pruning_curve: curve,
    prune_seconds: 0,
    prune_config: {
      imported_from: src.path, viz_data_sha256: src.sha256, sample_reading: m.reading.name,
      released, checks,
      scales: 'losses here are per prompt; the released loss/interv_loss/ch_interv_losses/layer_interv_losses/all_loss are per contrast pair (x2) and are halved',
      node_score: '(released ch_interv_loss - interv_loss) / 2: the per-prompt loss increase when the node is also ablated (not a mask parameter)',
      layer_ablation_delta: '(released layer_interv_loss - interv_loss) / 2 (viz.py shows layer_interv_loss - interv_loss / 2; see docs/openai-import.md)',
      pruning_curve: 'released all_loss: [round, loss / 2]',
    },
    total_nodes: total, edge_counts: counts,
    train_circuit_loss: m.circuit.loss, reached_target: m.circuit.loss <= TARGET_LOSS,
    test_pairs: m.reading.pairs.length, train_pairs: m.reading.pairs.length, backend: `${src.backend} (${src.command})`,
  };

  const n = m.reading.pairs.length;
  const promptJson = (p: VizPrompt) => ({ text: displayText(enc, p.tokens), tokens: p.tokens, correct: p.correct, alternative: p.alternative });
  const both = m.reading.pairs.map(([a, b], i) => ({ a: promptJson(a), b: promptJson(b), source: `${src.path} rows ${i} and ${i + n}` }));
  const first = m.reading.pairs[0]!;
  const taskFile = {
    task: src.task,
    description: `Imported from OpenAI's released circuit-sparsity viz data (${src.path}): a = class 1 rows (first half of task_samples), b = class 2 rows (second half).`,
    target_tokens: [enc.decode([first[0].correct]), enc.decode([first[1].correct])],
    train: both, test: both,
    provenance: {
      command: src.command, imported_from: src.path, viz_data_sha256: src.sha256,
      sample_reading: m.reading.name, sample_reading_reason: m.reading.reason,
      candidates_loss_x2: Object.fromEntries(m.reading.scored.map(([name, loss]) => [name, 2 * loss])),
      targets_from: targetsFrom, padding: 'trailing token-0 padding removed',
      split: 'none: the release stores one sample set, so train and test both hold every pair',
    },
  };
  const summary = {
    task: src.task, k, edges: m.edges.length, circuit_loss: m.circuit.loss, full_model_loss: m.full.loss,
    stored_interv_loss_halved: released.interv_loss, stored_loss_halved: released.loss,
    sample_reading: m.reading.name, ...checks,
  };
  return { taskFile, circuitFile, summary };
}

/** Why a viz file's readings cannot be told apart (no known targets, rows without distinct last tokens). */
export function noReadingMessage(path: string, task: string): string {
  return `${path}: cannot tell the target tokens of task "${task}": the page knows the targets of ${Object.keys(KNOWN_TARGETS).join(', ')} only; `
    + `convert it with python train/openai_import --targets '${task}=["<correct of class 1>", "<correct of class 2>"]'`;
}
