import { describe, expect, it } from 'vitest';
import { matchFolderFile } from './folderPaths';
import { filesSource, mapSource, urlSource, type LoadProgressEvent } from './sources';

function streamOf(chunks: Uint8Array[], hang = false): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(ctrl) {
      if (i < chunks.length) ctrl.enqueue(chunks[i++]!);
      else if (!hang) ctrl.close();
      else return new Promise(() => {});
    },
  });
}

function fakeFetch(routes: Record<string, () => Response>): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  const f = (async (input: RequestInfo | URL) => {
    const url = String(input);
    urls.push(url);
    const r = routes[url];
    return r ? r() : new Response('not found', { status: 404 });
  }) as typeof fetch;
  return { fetch: f, urls };
}

describe('urlSource', () => {
  it('streams with typed progress events and Content-Length totals', async () => {
    const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])];
    const { fetch, urls } = fakeFetch({
      'http://h/models/m/model.safetensors': () =>
        new Response(streamOf(chunks), { headers: { 'content-length': '5', 'content-type': 'application/octet-stream' } }),
    });
    const events: LoadProgressEvent[] = [];
    const src = urlSource('http://h/models/m', { fetch });
    const bytes = await src.read('model.safetensors', { stage: 'weights', onProgress: (e) => events.push(e) });
    expect([...bytes!]).toEqual([1, 2, 3, 4, 5]);
    expect(urls).toEqual(['http://h/models/m/model.safetensors']);
    expect(events[0]).toEqual({ stage: 'weights', file: 'model.safetensors', loadedBytes: 0, totalBytes: 5 });
    expect(events.at(-1)).toEqual({ stage: 'weights', file: 'model.safetensors', loadedBytes: 5, totalBytes: 5 });
  });

  it('has a null total without Content-Length or when compressed, and grows its buffer', async () => {
    const big = Array.from({ length: 5 }, (_, i) => new Uint8Array(40_000).fill(i));
    const { fetch } = fakeFetch({
      'http://h/a/config.json': () => new Response(streamOf(big)),
      'http://h/a/means.safetensors': () =>
        new Response(streamOf([new Uint8Array(3)]), { headers: { 'content-length': '2', 'content-encoding': 'gzip' } }),
    });
    const events: LoadProgressEvent[] = [];
    const src = urlSource('http://h/a/', { fetch });
    const bytes = await src.read('config.json', { stage: 'config', onProgress: (e) => events.push(e) });
    expect(bytes!.length).toBe(200_000);
    expect(bytes![199_999]).toBe(4);
    expect(events.every((e) => e.totalBytes === null)).toBe(true);
    const m = await src.read('means.safetensors', { stage: 'means', onProgress: (e) => events.push(e) });
    expect(m!.length).toBe(3);
    expect(events.at(-1)!.totalBytes).toBeNull();
  });

  it('treats 404 and dev-server HTML fallbacks as missing, other failures as errors', async () => {
    const { fetch } = fakeFetch({
      'http://h/x/means.safetensors': () => new Response('<!doctype html>', { headers: { 'content-type': 'text/html; charset=utf-8' } }),
      'http://h/x/config.json': () => new Response('oops', { status: 500, statusText: 'Server Error' }),
    });
    const src = urlSource('http://h/x/', { fetch });
    expect(await src.read('model-card.json', { stage: 'validate' })).toBeNull();
    expect(await src.read('means.safetensors', { stage: 'means' })).toBeNull();
    await expect(src.read('config.json', { stage: 'config' })).rejects.toThrow(
      'config.json: could not fetch http://h/x/config.json: HTTP 500 Server Error',
    );
    const failing = urlSource('http://h/y/', { fetch: (async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch });
    await expect(failing.read('config.json', { stage: 'config' })).rejects.toThrow(
      'config.json: could not fetch http://h/y/config.json (Failed to fetch)',
    );
  });

  it('cancels a download when the signal aborts', async () => {
    const { fetch } = fakeFetch({
      'http://h/z/model.safetensors': () => new Response(streamOf([new Uint8Array(10)], true), { headers: { 'content-length': '100' } }),
    });
    const ctrl = new AbortController();
    const src = urlSource('http://h/z/', { fetch });
    const p = src.read('model.safetensors', {
      stage: 'weights',
      signal: ctrl.signal,
      onProgress: (e) => {
        if (e.loadedBytes === 10) ctrl.abort();
      },
    });
    // The first chunk's event may be throttled: abort shortly after the read has started as well.
    setTimeout(() => ctrl.abort(), 20);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('filesSource and mapSource', () => {
  const file = (path: string, text: string) => ({ path, file: new Blob([text]) });

  it('matches picked files by name, including folder paths', async () => {
    const src = filesSource([
      file('my-model/config.json', '{}'),
      file('my-model/tokenizer/encoder.json', 'E'),
      new File(['V'], 'vocab.bpe'),
    ]);
    const dec = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);
    expect(dec(await src.read('config.json', { stage: 'config' }))).toBe('{}');
    expect(dec(await src.read('tokenizer/encoder.json', { stage: 'tokenizer' }))).toBe('E');
    expect(dec(await src.read('tokenizer/vocab.bpe', { stage: 'tokenizer' }))).toBe('V');
    expect(await src.read('means.safetensors', { stage: 'means' })).toBeNull();
  });

  it('prefers the exact folder path among same-named files, and refuses real ambiguity', () => {
    const entries = [
      { path: 'a/tokenizer/encoder.json', value: 1 },
      { path: 'a/encoder.json', value: 2 },
    ];
    expect(matchFolderFile(entries, 'tokenizer/encoder.json', 'x')).toBe(1);
    expect(() =>
      matchFolderFile(
        [
          { path: 'a/config.json', value: 1 },
          { path: 'b/config.json', value: 2 },
        ],
        'config.json',
        'the chosen files',
      ),
    ).toThrow('config.json: found 2 files named "config.json" in the chosen files (a/config.json, b/config.json); pick the files of a single model folder');
  });

  it('reads in-memory maps of bytes or text', async () => {
    const src = mapSource(new Map<string, Uint8Array | string>([['config.json', '{"a":1}'], ['tokenizer/vocab.bpe', new Uint8Array([65])]]));
    expect(new TextDecoder().decode((await src.read('config.json', { stage: 'config' }))!)).toBe('{"a":1}');
    expect([...(await src.read('tokenizer/vocab.bpe', { stage: 'tokenizer' }))!]).toEqual([65]);
    expect(await src.read('model.safetensors', { stage: 'weights' })).toBeNull();
  });
});

describe('urlSource URLs', () => {
  it('appends file paths before a query string', async () => {
    const { fetch, urls } = fakeFetch({});
    const src = urlSource('https://h/m?sig=1', { fetch });
    await src.read('tokenizer/vocab.bpe', { stage: 'tokenizer' });
    expect(urls).toEqual(['https://h/m/tokenizer/vocab.bpe?sig=1']);
    expect(src.label).toBe('https://h/m/?sig=1');
  });
});
