import { z } from 'zod';
import { ablationModeSchema, type Intervention } from '../model/interventions';
import { decodeCustomTaskSpec, encodeCustomTaskSpec, type CustomTaskSpec } from '../tasks/customTask';
import { decodeInterventions, encodeInterventions } from './urlCodec';

const nodeId = z.string().regex(/^(\d+\.(attn\.(act_in|q|k|v|resid_delta)|mlp\.(act_in|post_act|resid_delta))|final_resid):\d+$/, 'not a node id like 3.mlp.post_act:17');
const index = z.coerce.number().int().nonnegative();

/**
 * The typed URL-state table: one entry per query key, each parsed on its own so that one bad key is reported and
 * ignored without losing the others. `backend` is not here: the shell owns it and it is passed through untouched.
 */
export const URL_TABLE = {
  model: z.string().regex(/^[\w.-]+$/, 'not a model id'),
  task: z.string().regex(/^[a-z0-9_]+$/, 'not a task name'),
  pair: index,
  side: z.enum(['a', 'b']),
  prompt: z.string().max(10_000),
  node: nodeId,
  pos: index,
  iv: z.string().transform((s, ctx): Intervention[] => {
    try {
      return decodeInterventions(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  }),
  mode: ablationModeSchema,
  view: z.enum(['full', 'circuit']),
  /** A user-defined task's definition (base64url, at most MAX_URL_SPEC_CHARS), when the task is one. */
  custom: z.string().transform((s, ctx): CustomTaskSpec => {
    try {
      return decodeCustomTaskSpec(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  }),
} as const;

export type UrlKey = keyof typeof URL_TABLE;
export type UrlState = { [K in UrlKey]?: z.output<(typeof URL_TABLE)[K]> };

/** Parsed keys plus one message per rejected key. */
export function parseUrlState(search: string): { state: UrlState; problems: string[] } {
  const params = new URLSearchParams(search);
  const state: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(URL_TABLE) as UrlKey[]) {
    const raw = params.get(key);
    if (raw === null) continue;
    const r = URL_TABLE[key].safeParse(raw);
    if (r.success) state[key] = r.data;
    else problems.push(`ignored the link's "${key}" (${r.error.issues[0]?.message ?? 'invalid'})`);
  }
  return { state: state as UrlState, problems };
}

/** Query string for a state; keys not in the table (e.g. backend) are kept from `keep`. Empty values are omitted. */
export function formatUrlState(s: UrlState, keep: string): string {
  const params = new URLSearchParams(keep);
  for (const key of Object.keys(URL_TABLE)) params.delete(key);
  const put = (k: UrlKey, v: string | number | undefined) => {
    if (v !== undefined && v !== '') params.set(k, String(v));
  };
  put('model', s.model);
  put('task', s.task);
  put('pair', s.pair);
  put('side', s.side);
  put('prompt', s.prompt);
  put('node', s.node);
  put('pos', s.pos);
  if (s.iv && s.iv.length) put('iv', encodeInterventions(s.iv));
  put('mode', s.mode);
  put('view', s.view);
  if (s.custom) put('custom', encodeCustomTaskSpec(s.custom) ?? undefined);
  const q = params.toString();
  return q ? `?${q}` : '';
}
