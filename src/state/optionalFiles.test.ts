import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearSnippetsCache, loadSnippets } from './snippets';
import { fetchCircuit, fetchTaskList } from './taskFiles';

// The state/ readers of optional model-folder files share model/checkpoint/optionalFile.ts's rule: 404, 410 and a
// dev server's HTML fallback page all mean "absent" (the task files once threw on 410 while snippets did not).
const answer = (status: number, type = 'application/json', body = 'x') =>
  vi.fn(async () => new Response(body, { status, headers: { 'content-type': type } }));
const SHAPE = { nLayer: 1, dModel: 4, dMlp: 8, nHead: 1, dHead: 4, vocabSize: 10 };

describe('optional files read from state/', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    clearSnippetsCache();
  });

  for (const [what, make] of [['404', () => answer(404)], ['410', () => answer(410)], ['an HTML fallback page', () => answer(200, 'text/html', '<!doctype html>')]] as const) {
    it(`${what} is absent for snippets, circuits and the task list`, async () => {
      expect(await loadSnippets(`/m-${what}/`, SHAPE, make())).toBeNull();
      vi.stubGlobal('fetch', make());
      expect(await fetchCircuit('/m/', 'quote')).toBeNull();
      expect(await fetchTaskList('/m/', { tasks: ['from_card'] })).toEqual(['from_card']);
    });
  }

  it('other failures are errors naming the status', async () => {
    vi.stubGlobal('fetch', answer(500));
    await expect(fetchCircuit('/m/', 'quote')).rejects.toThrow('circuits/quote.json: could not fetch /m/circuits/quote.json: HTTP 500');
    await expect(loadSnippets('/m500/', SHAPE, answer(500))).rejects.toThrow(/HTTP 500/);
  });
});
