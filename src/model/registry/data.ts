import { z } from 'zod';
import { ABS_TOPK_LOCATIONS } from '../config';
import { checkDimension } from './dimension';
import json from './registry.json' with { type: 'json' };

/**
 * registry.json, checked once at import: a bad edit (a typo in a kind, an edge to an unknown site, a width that is
 * not a product of config keys) fails every test at once with the field named, instead of surfacing as a wrong
 * edge count somewhere far away. The JSON, not this file, is the source: the Python side reads the same file.
 */
const dimension = z.string().superRefine((s, ctx) => {
  const problem = checkDimension(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const keyPattern = z.string().regex(/^[\w.]*(\{layer\}[\w.]*)?$/, 'a state-dict key with at most one {layer}');

const siteKindSchema = z.object({
  kind: z.string().regex(/^[a-z_]+(\.[a-z_]+)*$/),
  /** layer: one site per layer, named `{layer}.{kind}`; global: one site, named `{kind}`. */
  scope: z.enum(['layer', 'global']),
  width: dimension,
  /** What channel c indexes: residual-stream channel c, a q/k/v channel of head floor(c / d_head), or a neuron. */
  channels: z.enum(['residual', 'head', 'neuron']),
  /** false: the value is (almost) never negative, so "most negative" lists are meaningless for it. */
  signed: z.boolean(),
  /** The released afrac_loctypes location whose AbsTopK this site's value is taken after; null: none. */
  absTopK: z.enum(ABS_TOPK_LOCATIONS).nullable(),
  label: z.string(),
});

const weightEdgeSchema = z.object({
  source: z.string(),
  target: z.string(),
  weight: keyPattern,
  bias: keyPattern,
  shape: z.tuple([dimension, dimension]),
  /** First row of the target's block in the weight (q, k and v share c_attn). */
  rowOffset: dimension,
  $comment: z.string().optional(),
});

export const registrySchema = z.object({
  $comment: z.string().optional(),
  format: z.literal('sparse-circuit-explorer/registry'),
  version: z.literal(1),
  weightOrientation: z.literal('out_in'),
  nodeId: z.object({ layerSite: z.literal('{layer}.{kind}'), globalSite: z.literal('{kind}'), node: z.literal('{site}:{channel}') }),
  siteKinds: z.array(siteKindSchema).min(1),
  edgeKinds: z.object({
    weight: z.array(weightEdgeSchema),
    qk: z.array(z.object({ source: z.string(), target: z.string() })),
    residual: z.object({
      sublayers: z.array(z.object({ read: z.string(), write: z.string(), norm: keyPattern })),
      final: z.string(),
    }),
  }),
}).superRefine((r, ctx) => {
  const scope = new Map(r.siteKinds.map((k) => [k.kind, k.scope]));
  if (scope.size !== r.siteKinds.length) ctx.addIssue({ code: 'custom', message: 'site kinds must be unique' });
  const layerKind = (kind: string, path: (string | number)[]) => {
    if (scope.get(kind) !== 'layer') ctx.addIssue({ code: 'custom', message: `"${kind}" is not a per-layer site kind`, path });
  };
  r.edgeKinds.weight.forEach((e, i) => {
    layerKind(e.source, ['edgeKinds', 'weight', i, 'source']);
    layerKind(e.target, ['edgeKinds', 'weight', i, 'target']);
  });
  r.edgeKinds.qk.forEach((e, i) => {
    layerKind(e.source, ['edgeKinds', 'qk', i, 'source']);
    layerKind(e.target, ['edgeKinds', 'qk', i, 'target']);
  });
  r.edgeKinds.residual.sublayers.forEach((s, i) => {
    layerKind(s.read, ['edgeKinds', 'residual', 'sublayers', i, 'read']);
    layerKind(s.write, ['edgeKinds', 'residual', 'sublayers', i, 'write']);
  });
  if (scope.get(r.edgeKinds.residual.final) !== 'global') ctx.addIssue({ code: 'custom', message: 'residual.final must be a global site kind' });
});

export type Registry = z.infer<typeof registrySchema>;
export type SiteKindSpec = Registry['siteKinds'][number];
export type WeightEdgeSpec = Registry['edgeKinds']['weight'][number];

function load(): Registry {
  const r = registrySchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`src/model/registry/registry.json: ${issue.message} at ${issue.path.join('.') || '(top)'}`);
  }
  return r.data;
}

export const REGISTRY: Registry = load();
