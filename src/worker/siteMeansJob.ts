import { meansFile, sha256Hex } from '../model/checkpoint/release/folderFiles';
import type { SparseGpt } from '../model/forward';
import { computeSiteMeans, planMeansWindows, SiteMeansError } from '../model/siteMeans';
import type { BpeTokenizer } from '../tokenizer/bpe';

/**
 * Means for a model that came without means.safetensors, computed in the worker from text the user gives (pasted, or
 * picked .py/.txt files): the texts are tokenized with the model's tokenizer as train/openai_import's `--means-corpus`
 * reads files (each text's tokens, then <|endoftext|>; line ends as Python's text mode reads them), and the means are
 * compute_means' over that corpus (src/model/siteMeans.ts). So the same files give the same means as the importer.
 */

/** One text of the corpus: a picked file's name, or null for pasted text. */
export interface MeansText {
  name: string | null;
  text: string;
}

export interface MeansRequest {
  texts: MeansText[];
  /** Windows asked for (default 128) and tokens per window (default 256), as the importer's options. */
  windows?: number;
  windowTokens?: number;
}

/** What the given text would give: its token count and the windows, or why it cannot be used. */
export interface MeansTextCount {
  tokens: number;
  windows: number | null;
  windowTokens: number | null;
  problem: string | null;
}

/** Where computed means come from: the model card's `means` field (as the importer's "corpus" source records its own). */
export interface TextMeansInfo {
  source: 'text';
  computed_in: 'browser';
  texts: { name: string; chars: number; sha256: string }[];
  corpus_tokens: number;
  windows: number;
  window_tokens: number;
}

export interface ComputedMeans {
  means: Map<string, Float32Array>;
  info: TextMeansInfo;
  /** means.safetensors as a model folder holds it. */
  file: Uint8Array;
}

export const PASTED_TEXT_NAME = 'pasted text';

/** Python's universal newlines (open(..., encoding="utf-8") in text mode): \r\n and a lone \r read as \n. */
const pythonText = (text: string) => text.replace(/\r\n?/g, '\n');

/** The corpus as train/openai_import/tokenizer_means.py `_load_corpus_tokens` builds it from files. */
export function corpusTokens(tokenizer: BpeTokenizer, texts: readonly MeansText[]): number[] {
  const ids: number[] = [];
  for (const t of texts) {
    for (const id of tokenizer.encode(pythonText(t.text))) ids.push(id);
    ids.push(tokenizer.endOfTextId);
  }
  return ids;
}

/** The texts' tokens and windows, or the problem, without running the model (the page's count as the user types). */
export function countMeansText(tokenizer: BpeTokenizer, blockSize: number, maxWindowTokens: number, req: MeansRequest): MeansTextCount {
  const nonEmpty = req.texts.filter((t) => t.text.length > 0);
  const tokens = nonEmpty.length ? corpusTokens(tokenizer, nonEmpty).length : 0;
  try {
    const plan = planMeansWindows(tokens, blockSize, { windows: req.windows, windowTokens: req.windowTokens, maxWindowTokens });
    return { tokens, windows: plan.windows, windowTokens: plan.windowTokens, problem: null };
  } catch (e) {
    if (e instanceof SiteMeansError) return { tokens, windows: null, windowTokens: null, problem: e.message };
    throw e;
  }
}

/**
 * Tokenizes the texts and computes every site's mean on `model`; nothing is installed here. Empty texts are left out
 * (a pasted box left empty beside picked files); no text at all is refused.
 */
export async function computeTextMeans(
  model: SparseGpt, tokenizer: BpeTokenizer, req: MeansRequest, limits: { maxWindowTokens: number; batchWindows?: number },
  onProgress: (done: number, total: number) => void, signal: AbortSignal,
): Promise<ComputedMeans> {
  const texts = req.texts.filter((t) => t.text.length > 0);
  const tokens = texts.length ? corpusTokens(tokenizer, texts) : [];
  const { means, plan } = await computeSiteMeans(model, tokens, {
    windows: req.windows, windowTokens: req.windowTokens, ...limits, onProgress, signal,
  });
  const bytes = new TextEncoder();
  const info: TextMeansInfo = {
    source: 'text',
    computed_in: 'browser',
    texts: await Promise.all(texts.map(async (t) => ({ name: t.name ?? PASTED_TEXT_NAME, chars: t.text.length, sha256: await sha256Hex(bytes.encode(t.text)) }))),
    corpus_tokens: tokens.length,
    windows: plan.windows,
    window_tokens: plan.windowTokens,
  };
  return { means, info, file: meansFile(means) };
}
