import { tokenCount, type PromptCoverage } from '../model/memoryEstimate';

/**
 * The two limits on a prompt's length, checked before a prompt runs: the model's context (block_size: positions
 * beyond it have no position embedding) and the memory plan (the working memory of a longer prompt does not fit next
 * to the weights: src/model/memoryEstimate.ts, promptCoverage). A prompt over either is refused, never cut, with a
 * message that says which limit and how far over it is; the page shows it at the prompt, whose text stays as typed.
 */
export function checkPromptLength(tokens: number, coverage: PromptCoverage, backend: string): void {
  if (tokens <= coverage.tokens) return;
  const head = `the prompt is ${tokenCount(tokens)} tokens long; `;
  if (tokens > coverage.contextTokens) throw new Error(`${head}this model's context holds ${tokenCount(coverage.contextTokens)}`);
  throw new Error(
    `${head}the memory plan on ${backend} covers prompts up to ${tokenCount(coverage.tokens)} tokens (this model's context holds ` +
      `${tokenCount(coverage.contextTokens)}, but a longer prompt's attention and activations would not fit next to the weights; see "weights in memory")`,
  );
}

/** Whether an engine error is checkPromptLength's refusal (the page shows those at the prompt). */
export function isPromptLengthError(message: string): boolean {
  return /^the prompt is [\d,]+ tokens long; /.test(message);
}
