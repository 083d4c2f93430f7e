import { describe, expect, it, vi } from 'vitest';
import { fetchOptional, HttpStatusError } from './optionalFile';
import { urlSource } from './sources';

const answer = (status: number, type = 'application/octet-stream', body: string | null = 'x') =>
  vi.fn(async () => new Response(body, { status, headers: { 'content-type': type } }));

describe('fetchOptional: the one rule for optional model-folder files', () => {
  it.each([404, 410])('HTTP %i means absent', async (status) => {
    expect(await fetchOptional('/m/means.safetensors', { fetch: answer(status) })).toBeNull();
  });

  it('an HTML page where a data file should be (a dev server fallback) means absent', async () => {
    expect(await fetchOptional('/m/circuits/t.json', { fetch: answer(200, 'text/html; charset=utf-8', '<!doctype html>') })).toBeNull();
  });

  it('returns the response of a present file, untouched', async () => {
    const res = await fetchOptional('/m/tasks/t.json', { fetch: answer(200, 'application/json', '{"a":1}') });
    expect(await res?.json()).toEqual({ a: 1 });
  });

  it('any other failure is an error naming the URL and status', async () => {
    const p = fetchOptional('/m/snippets.safetensors', { fetch: answer(500, 'text/html', 'oops') });
    await expect(p).rejects.toBeInstanceOf(HttpStatusError);
    await expect(fetchOptional('/m/x', { fetch: answer(403) })).rejects.toThrow('/m/x could not be fetched (HTTP 403)');
  });

  it('extra absent statuses apply only where asked (416 for a range read)', async () => {
    expect(await fetchOptional('/m/x', { fetch: answer(416), alsoAbsent: [416] })).toBeNull();
    await expect(fetchOptional('/m/x', { fetch: answer(416) })).rejects.toThrow(/HTTP 416/);
  });

  it('passes the request options through and lets network errors propagate', async () => {
    const f = answer(200);
    await fetchOptional('/m/x', { fetch: f, init: { method: 'HEAD' } });
    expect(f).toHaveBeenCalledWith('/m/x', { method: 'HEAD' });
    const down = vi.fn(async () => { throw new TypeError('Failed to fetch'); });
    await expect(fetchOptional('/m/x', { fetch: down })).rejects.toThrow('Failed to fetch');
  });
});

// The folder loader's reads follow the rule too (the state/ callers are checked in src/state/optionalFiles.test.ts).
describe('urlSource', () => {
  it('reads 410 and a fallback page as absent, in full and in head reads', async () => {
    for (const f of [answer(410), answer(200, 'text/html', '<!doctype html>')]) {
      const src = urlSource('http://h/m/', { fetch: f as unknown as typeof fetch });
      expect(await src.read('means.safetensors', { stage: 'means' })).toBeNull();
      expect(await src.readHead!('model.safetensors', 8, {})).toBeNull();
    }
  });
});
