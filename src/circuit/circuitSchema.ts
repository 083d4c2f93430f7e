import { z } from 'zod';
import { ablationModeSchema } from '../model/interventions';
import { layerRangeSchema } from '../model/layerRange';
import { CIRCUIT_EDGE_KINDS, nodeIdSchema, siteNameSchema } from '../model/registry';

export const circuitNodeSchema = z.object({
  site: siteNameSchema,
  channel: z.number().int().nonnegative(),
  /** The node's learned mask parameter when pruning stopped (higher = more important). */
  score: z.number().optional(),
});

export const circuitEdgeSchema = z.object({
  source: nodeIdSchema,
  target: nodeIdSchema,
  /** The nonzero weight entry (1 for residual-stream identity edges and q-k channel pairs). */
  weight: z.number(),
  /** docs/circuits.md: weight = a nonzero weight entry, residual = a write reaching a later read of the same
   *  residual channel, qk = a q channel and the k channel it is multiplied with. */
  kind: z.enum(CIRCUIT_EDGE_KINDS),
});

/** What pruning removed: whole nodes (node masks) or single edges. Circuit files without the field are node circuits. */
export const circuitGranularitySchema = z.enum(['nodes', 'edges']);
export type CircuitGranularity = z.infer<typeof circuitGranularitySchema>;

/**
 * The control of a circuit (src/circuit/control.ts): the same pruning run on the same prompts with each pair's correct
 * and alternative tokens swapped with probability 1/2 by a seeded generator. Random labels have no mechanism behind
 * them, so a method that "finds" a small circuit for them too is fitting the labels, not revealing the model.
 */
export const circuitControlSchema = z.object({
  /** How the control's labels were made; label_rule and seed determine every flip (control.ts flipLabels). */
  label_rule: z.string().min(1),
  seed: z.number().int(),
  /** Pairs whose labels were swapped, of train_pairs + test_pairs. */
  flipped_pairs: z.number().int().nonnegative(),
  granularity: circuitGranularitySchema,
  /** As in the circuit file, for the control's circuit on its flipped labels: held-back training pairs for
   *  reached_target and train_circuit_loss_bound, test pairs for the losses and accuracies. */
  reached_target: z.boolean(),
  train_circuit_loss_bound: z.number().optional(),
  circuit_loss: z.number(),
  circuit_accuracy: z.number(),
  full_model_loss: z.number().optional(),
  full_model_accuracy: z.number().optional(),
  node_count: z.number().int().nonnegative(),
  edge_count: z.number().int().nonnegative(),
  minimality_removed: z.number().int().nonnegative().optional(),
  prune_seconds: z.number().optional(),
});
export type CircuitControl = z.infer<typeof circuitControlSchema>;

/** public/models/<id>/circuits/<task>.json: a pruned circuit and its evaluation on the held-out test pairs. */
export const circuitFileSchema = z.object({
  task: z.string(),
  model: z.string(),
  ablation: ablationModeSchema,
  k: z.number().int().nonnegative(),
  nodes: z.array(circuitNodeSchema),
  edges: z.array(circuitEdgeSchema),
  edge_count: z.number().int().nonnegative(),
  target_loss: z.number(),
  full_model_loss: z.number(),
  full_model_accuracy: z.number(),
  circuit_loss: z.number(),
  circuit_accuracy: z.number(),
  ablated_loss: z.number(),
  ablated_accuracy: z.number(),
  /** Fitted on the training pairs after pruning (docs/circuits.md): the circuit's two candidate logits are multiplied
   *  by logit_scale and logit_shift is added to the logit of the task's first target token. */
  logit_scale: z.number(),
  logit_shift: z.number(),
  loss_at_k: z.array(z.tuple([z.number(), z.number()])),
  pruning_curve: z.array(z.tuple([z.number(), z.number()])),
  prune_seconds: z.number(),
  prune_config: z.record(z.string(), z.unknown()).optional(),
  /** Total nodes of the model (the k of "everything kept"); for a node circuit found over a layer range (`layers`), the
   *  candidate nodes: those of the range. */
  total_nodes: z.number().int().positive().optional(),
  /** Node circuits found by pruning limited to layers [first, last] (model/layerRange.ts: their attn.* and mlp.* sites,
   *  final_resid when last is the model's last layer). Only those nodes were candidates; `nodes` lists the kept ones
   *  among them, and every node of other layers is kept: the restriction (`circuit` intervention with `layers`) leaves
   *  them alone. Absent: every node of the model was a candidate. */
  layers: layerRangeSchema.optional(),
  /** Edge counts per kind (edge_count is their sum). */
  edge_counts: z.object({ weight: z.number().int(), residual: z.number().int(), qk: z.number().int() }).optional(),
  /** Test-pair loss and accuracy of the circuit after the fitted logit scale and shift. */
  circuit_loss_calibrated: z.number().optional(),
  circuit_accuracy_calibrated: z.number().optional(),
  /** Loss of the circuit (as stored: after the minimality pass when it ran) on the prompts the bisection judged (the
   *  training pairs held back from mask learning, prune_config.validationFraction; all training pairs when that is 0). */
  train_circuit_loss: z.number().optional(),
  /** That loss plus prune_config.selectionZ standard errors: what the bisection compared with target_loss. */
  train_circuit_loss_bound: z.number().optional(),
  /** False when no probed circuit reaches target_loss on the training pairs (k is then the probed size with the
   *  lowest training loss). */
  reached_target: z.boolean().optional(),
  /** [step, nodes with tau >= 0] during optimisation. */
  pruning_kept: z.array(z.tuple([z.number(), z.number()])).optional(),
  /** Node pruning's bisection probes: [k, training loss], and [k, its upper bound]. */
  bisect_probes: z.array(z.tuple([z.number(), z.number()])).optional(),
  bisect_probe_bounds: z.array(z.tuple([z.number(), z.number()])).optional(),
  /** Absent: 'nodes' (files written before edge pruning existed); read it through circuitGranularity(). */
  granularity: circuitGranularitySchema.optional(),
  /** Items (nodes, or edges for an edge circuit) the minimality pass (minimality.ts) removed after the bisection: the
   *  bisection's circuit had this many more. Absent when the pass was off or the file predates it. */
  minimality_removed: z.number().int().nonnegative().optional(),
  /** The same pruning on randomly flipped labels (circuitControlSchema); absent when no control was run. */
  control: circuitControlSchema.optional(),
  /** Edge circuits only: every candidate edge between the circuit's nodes that pruning did not keep. The runtime runs an
   *  edge circuit as the `circuit` restriction to `nodes` plus an `edge` ablation of each of these (docs/circuits.md,
   *  "Pruning by edges"); `edges` are the kept ones. */
  ablated_edges: z.array(circuitEdgeSchema.pick({ source: true, target: true, kind: true })).optional(),
  /** Edge circuits only: the candidate edges of the model (the k of "everything kept"). */
  total_edges: z.number().int().positive().optional(),
  test_pairs: z.number().int().optional(),
  train_pairs: z.number().int().optional(),
  backend: z.string().optional(),
  created: z.string().optional(),
});
export type CircuitFile = z.infer<typeof circuitFileSchema>;

/** A circuit file's granularity; files from before edge pruning have none and are node circuits. */
export function circuitGranularity(file: Pick<CircuitFile, 'granularity'>): CircuitGranularity {
  return file.granularity ?? 'nodes';
}
