import { z } from 'zod';
import { layerRangeSchema } from './layerRange';
import { nodeIdSchema } from './registry';

/**
 * Interventions are plain data (JSON-serialisable, zod-validated) so that they can be stored, undone,
 * diffed and put in a URL. The runtime turns a list of them into weight edits and site overrides.
 *
 * mode 'mean': the ablated quantity is replaced by its mean over pretraining text (means.safetensors);
 * mode 'zero': it is removed.
 */
export const ablationModeSchema = z.enum(['mean', 'zero']);
export type AblationMode = z.infer<typeof ablationModeSchema>;

export const interventionSchema = z.discriminatedUnion('kind', [
  /** Replace one node's value (after its AbsTopK) at every position. */
  z.object({ kind: z.literal('node'), node: nodeIdSchema, mode: ablationModeSchema }),
  /**
   * Ablate one edge; its kind follows from the two sites (registry edgeKindOf; docs/circuits.md, "Ablating an edge"):
   * - weight (registry.json edgeKinds.weight, same layer): the target's pre-activation loses W[target, source] *
   *   x_source and, in mean mode, gains W[target, source] * mean(source). For attn.v -> attn.resid_delta, x_source is
   *   the attention output of that v channel.
   * - residual (a resid_delta write -> a later act_in read or final_resid, same channel): path patching; only the
   *   reader's copy of the stream changes: the writer's contribution on that channel becomes its mean (or 0) before
   *   the reader's norm.
   * - qk (attn.q:c -> attn.k:c, same layer): the score term q_i[c]·k_j[c] becomes q_i[c]·mean(k[c]) (or 0).
   */
  z.object({ kind: z.literal('edge'), source: nodeIdSchema, target: nodeIdSchema, mode: ablationModeSchema }),
  /**
   * Restrict the model to a circuit: every node of every site NOT listed is ablated. With `layers` [first, last] (a
   * circuit found by node pruning limited to those layers, layerRange.ts), only the sites of that range are restricted:
   * nodes of other layers are never ablated by it, listed or not.
   */
  z.object({ kind: z.literal('circuit'), nodes: z.array(nodeIdSchema), mode: ablationModeSchema, layers: layerRangeSchema.optional() }),
]);
export type Intervention = z.infer<typeof interventionSchema>;
export const interventionListSchema = z.array(interventionSchema);
