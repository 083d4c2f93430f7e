import type { TokenView } from './protocol';

/** What looking up tokens needs of a tokenizer (BpeTokenizer has all of it). */
export interface LookupTokenizer {
  encode(text: string): number[];
  /** The id of a string that is exactly one token, else null. */
  tokenId(text: string): number | null;
  tokenString(id: number): string;
}

/** A typed text as one token of the model's tokenizer, or the tokens it splits into (so the refusal can show them). */
export type TokenLookup = { ok: true; token: TokenView } | { ok: false; pieces: TokenView[] };

/**
 * Every token id the model has logits for, with its display text (null where the tokenizer has no token for the id:
 * a model's vocab_size may exceed its tokenizer's). The page names and searches target tokens from this list, so a
 * keystroke in the token picker costs no round trip to the worker.
 */
export function vocabTexts(tok: LookupTokenizer, vocabSize: number): (string | null)[] {
  return Array.from({ length: vocabSize }, (_, id) => {
    try {
      return tok.tokenString(id);
    } catch {
      return null;
    }
  });
}

/**
 * The same rule as a user-defined task's targets (src/tasks/customTask.ts): the text must be exactly one token. Display
 * texts cannot decide this on the page (byte tokens share the text U+FFFD), so it is asked of the tokenizer itself.
 */
export function lookupToken(tok: LookupTokenizer, text: string): TokenLookup {
  const id = text === '' ? null : tok.tokenId(text);
  if (id !== null) return { ok: true, token: { id, text: tok.tokenString(id) } };
  return { ok: false, pieces: tok.encode(text).map((p) => ({ id: p, text: tok.tokenString(p) })) };
}
