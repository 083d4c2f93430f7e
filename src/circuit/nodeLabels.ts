import { isSignedSite, parseNodeId, parseSite, siteKind } from '../model/registry';

/**
 * Short automatic node labels. A label summarises where a node is most active on held-out code (the top snippets of
 * the model folder's snippets.safetensors, train/snippets.py): the tokens it fires on most often, whether its extreme
 * values are positive or negative (signed sites only), its head for q/k/v and, for residual channels, the tokens whose
 * embedding writes most into the channel in that direction. It is a summary of top activations, not an explanation
 * of what the node does (docs/explorer.md, *Node labels*). Pure: the page and the tests feed it plain data.
 */

/** What a label reads of one snippet (state/snippets.ts's Snippet has these fields). */
export interface LabelSnippet {
  /** The node's value on the focus token. */
  value: number;
  tokens: readonly number[];
  /** Index of the focus token in `tokens`. */
  focus: number;
}

export interface LabelSnippets {
  /** Largest values first. */
  top: readonly LabelSnippet[];
  /** Most negative first; null for sites without bottom lists. */
  bottom: readonly LabelSnippet[] | null;
}

/** Token texts whose embedding is largest (top) and most negative (bottom) in a residual channel, strongest first. */
export interface EmbeddingTokens {
  top: readonly string[];
  bottom: readonly string[];
}

export interface TokenCount {
  text: string;
  /** Snippets of the counted list whose focus token this is. */
  count: number;
}

export interface NodeLabel {
  node: string;
  /** q/k/v: the head (`floor(channel / d_head)`); null elsewhere. */
  head: number | null;
  /** Signed sites: '+' when the node's largest value exceeds its most negative one in size, else '−'. Null for
   *  unsigned sites (mlp.post_act) and for a node that never fired on the scanned text. */
  sign: '+' | '−' | null;
  /** Focus tokens of the snippets in the sign's direction, most frequent first (ties: the larger value first). */
  tokens: TokenCount[];
  /** How many snippets `tokens` counts (at most the file's top_n). */
  snippets: number;
  /** Residual channels: the first embedding tokens in the sign's direction; null for other sites or when unknown. */
  embedding: string[] | null;
  /** The label as one line, e.g. `h3 − "'"×5 "='" · emb "'" "='"`. */
  text: string;
}

export interface LabelInput {
  node: string;
  dHead: number;
  /** The node's snippets; null when the folder has no snippet file (or none for this node). */
  snippets: LabelSnippets | null;
  /** A token id as text (the tokenizer's token string). */
  tokenText: (id: number) => string;
  /** Residual channels: the channel's embedding tokens, when known. */
  embedding?: EmbeddingTokens | null;
}

/** Tokens named in a label (the rest are counted as "N more"). */
export const LABEL_TOKENS = 3;
/** What a label says of a node that was zero on every scanned token. */
export const SILENT = 'never fires on held-out text';

/** A token as a label shows it: JSON-quoted, so spaces, quotes and line breaks are unambiguous (`" ("`, `"\n"`). */
export function quoteToken(text: string): string {
  return JSON.stringify(text);
}

/** Focus tokens of a snippet list by frequency; equal counts keep list order (larger values first). */
export function countFocusTokens(list: readonly LabelSnippet[], tokenText: (id: number) => string): TokenCount[] {
  const byId = new Map<number, { count: number; first: number }>();
  list.forEach((s, i) => {
    const id = s.tokens[s.focus];
    if (id === undefined) throw new Error(`a snippet's focus index ${s.focus} is outside its ${s.tokens.length} tokens`);
    const e = byId.get(id);
    if (e) e.count++;
    else byId.set(id, { count: 1, first: i });
  });
  return [...byId.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[1].first - b[1].first)
    .map(([id, e]) => ({ text: tokenText(id), count: e.count }));
}

const extreme = (list: readonly LabelSnippet[] | null, pick: (a: number, b: number) => number) =>
  (list ?? []).reduce((m, s) => pick(m, s.value), 0);

/** The label of one node, or null when there is nothing to build it from (no snippets and no embedding). */
export function labelNode(input: LabelInput): NodeLabel | null {
  const { node, dHead, snippets, tokenText } = input;
  const { site, channel } = parseNodeId(node);
  const kind = siteKind(parseSite(site).kind);
  const head = kind.channels === 'head' ? Math.floor(channel / dHead) : null;
  const residual = kind.channels === 'residual';
  const embedding = residual ? input.embedding ?? null : null;
  if (!snippets && !embedding) return null;

  const top = snippets?.top ?? [];
  const bottom = snippets?.bottom ?? null;
  const max = extreme(top, Math.max);
  const min = extreme(bottom, Math.min);
  const silent = !!snippets && max === 0 && min === 0;
  // Without snippets an embedding alone names the positive direction: the sign is then unknown, not '+'.
  const sign: NodeLabel['sign'] = !snippets || silent || !isSignedSite(site) ? null : -min > max ? '−' : '+';
  const list = sign === '−' ? bottom! : top;
  const tokens = countFocusTokens(list, tokenText);
  const emb = embedding ? (sign === '−' ? embedding.bottom : embedding.top).slice(0, LABEL_TOKENS) : null;

  const parts: string[] = [];
  if (head !== null) parts.push(`h${head}`);
  if (sign) parts.push(sign);
  if (silent) parts.push(SILENT);
  else if (tokens.length) {
    parts.push(tokens.slice(0, LABEL_TOKENS).map((t) => `${quoteToken(t.text)}${t.count > 1 ? `×${t.count}` : ''}`).join(' '));
    if (tokens.length > LABEL_TOKENS) parts.push(`and ${tokens.length - LABEL_TOKENS} more`);
  }
  let text = parts.join(' ');
  if (emb?.length) text += `${text ? ' · ' : ''}emb ${emb.map(quoteToken).join(' ')}`;
  return { node, head, sign, tokens, snippets: list.length, embedding: emb ? [...emb] : null, text };
}

/** Folds a text for label search: case and the two minus signs ('-' typed, '−' shown) compare equal. */
export function foldLabelText(s: string): string {
  return s.toLowerCase().replace(/−/g, '-');
}
