import { describe, expect, it } from 'vitest';
import { defaultModel, fetchModelIndex, modelBaseUrl, parseModelIndex } from './modelIndex';

const index = {
  models: [
    { id: 'dense-1x', name: 'Dense baseline', kind: 'dense' },
    { id: 'sparse-4x', name: 'Sparse', kind: 'sparse', default: true, description: 'weight-sparse' },
  ],
};

describe('model index', () => {
  it('parses and picks the default', () => {
    const idx = parseModelIndex(index);
    expect(defaultModel(idx)!.id).toBe('sparse-4x');
    expect(defaultModel({ models: [index.models[0]!] as never })!.id).toBe('dense-1x');
    expect(defaultModel({ models: [] })).toBeNull();
    expect(modelBaseUrl('sparse-4x')).toBe('/models/sparse-4x/');
  });

  it('refuses bad entries with the problem named', () => {
    expect(() => parseModelIndex({ models: [{ id: '../x', name: 'a', kind: 'sparse' }] })).toThrow(
      'models/index.json is invalid: models.0.id: must be letters, digits',
    );
    expect(() => parseModelIndex({ models: [{ id: 'a', name: 'a', kind: 'moe' }] })).toThrow('models.0.kind');
    expect(() => parseModelIndex({ models: [index.models[1], index.models[1]] })).toThrow('duplicate id "sparse-4x"');
    expect(() => parseModelIndex({})).toThrow('models/index.json is invalid: models:');
  });

  it('fetches /models/index.json', async () => {
    const seen: string[] = [];
    const fetch = (async (u: RequestInfo | URL) => {
      seen.push(String(u));
      return new Response(JSON.stringify(index));
    }) as typeof globalThis.fetch;
    expect((await fetchModelIndex(undefined, { fetch })).models).toHaveLength(2);
    expect(seen).toEqual(['/models/index.json']);
    const notFound = (async () => new Response('', { status: 404 })) as typeof globalThis.fetch;
    await expect(fetchModelIndex('/m.json', { fetch: notFound })).rejects.toThrow('could not fetch the model list /m.json: HTTP 404');
    const garbage = (async () => new Response('<html>')) as typeof globalThis.fetch;
    await expect(fetchModelIndex('/m.json', { fetch: garbage })).rejects.toThrow('/m.json is not valid JSON');
  });
});
