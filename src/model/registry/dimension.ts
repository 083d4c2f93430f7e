import type { ModelConfig } from '../config';

/**
 * Widths, shapes and offsets in registry.json are written as products of config.json keys and integers
 * ("d_model", "n_head*d_head", "2*n_head*d_head", "0"), so the Python side can evaluate the same strings against its
 * config without a TypeScript-specific encoding. Only `*` is allowed: every size the model has is such a product.
 */
const CONFIG_DIMENSIONS = {
  d_model: (c: ModelConfig) => c.dModel,
  d_mlp: (c: ModelConfig) => c.dMlp,
  n_head: (c: ModelConfig) => c.nHead,
  d_head: (c: ModelConfig) => c.dHead,
  n_layer: (c: ModelConfig) => c.nLayer,
  vocab_size: (c: ModelConfig) => c.vocabSize,
  block_size: (c: ModelConfig) => c.blockSize,
} as const;

/** Why a dimension expression is malformed, or null when it is fine. */
export function checkDimension(expr: string): string | null {
  for (const f of expr.split('*')) {
    if (!/^\d+$/.test(f) && !Object.hasOwn(CONFIG_DIMENSIONS, f)) {
      return `"${expr}" is not a product of integers and ${Object.keys(CONFIG_DIMENSIONS).join(', ')}`;
    }
  }
  return null;
}

const cache = new Map<string, ((c: ModelConfig) => number)[]>();

/** The value of a dimension expression for one config. */
export function dimension(expr: string, c: ModelConfig): number {
  let factors = cache.get(expr);
  if (!factors) {
    const problem = checkDimension(expr);
    if (problem) throw new Error(problem);
    factors = expr.split('*').map((f) => (/^\d+$/.test(f) ? () => Number(f) : CONFIG_DIMENSIONS[f as keyof typeof CONFIG_DIMENSIONS]));
    cache.set(expr, factors);
  }
  let n = 1;
  for (const f of factors) n *= f(c);
  return n;
}
