import { z } from 'zod';

/**
 * A binary next-token task (the paper's setup): contrast pairs of prompts; each prompt has the token that
 * correctly continues it and the alternative (the other pair member's correct token). Stored in
 * public/models/<id>/tasks/<task>.json with the token ids of the model's tokenizer, so no re-tokenisation
 * ambiguity arises at load time.
 */
export const taskPromptSchema = z.object({
  text: z.string().min(1),
  tokens: z.array(z.number().int().nonnegative()).min(1),
  correct: z.number().int().nonnegative(),
  alternative: z.number().int().nonnegative(),
});
export type TaskPrompt = z.infer<typeof taskPromptSchema>;

export const taskPairSchema = z.object({
  a: taskPromptSchema,
  b: taskPromptSchema,
  /** Where the pair came from (held-out file and line, or the template). */
  source: z.string().optional(),
});
export type TaskPair = z.infer<typeof taskPairSchema>;

export const taskFileSchema = z.object({
  task: z.string().regex(/^[a-z0-9_]+$/),
  description: z.string(),
  /** Display strings of the two target tokens, e.g. ['"', "'"]. */
  target_tokens: z.tuple([z.string(), z.string()]),
  train: z.array(taskPairSchema).min(1),
  test: z.array(taskPairSchema).min(1),
  /** How the pairs were made (command, corpus manifest hash). */
  provenance: z.record(z.string(), z.unknown()).optional(),
});
export type TaskFile = z.infer<typeof taskFileSchema>;
