import { z } from 'zod';
import { BACKEND_NAMES } from '../model/backends/types';
import { ablationModeSchema, type Intervention } from '../model/interventions';
import { parseByteSize } from '../model/memoryEstimate';
import { nodeIdSchema } from '../model/registry';
import { decodeCustomTaskSpec, encodeCustomTaskSpec, type CustomTaskSpec } from '../tasks/customTask';
import type { ExplorerState } from './explorerStore';
import { decodeInterventions, encodeInterventions } from './urlCodec';

const index = z.coerce.number().int().nonnegative();

/** A text form parsed by a function that throws a readable message (the message becomes the zod issue). */
const decoded = <T>(decode: (s: string) => T) => z.string().transform((s, ctx): T => {
  try {
    return decode(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

interface KeySpec<S extends z.ZodType> {
  schema: S;
  /**
   * The explorer-store field this key mirrors as it is (a "setting"): applied from a link, written from the store and
   * carried in a session file's `settings`, all by explorerSettings.ts, so such a key needs no code beyond its table line.
   */
  field?: keyof ExplorerState;
  /** The value as written in a link; undefined leaves the key out. Default: String(value). */
  format?: (v: z.output<S>) => string | undefined;
  /**
   * Machine-specific (this device's backend, memory, patience): read from the address bar, never written from
   * state, kept there as typed, and left out of a link meant for someone else.
   */
  notShared: boolean;
}
const shared = <S extends z.ZodType>(schema: S, format?: (v: z.output<S>) => string | undefined) =>
  ({ schema, format, notShared: false as const }) satisfies KeySpec<S>;
const machine = <S extends z.ZodType>(schema: S) => ({ schema, notShared: true as const }) satisfies KeySpec<S>;
/** A shared key mirroring explorer-store field F; its schema must yield that field's (non-null) type. */
const setting = <F extends keyof ExplorerState, S extends z.ZodType<NonNullable<ExplorerState[F]>>>(
  field: F, schema: S, format?: (v: z.output<S>) => string | undefined,
) => ({ schema, format, field, notShared: false as const }) satisfies KeySpec<S>;

/** Two different token ids, "12,40" (the link's model's ids; JSON-free so a link stays readable). */
function decodeTokenPair(s: string): [number, number] {
  const parts = s.split(',');
  const ids = parts.map((p) => (/^\d{1,9}$/.test(p) ? Number(p) : NaN));
  if (ids.length !== 2 || ids.some(Number.isNaN)) throw new Error('not two token ids like 12,40');
  if (ids[0] === ids[1]) throw new Error('the two tokens are the same');
  return [ids[0]!, ids[1]!];
}

/** A finite number >= 0 (-0 read as 0, so it formats back to the same state). */
function decodeThreshold(s: string): number {
  const x = Number(s);
  if (s.trim() === '' || !Number.isFinite(x) || x < 0) throw new Error('not a number >= 0');
  return x + 0;
}

/**
 * The typed URL-state table: one entry per query key drives both parsing and formatting. Each key is parsed on its
 * own, so one bad key is reported and ignored without losing the others. Shared keys are written in table order.
 */
export const URL_TABLE = {
  model: shared(z.string().regex(/^[\w.-]+$/, 'not a model id')),
  task: shared(z.string().regex(/^[a-z0-9_]+$/, 'not a task name')),
  pair: shared(index),
  side: shared(z.enum(['a', 'b'])),
  prompt: shared(z.string().max(10_000)),
  node: shared(nodeIdSchema),
  pos: shared(index),
  iv: shared(decoded<Intervention[]>(decodeInterventions), (list) => (list.length ? encodeInterventions(list) : undefined)),
  mode: shared(ablationModeSchema),
  view: shared(z.enum(['full', 'circuit'])),
  /** A user-defined task's definition (base64url, at most MAX_URL_SPEC_CHARS), when the task is one. */
  custom: shared(decoded<CustomTaskSpec>(decodeCustomTaskSpec), (spec) => encodeCustomTaskSpec(spec) ?? undefined),
  /** The two tokens the target panel compares on a free prompt (token ids). */
  targets: setting('targets', decoded(decodeTokenPair), (t) => t.join(',')),
  /** The graph's min |weight|: weight edges below it are hidden. */
  minWeight: setting('edgeThreshold', decoded(decodeThreshold)),
  /** The core view: the graph shows the N most important circuit nodes. */
  core: setting('core', z.coerce.number().int().min(1).max(1_000_000)),
  /** The compare view's second model (its id under models/); absent = the view is off. */
  compare: setting('compare', z.string().regex(/^[\w.-]+$/, 'not a model id')),
  /** Pins the compute backend instead of measuring. */
  backend: machine(z.enum(BACKEND_NAMES)),
  /** Caps the memory a model may use, e.g. 512MB or 1.5GiB (to try the refusal). */
  memoryBudget: machine(decoded((s) => {
    const bytes = parseByteSize(s);
    if (bytes === null) throw new Error('not a size like 512MB or 1.5GiB');
    return bytes;
  })),
  /** Forces the dense or the sparse weight representation. */
  weights: machine(z.enum(['dense', 'sparse'])),
  /** Optimisation steps of in-browser circuit search (tests use few). */
  pruneSteps: machine(z.coerce.number().int().min(1)),
} as const;

type Table = typeof URL_TABLE;
export type UrlKey = keyof Table;
export type SharedKey = { [K in UrlKey]: Table[K]['notShared'] extends true ? never : K }[UrlKey];
export type MachineKey = Exclude<UrlKey, SharedKey>;
/** The view a link carries. */
export type UrlState = { [K in SharedKey]?: z.output<Table[K]['schema']> };
/** This device's settings from the address bar. */
export type MachineUrlState = { [K in MachineKey]?: z.output<Table[K]['schema']> };

const KEYS = Object.keys(URL_TABLE) as UrlKey[];
export const MACHINE_KEYS = KEYS.filter((k) => URL_TABLE[k].notShared) as MachineKey[];
/** Keys that mirror an explorer-store field (see KeySpec.field). */
export type SettingKey = { [K in UrlKey]: Table[K] extends { field: keyof ExplorerState } ? K : never }[UrlKey];
export const SETTING_KEYS = KEYS.filter((k) => 'field' in URL_TABLE[k]) as SettingKey[];
export const settingField = <K extends SettingKey>(k: K): Table[K]['field'] => URL_TABLE[k].field;

export interface ParsedUrl {
  state: UrlState;
  machine: MachineUrlState;
  /** One message per rejected key (the key is ignored, the others still apply). */
  problems: string[];
  /** Keys the table does not know (a link from another version of the explorer, or another site's tracking key):
   *  kept in the address bar, reported, otherwise ignored. */
  unknown: string[];
}

/** Parsed shared and machine keys, one message per rejected key, and the keys this version does not know. */
export function parseUrlState(search: string): ParsedUrl {
  const params = new URLSearchParams(search);
  const state: Record<string, unknown> = {};
  const machineState: Record<string, unknown> = {};
  const problems: string[] = [];
  const unknown = [...new Set(params.keys())].filter((k) => !Object.hasOwn(URL_TABLE, k));
  for (const key of KEYS) {
    const raw = params.get(key);
    if (raw === null) continue;
    const spec = URL_TABLE[key];
    const r = spec.schema.safeParse(raw);
    if (r.success) (spec.notShared ? machineState : state)[key] = r.data;
    else problems.push(`ignored the link's "${key}" (${r.error.issues[0]?.message ?? 'invalid'})`);
  }
  return { state: state as UrlState, machine: machineState as MachineUrlState, problems, unknown };
}

export interface FormatOptions {
  /** A link for someone else: machine-specific keys are left out. */
  share?: boolean;
}

/**
 * Query string for a state. Keys not in the table are kept from `keep`; machine-specific keys are kept from it as
 * they are (or dropped when sharing); shared keys come from the state, empty values omitted.
 */
export function formatUrlState(s: UrlState, keep: string, opts: FormatOptions = {}): string {
  const params = new URLSearchParams(keep);
  for (const key of KEYS) if (!URL_TABLE[key].notShared || opts.share) params.delete(key);
  for (const key of KEYS) {
    const spec = URL_TABLE[key];
    if (spec.notShared) continue;
    const v = s[key as SharedKey];
    if (v === undefined) continue;
    const text = spec.format ? (spec.format as (x: unknown) => string | undefined)(v) : String(v);
    if (text !== undefined && text !== '') params.set(key, text);
  }
  const q = params.toString();
  return q ? `?${q}` : '';
}
