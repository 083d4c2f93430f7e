/** Prompt indices in batches of similar length (little compute goes into padding), each within `tokensPerBatch`
 *  padded tokens; callers put results back in task order. `byPrefix` orders equal lengths by their tokens, so that
 *  prompts sharing a prefix land in one batch (stagedForward.ts computes a shared prefix once per batch). */
export function batchesByLength(prompts: readonly { tokens: readonly number[] }[], tokensPerBatch: number, byPrefix = false): number[][] {
  const lexical = (a: readonly number[], b: readonly number[]) => {
    for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  };
  const order = prompts.map((_, i) => i).sort((a, b) => prompts[a]!.tokens.length - prompts[b]!.tokens.length
    || (byPrefix ? lexical(prompts[a]!.tokens, prompts[b]!.tokens) : 0));
  const batches: number[][] = [];
  for (let i = 0; i < order.length;) {
    // Sorted ascending, a batch's padded length is its last prompt's: grow while the batch stays within budget.
    let end = i + 1;
    while (end < order.length && (end - i + 1) * prompts[order[end]!]!.tokens.length <= tokensPerBatch) end++;
    batches.push(order.slice(i, end));
    i = end;
  }
  return batches;
}
