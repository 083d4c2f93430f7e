import type { ExplorerState } from './explorerStore';
import { formatUrlState, parseUrlState, SETTING_KEYS, settingField, type UrlState } from './urlState';

/**
 * The explorer's "settings": store fields that the URL table mirrors one to one (URL_TABLE entries made with
 * `setting(field, ...)`, e.g. the chosen target tokens and the edge threshold). The link and the session file both
 * carry them through the table's own parse and format, so a new setting is one table line and round-trips everywhere.
 */
type Patch = Partial<Record<keyof ExplorerState, unknown>>;

/** The settings of a store state as link state (a null field is left out: it is the default). */
export function settingsToUrl(ex: ExplorerState): UrlState {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const v = ex[settingField(key)];
    if (v !== null && v !== undefined) out[key] = v;
  }
  return out as UrlState;
}

/**
 * A store patch from link state. With `defaults`, a setting the state lacks is reset to it (a session file describes
 * the whole view); without, it is left as it is (a link only adds to the store's initial state).
 */
export function settingsFromUrl(s: UrlState, defaults?: ExplorerState): Partial<ExplorerState> {
  const patch: Patch = {};
  for (const key of SETTING_KEYS) {
    const field = settingField(key);
    if (s[key] !== undefined) patch[field] = s[key];
    else if (defaults) patch[field] = defaults[field];
  }
  return patch as Partial<ExplorerState>;
}

/** A session file's `settings`: each setting that is not at its default, in its link text. */
export function formatSettings(ex: ExplorerState): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(formatUrlState(settingsToUrl(ex), '')));
}

/**
 * Reads a session file's `settings` with the link's table: the link state of the good ones, and one message per bad
 * key or key this version does not know (a file from another version still imports; its extras are named).
 */
export function parseSettings(settings: Record<string, string>): { state: UrlState; problems: string[] } {
  const { state, problems, unknown } = parseUrlState(`?${new URLSearchParams(settings)}`);
  const known = new Set<string>(SETTING_KEYS);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) if (known.has(k)) out[k] = v;
  const foreign = [...unknown, ...Object.keys(settings).filter((k) => !known.has(k) && !unknown.includes(k))];
  return {
    state: out as UrlState,
    problems: [...problems.map((p) => p.replace("the link's", "the session's")), ...(foreign.length ? [unknownKeysNotice(foreign, 'session file setting')] : [])],
  };
}

/** One notice naming keys this version does not know (shortened, quoted: they are arbitrary text). */
export function unknownKeysNotice(keys: readonly string[], what: string): string {
  const named = keys.slice(0, 8).map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 37)}...` : k));
  const more = keys.length > 8 ? ` and ${keys.length - 8} more` : '';
  return `ignored the ${what}${keys.length > 1 ? 's' : ''} ${named.join(', ')}${more}: not known to this version of the explorer`;
}
