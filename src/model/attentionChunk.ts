/**
 * Query positions whose attention scores are computed at once (chunkedAttention.ts). Scores and probabilities are
 * [B, H, queries, keys]: for all T queries at once they grow with T^2 (about 4 GB at 1,024 tokens on 128 heads), in
 * chunks of this many queries with T; the memory plan (memoryEstimate.ts) counts them so. Prompts of at most this many
 * tokens run in one chunk, i.e. exactly as attention() alone. Kept free of TF.js: the plan is read on the page too.
 */
export const ATTENTION_QUERY_CHUNK = 64;
