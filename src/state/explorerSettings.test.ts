import { beforeEach, describe, expect, it } from 'vitest';
import { useAppStore } from './appStore';
import { exportSession, importSession } from './explorerActions';
import { formatSettings, parseSettings, settingsFromUrl, settingsToUrl } from './explorerSettings';
import { useExplorerStore, type ExplorerState } from './explorerStore';
import { useLiveStore } from './liveStore';
import { makeSession, parseSession } from './sessionFile';
import { formatUrlState, parseUrlState, SETTING_KEYS, settingField, type SettingKey, type UrlState } from './urlState';

/** One non-default value per setting: a new URL_TABLE setting fails to compile here until it has one. */
const SAMPLES: { [K in SettingKey]: NonNullable<UrlState[K]> } = { targets: [17, 3], minWeight: 0.0625, core: 12, compare: 'dense-py-2l' };
const initial = useExplorerStore.getInitialState();
const withSamples = (): ExplorerState => ({ ...initial, ...settingsFromUrl(SAMPLES) });

beforeEach(() => {
  useExplorerStore.setState(initial, true);
  useLiveStore.setState({ notices: [] });
});

describe('explorer settings (store fields the URL table mirrors)', () => {
  it('every setting maps to its store field and back', () => {
    const ex = withSamples();
    for (const key of SETTING_KEYS) expect(ex[settingField(key)], key).toEqual(SAMPLES[key]);
    expect(settingsToUrl(ex)).toEqual(SAMPLES);
    expect(settingsToUrl(initial)).toEqual({}); // defaults are left out of links and files
  });
  it('every setting round-trips through the link', () => {
    const back = parseUrlState(formatUrlState(settingsToUrl(withSamples()), ''));
    expect(back.problems).toEqual([]);
    expect(settingsFromUrl(back.state)).toEqual(settingsFromUrl(SAMPLES));
  });
  it('every setting round-trips through a session file; a setting the file lacks goes back to its default', () => {
    const file = makeSession({ ...base, settings: formatSettings(withSamples()) });
    const read = parseSettings(parseSession(JSON.stringify(file)).settings ?? {});
    expect(read.problems).toEqual([]);
    expect(settingsFromUrl(read.state, initial)).toEqual(settingsFromUrl(SAMPLES));
    expect(settingsFromUrl(parseSettings({}).state, withSamples())).toEqual(settingsFromUrl(SAMPLES));
    expect(settingsFromUrl({}, initial)).toEqual({ targets: null, edgeThreshold: null, core: null, compare: null });
  });
  it('a session file\'s bad or unknown settings are named; the good ones still apply', () => {
    const r = parseSettings({ targets: '5,5', minWeight: '0.5', layoutMode: 'on', model: 'x' });
    expect(r.state).toEqual({ minWeight: 0.5 });
    expect(r.problems).toHaveLength(2);
    expect(r.problems[0]).toMatch(/^ignored the session's "targets" \(the two tokens are the same\)$/);
    expect(r.problems[1]).toBe('ignored the session file settings "layoutMode", "model": not known to this version of the explorer');
  });
});

const base = { model: 'm', task: null, mode: 'zero' as const, view: 'full' as const, interventions: [], selection: { pair: null, side: 'a' as const, node: null, pos: null }, circuit: null };

describe('export and import of a session with a free prompt and chosen tokens', () => {
  it('restores the prompt, the tokens and the threshold; an older file without them still imports', async () => {
    useExplorerStore.setState({ targets: [4, 9], edgeThreshold: 0.25, pair: null, mode: 'zero', view: 'full' });
    useAppStore.setState({ prompt: 'x = (1, ' });
    const text = exportSession();
    const file = parseSession(text);
    expect(file.selection.prompt).toBe('x = (1, ');
    expect(file.settings).toEqual({ targets: '4,9', minWeight: '0.25' });

    useExplorerStore.setState(initial, true);
    useAppStore.setState({ prompt: 'something else' });
    expect(await importSession(text)).toBeNull();
    expect(useExplorerStore.getState()).toMatchObject({ targets: [4, 9], edgeThreshold: 0.25, pair: null, mode: 'zero', view: 'full' });
    expect(useAppStore.getState().prompt).toBe('x = (1, ');

    const older = JSON.parse(text) as Record<string, unknown>;
    delete older.settings;
    delete (older.selection as Record<string, unknown>).prompt;
    expect(await importSession(JSON.stringify(older))).toBeNull();
    expect(useExplorerStore.getState()).toMatchObject({ targets: null, edgeThreshold: null });
    expect(useAppStore.getState().prompt).toBe('x = (1, '); // an older file has no prompt: the one on screen stays
    expect(useLiveStore.getState().notices).toEqual([]);
  });
  it('a file from a newer version: unknown settings are reported as a notice, the rest imports', async () => {
    const text = JSON.stringify(makeSession({ ...base, settings: { targets: '1,2', layoutMode: 'full' } }));
    expect(await importSession(text)).toBeNull();
    expect(useExplorerStore.getState().targets).toEqual([1, 2]);
    expect(useLiveStore.getState().notices).toEqual(['ignored the session file setting "layoutMode": not known to this version of the explorer']);
  });
});
