import { ConfigError, parseConfig, type ModelConfig } from '../config';
import type { LoadedCheckpoint } from '../weights';
import { BpeTokenizer, TokenizerError } from '../../tokenizer/bpe';
import { CheckpointError } from './errors';
import { readMeans } from './means';
import { parseSafetensors } from './safetensors';
import { expandTensors } from './sparse';
import type { FolderFile, FolderSource, LoadProgressEvent, LoadStage } from './sources';
import { checkFinite, checkMemoryBudget, DEFAULT_MAX_DENSE_BYTES, validateTensorShapes } from './validate';

export interface LoadModelFolderOptions {
  onProgress?: (e: LoadProgressEvent) => void;
  signal?: AbortSignal;
  /** The "oversized" guard: most bytes of dense float32 weights to accept (default 2 GiB). */
  maxDenseBytes?: number;
}

export interface LoadedModelFolder {
  checkpoint: LoadedCheckpoint;
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
  const required = async (file: FolderFile, stage: LoadStage) => {
    const bytes = await read(file, stage);
    if (!bytes) throw new CheckpointError(`${file} is missing from ${source.label}`, { file });
    return bytes;
  };
  signal?.throwIfAborted();

  // config.json first: it decides what to expect, and whether the model fits at all, before the big download.
  const configJson = parseJson(await required('config.json', 'config'), 'config.json');
  const config: ModelConfig = parseConfig(configJson);
  checkMemoryBudget(config, maxDenseBytes);

  const modelBytes = await required('model.safetensors', 'weights');
  signal?.throwIfAborted();
  onProgress?.({ stage: 'validate', file: 'model.safetensors', loadedBytes: 0, totalBytes: null });
  const file = parseSafetensors(modelBytes, 'model.safetensors');
  const tensors = expandTensors(file, { maxDenseBytes });
  warnings.push(...validateTensorShapes(config, tensors, 'model.safetensors'));
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
    checkpoint: { config, tensors, means: means.means },
    tokenizer,
    ...(card === undefined ? {} : { card }),
    warnings,
  };
}

export { CheckpointError, ConfigError };
