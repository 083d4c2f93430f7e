import { describe, expect, it } from 'vitest';
import { makeSession, parseSession } from './sessionFile';

const base = { model: 'm', task: 'custom_q', mode: 'mean' as const, view: 'full' as const, interventions: [], selection: { pair: 0, side: 'a' as const, node: null, pos: null }, circuit: null };

describe('session file', () => {
  it('carries a user-defined task and validates it; older files without one still load', () => {
    const customTask = { name: 'q', targets: ['"', "'"] as [string, string], examples: 'x = "a || x = \'a' };
    const back = parseSession(JSON.stringify(makeSession({ ...base, customTask })));
    expect(back.custom_task).toEqual(customTask);
    expect(parseSession(JSON.stringify(makeSession(base))).custom_task).toBeUndefined();
    const bad = { ...makeSession(base), custom_task: { ...customTask, name: 'No Spaces' } };
    expect(() => parseSession(JSON.stringify(bad))).toThrow(/custom_task/);
  });
});
