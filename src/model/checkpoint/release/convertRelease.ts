import { ConfigError, parseConfig } from '../../config';
import { BpeTokenizer, TokenizerError } from '../../../tokenizer/bpe';
import { END_OF_TEXT } from '../../../tokenizer/dataGym';
import { CheckpointError } from '../errors';
import { readStreamWithProgress } from '../sources';
import { readTorchFile } from '../torch/readTorchFile';
import { compactModelFile, jsonFile, meansFile, paramCounts, sha256Hex } from './folderFiles';
import { convertReleaseConfig } from './releaseConfig';
import { meansFromBaseline } from './releaseMeans';
import type { ReleaseFiles } from './releaseFiles';
import { normalizeReleaseState } from './releaseWeights';
import type { VizFiles } from './releaseVizFiles';

/**
 * An OpenAI circuit-sparsity release (final_model.pt + beeg_config.json + the tokenizer, optionally
 * mean_baseline_pretrain.pt) -> the files of one of our model folders (docs/model-folder.md), as
 * `python train/openai_import` writes them: config.json, model.safetensors (compact), means.safetensors,
 * tokenizer/ (byte for byte) and model-card.json. The folder then loads through loadModelFolder like any other, so
 * the runtime holds exactly what it would hold after the Python conversion. No golden.safetensors (it needs PyTorch's
 * reference run). The released circuits (viz_data.pt) become tasks/ and circuits/ when the caller passes `importViz`
 * (their import runs the converted model, which the engine worker does: src/worker/releaseVizImport.ts); without
 * it they are listed in the notes as not converted.
 */

export interface ConvertProgress {
  /** What is happening, e.g. "reading" or "converting". */
  stage: string;
  file: string;
  loadedBytes: number;
  totalBytes: number | null;
}

export interface ConvertReleaseOptions {
  onProgress?: (p: ConvertProgress) => void;
  signal?: AbortSignal;
  /** The folder's id (default: the released model's folder name). */
  id?: string;
  /** Config keys known not to change the forward pass (--ignore-config-key). */
  ignoreConfigKeys?: readonly string[];
  /** Checkpoint tensors known to be harmless (--drop-key). */
  dropKeys?: readonly string[];
  /** Imports the viz_data.pt files into task and circuit files by running the converted model (python --viz). */
  importViz?: ImportViz;
}

/** A released viz_data.pt, read. */
export interface VizInput {
  task: string;
  path: string;
  bytes: Uint8Array;
  sha256: string;
}

/**
 * The converted folder so far (config, weights, means, tokenizer) and its viz files -> per file, its task file, its
 * circuit file and the card's summary, in the order given.
 */
export type ImportViz = (
  folder: ReadonlyMap<string, Uint8Array>,
  viz: readonly VizInput[],
  ctx: { id: string; signal?: AbortSignal; onStage: (stage: string, file: string) => void },
) => Promise<VizFiles[]>;

export interface ConvertedRelease {
  id: string;
  name: string;
  /** Folder-relative path -> bytes. */
  files: Map<string, Uint8Array>;
  notes: string[];
}

const ORIGIN = 'OpenAI circuit-sparsity release (Gao et al. 2025), converted in the browser by the Sparse Circuit Explorer';
const MEANS_STRUCTURE = 'assumed {site: tensor[width]} keyed by hook-site names (unverified on the released file)';

function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CheckpointError(`${file}: not valid UTF-8 text`, { file });
  }
}

/** The tokenizer checks of train/openai_import/tokenizer_means.py (load_tokenizer), with its notes. */
function checkTokenizer(encoderText: string, vocabText: string, vocabSize: number, encName: string, vocName: string): string[] {
  try {
    BpeTokenizer.fromDataGym(encoderText, vocabText, { vocabSize, encoderName: encName, vocabName: vocName });
  } catch (e) {
    if (e instanceof TokenizerError) throw new CheckpointError(e.message, { file: encName, cause: e });
    throw e;
  }
  const encoder = JSON.parse(encoderText) as Record<string, number>;
  const nRanks = Object.keys(encoder).filter((k) => k !== END_OF_TEXT && k !== '<|startoftext|>').length;
  if (END_OF_TEXT in encoder && encoder[END_OF_TEXT] !== nRanks) {
    throw new CheckpointError(`${encName}: ${END_OF_TEXT} has id ${encoder[END_OF_TEXT]}, expected ${nRanks} (right after the ${nRanks} BPE tokens)`, { file: encName });
  }
  const notes: string[] = [];
  if (nRanks + 1 !== vocabSize) notes.push(`tokenizer has ${nRanks + 1} ids, model vocab_size ${vocabSize}`);
  if (!(END_OF_TEXT in encoder)) notes.push(`encoder.json has no ${END_OF_TEXT}; it is id ${vocabSize - 1} (vocab_size - 1 = ${vocabSize - 1})`);
  return notes;
}

export async function convertRelease(release: ReleaseFiles<Blob>, opts: ConvertReleaseOptions = {}): Promise<ConvertedRelease> {
  const { signal } = opts;
  const emit = (stage: string, file: string, loadedBytes: number, totalBytes: number | null) => opts.onProgress?.({ stage, file, loadedBytes, totalBytes });
  const read = async (f: { path: string; file: Blob }): Promise<Uint8Array> => {
    signal?.throwIfAborted();
    const onProgress = (e: { loadedBytes: number; totalBytes: number | null }) => emit('reading', f.path, e.loadedBytes, e.totalBytes);
    const bytes = typeof f.file.stream === 'function'
      ? await readStreamWithProgress(f.file.stream() as ReadableStream<Uint8Array>, f.file.size, f.path, { stage: 'weights', onProgress, signal })
      : new Uint8Array(await f.file.arrayBuffer());
    signal?.throwIfAborted();
    return bytes;
  };
  const step = async (stage: string, file: string) => {
    signal?.throwIfAborted();
    emit(stage, file, 0, null);
    // Let the worker see a Cancel between steps (each step below is synchronous).
    await new Promise((r) => setTimeout(r, 0));
    signal?.throwIfAborted();
  };

  if (opts.importViz && release.viz.length && !release.meansBaseline) {
    // As the Python importer (--viz needs means): a circuit is evaluated with every node outside it mean-ablated.
    throw new CheckpointError(`${release.viz[0]!.path}: a viz_data.pt needs means for the circuits' mean ablation: drop the release's mean_baseline_pretrain.pt (viz/<model>/) with it`, { file: release.viz[0]!.path });
  }
  const cfgName = release.config.path;
  const cfgBytes = await read(release.config);
  let beeg: unknown;
  try {
    beeg = JSON.parse(decodeUtf8(cfgBytes, cfgName));
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${cfgName}: not valid JSON (${(e as Error).message})`, { file: cfgName });
  }
  const { config: configJson, notes } = convertReleaseConfig(beeg, cfgName, opts.ignoreConfigKeys);
  let config;
  try {
    config = parseConfig(configJson);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`${cfgName}: converted to ${e.message}`, { file: cfgName, cause: e });
    throw e;
  }

  const ckptName = release.checkpoint.path;
  const ckptBytes = await read(release.checkpoint);
  await step('unpickling (only tensors, storages and OrderedDict are allowed)', ckptName);
  const raw = readTorchFile(ckptBytes, ckptName, 'the checkpoint');
  await step('checking tensors against beeg_config.json', ckptName);
  const weights = normalizeReleaseState(raw, config, configJson, ckptName, opts.dropKeys);
  notes.push(...weights.notes);

  const encBytes = await read(release.encoder);
  const vocBytes = await read(release.vocab);
  notes.push(...checkTokenizer(decodeUtf8(encBytes, release.encoder.path), decodeUtf8(vocBytes, release.vocab.path), config.vocabSize, release.encoder.path, release.vocab.path));

  let means: Map<string, Float32Array> | null = null;
  let meansInfo: Record<string, unknown> | null = null;
  if (release.meansBaseline) {
    const name = release.meansBaseline.path;
    const bytes = await read(release.meansBaseline);
    await step('reading the mean baseline', name);
    const m = meansFromBaseline(readTorchFile(bytes, name, 'the mean baseline'), config, name);
    means = m.means;
    meansInfo = { source: 'mean_baseline_pretrain', path: name, sha256: await sha256Hex(bytes), structure: MEANS_STRUCTURE, ...(m.ignoredKeys.length ? { ignored_keys: m.ignoredKeys } : {}) };
  }

  const viz: VizInput[] = [];
  for (const v of release.viz) {
    if (!opts.importViz) {
      notes.push(`${v.path} (task ${v.task}): not converted here; its circuit and task need the importer's evaluation under ablation (python train/openai_import --viz)`);
      continue;
    }
    const bytes = await read(v);
    viz.push({ task: v.task, path: v.path, bytes, sha256: await sha256Hex(bytes) });
  }

  await step('writing model.safetensors (compact sparse tensors)', 'model.safetensors');
  const files = new Map<string, Uint8Array>();
  files.set('config.json', jsonFile(configJson));
  files.set('model.safetensors', compactModelFile(weights.tensors));
  if (means) files.set('means.safetensors', meansFile(means));
  files.set('tokenizer/encoder.json', encBytes);
  files.set('tokenizer/vocab.bpe', vocBytes);

  const modelDir = release.modelDir ?? ckptName.replace(/^.*\//, '').replace(/\.[^.]*$/, '');
  const id = (opts.id ?? modelDir).replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'openai-release';
  const counts = paramCounts(weights.tensors, config);
  const name = `${modelDir} (OpenAI circuit-sparsity release)`;
  const imported = viz.length ? await opts.importViz!(files, viz, { id, signal, onStage: (stage, file) => emit(stage, file, 0, null) }) : [];
  imported.forEach((f, i) => {
    files.set(`tasks/${viz[i]!.task}.json`, jsonFile(f.taskFile));
    files.set(`circuits/${viz[i]!.task}.json`, jsonFile(f.circuitFile));
  });
  if (imported.length) files.set('tasks/index.json', jsonFile({ tasks: viz.map((v) => v.task) }));
  const card = {
    id,
    name,
    kind: counts.weight_l0_fraction < 0.5 ? 'sparse' : 'dense',
    source: {
      origin: ORIGIN,
      model_dir: modelDir,
      final_model_sha256: await sha256Hex(ckptBytes),
      final_model_bytes: ckptBytes.length,
      beeg_config_sha256: await sha256Hex(cfgBytes),
      beeg_config: beeg,
      tokenizer_dir: release.encoder.path.replace(/\/?encoder\.json$/, '') || '.',
      encoder_json_sha256: await sha256Hex(encBytes),
      vocab_bpe_sha256: await sha256Hex(vocBytes),
      viz: viz.map((v) => ({ task: v.task, path: v.path, sha256: v.sha256 })),
    },
    conversion_notes: notes,
    ...counts,
    afrac: config.afrac,
    means: meansInfo,
    circuits: imported.map((f) => f.summary),
  };
  files.set('model-card.json', jsonFile(card));
  emit('converted', 'model-card.json', 1, 1);
  return { id, name, files, notes };
}
