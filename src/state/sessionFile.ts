import { z } from 'zod';
import { circuitFileSchema, type CircuitFile } from '../circuit/circuitSchema';
import { customTaskSpecSchema, type CustomTaskSpec } from '../tasks/customTask';
import { ablationModeSchema, interventionListSchema, type AblationMode, type Intervention } from '../model/interventions';

/**
 * An exported explorer session: the circuit being studied plus the user's interventions and view, as one JSON file
 * that can be shared and re-imported (validated; a bad file changes nothing).
 */
export const SESSION_FORMAT = 'sparse-circuit-explorer/session/1';
/** The longest free prompt a session keeps (the link's limit too). */
export const MAX_PROMPT_CHARS = 10_000;

export const sessionFileSchema = z.object({
  format: z.literal(SESSION_FORMAT),
  model: z.string().nullable(),
  task: z.string().nullable(),
  mode: ablationModeSchema,
  view: z.enum(['full', 'circuit']),
  interventions: interventionListSchema,
  selection: z.object({
    pair: z.number().int().nonnegative().nullable(), side: z.enum(['a', 'b']), node: z.string().nullable(), pos: z.number().int().nonnegative().nullable(),
    /** The free prompt on screen when `pair` is null (a pair's text is in the task file). Absent in older files. */
    prompt: z.string().max(MAX_PROMPT_CHARS).optional(),
  }),
  circuit: circuitFileSchema.nullable(),
  /** The definition of a user-defined task (src/tasks/customTask.ts) when the session is about one. */
  custom_task: customTaskSpecSchema.nullable().optional(),
  /**
   * The explorer settings (chosen target tokens, edge threshold, ...) as the link writes them, key -> text, so the one
   * URL table parses and checks both (src/state/explorerSettings.ts). Absent in older files; unknown keys are reported.
   */
  settings: z.record(z.string(), z.string()).optional(),
});
export type SessionFile = z.infer<typeof sessionFileSchema>;

export function makeSession(p: {
  model: string | null; task: string | null; mode: AblationMode; view: 'full' | 'circuit'; interventions: readonly Intervention[];
  selection: SessionFile['selection']; circuit: CircuitFile | null; customTask?: CustomTaskSpec | null; settings?: Record<string, string>;
}): SessionFile {
  const { customTask, settings, ...rest } = p;
  return {
    format: SESSION_FORMAT, ...rest, interventions: [...p.interventions],
    ...(customTask ? { custom_task: customTask } : {}), ...(settings && Object.keys(settings).length ? { settings } : {}),
  };
}

export function parseSession(text: string): SessionFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
  const r = sessionFileSchema.safeParse(json);
  if (!r.success) throw new Error(`not an explorer session: ${r.error.issues[0]?.message} at ${r.error.issues[0]?.path.join('.') || 'top level'}`);
  return r.data;
}
