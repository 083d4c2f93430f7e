import { z } from 'zod';
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
   * Ablate one nonzero weight entry between two nodes: the target's pre-activation loses
   * W[target, source] * x_source and, in mean mode, gains W[target, source] * mean(source).
   * Valid pairs: the weight edge kinds of the registry (registry.json edgeKinds.weight; same layer). For
   * attn.v -> attn.resid_delta, x_source is the attention output of that v channel.
   */
  z.object({ kind: z.literal('edge'), source: nodeIdSchema, target: nodeIdSchema, mode: ablationModeSchema }),
  /** Restrict the model to a circuit: every node of every site NOT listed is ablated. */
  z.object({ kind: z.literal('circuit'), nodes: z.array(nodeIdSchema), mode: ablationModeSchema }),
]);
export type Intervention = z.infer<typeof interventionSchema>;
export const interventionListSchema = z.array(interventionSchema);
