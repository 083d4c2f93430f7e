import { z } from 'zod';

/** Activation-sparsity locations, named as in the released `afrac_loctypes`. */
export const ABS_TOPK_LOCATIONS = [
  'attn_in', 'attn_out', 'mlp_in', 'mlp_out', 'mlp_neuron', 'attn_q', 'attn_k', 'attn_v',
] as const;
export type AbsTopKLocation = (typeof ABS_TOPK_LOCATIONS)[number];

const positiveInt = z.number().int().positive();

/**
 * config.json: a superset of OpenAI's released beeg_config.json (docs/model-folder.md).
 * Unknown keys are stripped (ignored); `n_mlp` is the released alias of `d_mlp`.
 */
const rawConfigSchema = z
  .object({
    block_size: positiveInt,
    vocab_size: positiveInt,
    n_layer: positiveInt,
    n_head: positiveInt,
    d_head: positiveInt,
    d_model: positiveInt,
    d_mlp: positiveInt.optional(),
    n_mlp: positiveInt.optional(),
    rms_norm: z.boolean().default(true),
    ln_bias: z.boolean().default(true),
    bias: z.boolean().default(true),
    activation_type: z.enum(['gelu', 'relu']).default('gelu'),
    afrac: z.number().gt(0).lte(1).nullable().default(null),
    afrac_loctypes: z.string().default('attn_in,attn_out,mlp_in,mlp_out'),
    enable_bigram_table: z.boolean().default(false),
    sink: z.boolean().default(false),
    tied_unembed: z.boolean().default(false),
    residual_activation_type: z.literal('identity').default('identity'),
    tokenizer_name: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.d_mlp === undefined && c.n_mlp === undefined) {
      ctx.addIssue({ code: 'custom', path: ['d_mlp'], message: 'required (or its alias n_mlp)' });
    }
    for (const loc of c.afrac_loctypes.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (!(ABS_TOPK_LOCATIONS as readonly string[]).includes(loc)) {
        ctx.addIssue({
          code: 'custom',
          path: ['afrac_loctypes'],
          message: `unknown location "${loc}" (known: ${ABS_TOPK_LOCATIONS.join(', ')})`,
        });
      }
    }
  });

export interface ModelConfig {
  blockSize: number;
  vocabSize: number;
  nLayer: number;
  nHead: number;
  dHead: number;
  dModel: number;
  dMlp: number;
  rmsNorm: boolean;
  lnBias: boolean;
  bias: boolean;
  activation: 'gelu' | 'relu';
  /** null: no activation sparsity. */
  afrac: number | null;
  afracLocations: ReadonlySet<AbsTopKLocation>;
  bigramTable: boolean;
  sink: boolean;
  tiedUnembed: boolean;
  tokenizerName?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates a parsed config.json; throws ConfigError naming every bad or missing key. */
export function parseConfig(json: unknown): ModelConfig {
  const result = rawConfigSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`config.json is invalid: ${problems.join('; ')}`);
  }
  const c = result.data;
  const locs = c.afrac_loctypes.split(',').map((s) => s.trim()).filter(Boolean) as AbsTopKLocation[];
  return {
    blockSize: c.block_size,
    vocabSize: c.vocab_size,
    nLayer: c.n_layer,
    nHead: c.n_head,
    dHead: c.d_head,
    dModel: c.d_model,
    dMlp: (c.d_mlp ?? c.n_mlp) as number,
    rmsNorm: c.rms_norm,
    lnBias: c.ln_bias,
    bias: c.bias,
    activation: c.activation_type,
    afrac: c.afrac === 1 ? null : c.afrac,
    afracLocations: new Set(locs),
    bigramTable: c.enable_bigram_table,
    sink: c.sink,
    tiedUnembed: c.tied_unembed,
    tokenizerName: c.tokenizer_name,
  };
}

/** The inverse of parseConfig, for writers (test fixtures, exports). */
export function configToJson(c: ModelConfig): Record<string, unknown> {
  return {
    block_size: c.blockSize, vocab_size: c.vocabSize, n_layer: c.nLayer, n_head: c.nHead, d_head: c.dHead,
    d_model: c.dModel, d_mlp: c.dMlp, rms_norm: c.rmsNorm, ln_bias: c.lnBias, bias: c.bias,
    activation_type: c.activation, afrac: c.afrac, afrac_loctypes: [...c.afracLocations].join(','),
    enable_bigram_table: c.bigramTable, sink: c.sink, tied_unembed: c.tiedUnembed,
    residual_activation_type: 'identity', tokenizer_name: c.tokenizerName,
  };
}

/** Number of kept entries of AbsTopK over a width, or null when that location is dense. */
export function absTopKCount(c: ModelConfig, loc: AbsTopKLocation, width: number): number | null {
  if (c.afrac === null || !c.afracLocations.has(loc)) return null;
  return Math.floor(c.afrac * width);
}
