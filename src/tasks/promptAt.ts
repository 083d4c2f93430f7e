/**
 * Turning a place in source text into a task prompt with the model's own tokenization. The prompt is the tokens of
 * the text before the decision point, exactly as the tokenizer splits the whole text (prefix + continuation), so the
 * model sees what it saw in training; the correct token is the token that actually follows. A place where a token
 * straddles the decision point (e.g. `")` merged into one token) or where the following token is not the expected
 * one is rejected.
 */
export interface PromptTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  tokenBytes(id: number): Uint8Array;
  /** The id of a string that is exactly one token, else null. */
  tokenId(text: string): number | null;
}

const utf8 = new TextEncoder();

export interface PlacedPrompt {
  /** Prompt tokens (left-truncated to maxTokens). */
  tokens: number[];
  /** The prompt's text (decoded tokens). */
  text: string;
  /** The token that follows in the source. */
  next: number;
}

/**
 * Tokens of `prefix` as split inside `prefix + continuation`, and the token after them; null when no token boundary
 * falls exactly at the end of `prefix`, or when the next token is not `expected` (if given).
 */
export function promptAt(tok: PromptTokenizer, prefix: string, continuation: string, maxTokens: number, expected?: number): PlacedPrompt | null {
  const ids = tok.encode(prefix + continuation);
  const target = utf8.encode(prefix).length;
  let bytes = 0;
  let i = 0;
  while (i < ids.length && bytes < target) bytes += tok.tokenBytes(ids[i++]!).length;
  if (bytes !== target || i >= ids.length || i === 0) return null;
  const next = ids[i]!;
  if (expected !== undefined && next !== expected) return null;
  const tokens = ids.slice(Math.max(0, i - maxTokens), i);
  return { tokens, text: tok.decode(tokens), next };
}

/** The last `maxLines` lines before `lineIndex` (joined, each with its newline): left context for a prompt. */
export function contextBefore(lines: readonly string[], lineIndex: number, maxLines: number): string {
  const start = Math.max(0, lineIndex - maxLines);
  return lines.slice(start, lineIndex).map((l) => l + '\n').join('');
}
