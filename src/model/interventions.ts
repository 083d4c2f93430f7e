import { z } from 'zod';

/**
 * Interventions are plain data (JSON-serialisable, zod-validated) so that they can be stored, undone,
 * diffed and put in a URL. The runtime turns a list of them into weight edits and site overrides.
 *
 * mode 'mean': the ablated quantity is replaced by its mean over pretraining text (means.safetensors);
 * mode 'zero': it is removed.
 */
export const ablationModeSchema = z.enum(['mean', 'zero']);
export type AblationMode = z.infer<typeof ablationModeSchema>;

const nodeIdSchema = z.string().regex(/^(\d+\.(attn\.(act_in|q|k|v|resid_delta)|mlp\.(act_in|post_act|resid_delta))|final_resid):\d+$/);

export const interventionSchema = z.discriminatedUnion('kind', [
  /** Replace one node's value (after its AbsTopK) at every position. */
  z.object({ kind: z.literal('node'), node: nodeIdSchema, mode: ablationModeSchema }),
  /**
   * Ablate one nonzero weight entry between two nodes: the target's pre-activation loses
   * W[target, source] * x_source and, in mean mode, gains W[target, source] * mean(source).
   * Valid pairs (same layer): attn.act_in -> attn.q/k/v (c_attn), attn.v -> attn.resid_delta (attn c_proj;
   * x_source is the attention output of that v channel), mlp.act_in -> mlp.post_act (c_fc),
   * mlp.post_act -> mlp.resid_delta (mlp c_proj).
   */
  z.object({ kind: z.literal('edge'), source: nodeIdSchema, target: nodeIdSchema, mode: ablationModeSchema }),
  /** Restrict the model to a circuit: every node of every site NOT listed is ablated. */
  z.object({ kind: z.literal('circuit'), nodes: z.array(nodeIdSchema), mode: ablationModeSchema }),
]);
export type Intervention = z.infer<typeof interventionSchema>;
export const interventionListSchema = z.array(interventionSchema);
