import { ConfigError, parseConfig, type ModelConfig } from '../config';
import { fixedMemoryBudget, planMemory, type MemoryBudget, type MemoryPlan, type RepresentationChoice } from '../memoryEstimate';
import { isLinearWeight, type LoadedCheckpoint } from '../weights';
import { BpeTokenizer, TokenizerError } from '../../tokenizer/bpe';
import { CheckpointError } from './errors';
import { readRequired } from './folderRead';
import { readSafetensorsHead } from './header';
import { readMeans } from './means';
import { parseSafetensors, parseSafetensorsHeader } from './safetensors';
import { readTensors } from './sparse';
import type { FolderFile, FolderSource, LoadProgressEvent, LoadStage } from './sources';
import { checkFinite, DEFAULT_MAX_DENSE_BYTES, validateTensorShapes } from './validate';

export interface LoadModelFolderOptions {
  onProgress?: (e: LoadProgressEvent) => void;
  signal?: AbortSignal;
  /** The "oversized" guard: most bytes of weights to hold, in the chosen representation (default 2 GiB). */
  maxDenseBytes?: number;
  /** Memory the active backend can give the model (src/model/memoryEstimate.ts); default: only maxDenseBytes limits. */
  budget?: MemoryBudget;
  /** Bytes (and backend bytes) held by a model that stays loaded until this one is ready. */
  heldBytes?: number;
  heldDeviceBytes?: number;
  /** Keep linear weights dense, sparse, or let the memory plan decide (default). */
  representation?: RepresentationChoice;
  /** The memory plan, as soon as it is made (before the weights are downloaded when the source can read heads). */
  onPlan?: (plan: MemoryPlan) => void;
}

export interface LoadedModelFolder {
  checkpoint: LoadedCheckpoint;
  /** How the weights are held and what that costs (see memoryEstimate.ts). */
  memory: MemoryPlan;
  tokenizer: BpeTokenizer;
  /** model-card.json, parsed but not interpreted; undefined when absent or unreadable. */
  card?: unknown;
  /** Things the user should know that did not stop the load (e.g. no means: mean ablation unavailable). */
  warnings: string[];
}

const utf8 = new TextDecoder('utf-8', { ignoreBOM: false });

function decodeText(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CheckpointError(`${file} is not valid UTF-8 text`, { file });
  }
}

function parseJson(bytes: Uint8Array, file: string): unknown {
  const text = decodeText(bytes, file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${file} is not valid JSON (${(e as Error).message})`, { file });
  }
}

/**
 * Loads and validates a model folder (docs/model-folder.md) from any source. Nothing in it is executed: JSON goes
 * through JSON.parse and zod, tensors are read as numbers. Throws CheckpointError (or ConfigError for config.json)
 * with a message naming the file and problem; rethrows the signal's reason when aborted.
 */
export async function loadModelFolder(source: FolderSource, opts: LoadModelFolderOptions = {}): Promise<LoadedModelFolder> {
  const { onProgress, signal } = opts;
  const maxDenseBytes = opts.maxDenseBytes ?? DEFAULT_MAX_DENSE_BYTES;
  const warnings: string[] = [];
  const read = (file: FolderFile, stage: LoadStage) => source.read(file, { stage, onProgress, signal });
  const required = (file: FolderFile, stage: LoadStage) => readRequired(source, file, { stage, onProgress, signal });
  signal?.throwIfAborted();

  // config.json and the weights' header first: they decide what to expect, how to hold it and whether it fits at
  // all, before the big download.
  const configJson = parseJson(await required('config.json', 'config'), 'config.json');
  const config: ModelConfig = parseConfig(configJson);
  const planOpts = {
    budget: opts.budget ?? fixedMemoryBudget('any', Infinity, 'no limit given'),
    maxWeightBytes: maxDenseBytes,
    representation: opts.representation,
    heldBytes: opts.heldBytes,
    heldDeviceBytes: opts.heldDeviceBytes,
  };
  const head = await readSafetensorsHead(source, 'model.safetensors', signal);
  signal?.throwIfAborted();
  let plan = planMemory(config, head?.header ?? null, head?.fileBytes ?? null, planOpts);
  opts.onPlan?.(plan);

  const modelBytes = await required('model.safetensors', 'weights');
  signal?.throwIfAborted();
  onProgress?.({ stage: 'validate', file: 'model.safetensors', loadedBytes: 0, totalBytes: null });
  if (!head) {
    // No header before the download (the source cannot read heads): plan again now that the storage is known.
    plan = planMemory(config, parseSafetensorsHeader(modelBytes, 'model.safetensors'), modelBytes.length, planOpts);
    opts.onPlan?.(plan);
  }
  const file = parseSafetensors(modelBytes, 'model.safetensors');
  const keepSparse = plan.representation === 'sparse'
    ? (key: string) => isLinearWeight(key) && !(config.tiedUnembed && key === 'lm_head.weight')
    : undefined;
  const { dense: tensors, sparse } = readTensors(file, { maxDenseBytes, keepSparse });
  const shapes = new Map<string, { shape: readonly number[] }>(tensors);
  for (const [key, m] of sparse) shapes.set(key, { shape: [m.rows, m.cols] });
  warnings.push(...validateTensorShapes(config, shapes, 'model.safetensors'));
  checkFinite(tensors, 'model.safetensors');

  const meansBytes = await read('means.safetensors', 'means');
  signal?.throwIfAborted();
  const means = readMeans(meansBytes, config, 'means.safetensors');
  warnings.push(...means.warnings);

  const encoder = await required('tokenizer/encoder.json', 'tokenizer');
  const vocab = await required('tokenizer/vocab.bpe', 'tokenizer');
  signal?.throwIfAborted();
  let tokenizer: BpeTokenizer;
  try {
    tokenizer = BpeTokenizer.fromDataGym(decodeText(encoder, 'tokenizer/encoder.json'), decodeText(vocab, 'tokenizer/vocab.bpe'), {
      vocabSize: config.vocabSize,
      encoderName: 'tokenizer/encoder.json',
      vocabName: 'tokenizer/vocab.bpe',
    });
  } catch (e) {
    if (e instanceof TokenizerError) throw new CheckpointError(e.message, { file: 'tokenizer/encoder.json', cause: e });
    throw e;
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new CheckpointError(
      `tokenizer/encoder.json: the tokenizer has ${tokenizer.vocabSize} token ids but the model's vocab_size is ${config.vocabSize}`,
      { file: 'tokenizer/encoder.json' },
    );
  }

  let card: unknown;
  const cardBytes = await read('model-card.json', 'validate');
  if (cardBytes) {
    try {
      card = JSON.parse(utf8.decode(cardBytes));
    } catch (e) {
      warnings.push(`model-card.json is not valid JSON and was ignored (${(e as Error).message})`);
    }
  }
  signal?.throwIfAborted();
  onProgress?.({ stage: 'validate', file: 'model.safetensors', loadedBytes: 1, totalBytes: 1 });

  return {
    checkpoint: { config, tensors, ...(sparse.size > 0 ? { sparse } : {}), means: means.means },
    memory: plan,
    tokenizer,
    ...(card === undefined ? {} : { card }),
    warnings,
  };
}

export { CheckpointError, ConfigError };
