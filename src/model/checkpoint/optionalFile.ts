/**
 * The one rule for files a model folder may lack (means, model card, snippets, tasks/, circuits/): over HTTP, 404 and
 * 410 mean "absent", and so does an HTML page where a data file should be, because dev servers and single-page hosts
 * answer unknown paths with index.html and status 200. Every other non-2xx answer is an error. Each reader of an
 * optional file goes through here, so the rule cannot drift apart again (it once did: 410 was absent in one reader
 * and an error in another).
 */

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** Statuses that mean the file is not there (410: deliberately removed). */
export const ABSENT_STATUSES: readonly number[] = [404, 410];

/** A non-2xx answer that does not mean "absent". */
export class HttpStatusError extends Error {
  constructor(readonly url: string, readonly status: number, readonly statusText: string) {
    super(`${url} could not be fetched (HTTP ${status})`);
    this.name = 'HttpStatusError';
  }
}

/** An HTML page served in place of a data file: a fallback page, never the file itself. */
export function isFallbackPage(res: Response): boolean {
  return (res.headers.get('content-type') ?? '').startsWith('text/html');
}

function discard(res: Response): void {
  // Read to the end rather than cancelled: a cancelled (or never read) response is a failed request in the browser
  // (net::ERR_ABORTED), and these bodies are small (a 404 text, a fallback index.html, an error page).
  void res.arrayBuffer().catch(() => {});
}

export interface OptionalFetchOptions {
  fetch?: FetchLike;
  init?: RequestInit;
  /** Statuses that also mean absent for this request (416 for a range request on an empty file). */
  alsoAbsent?: readonly number[];
}

/**
 * The response for `url`, or null when the file is absent by the rule above. Throws HttpStatusError for any other
 * non-2xx status; network errors and aborts propagate unchanged.
 */
export async function fetchOptional(url: string, opts: OptionalFetchOptions = {}): Promise<Response | null> {
  const doFetch: FetchLike = opts.fetch ?? ((u, init) => fetch(u, init));
  const res = opts.init ? await doFetch(url, opts.init) : await doFetch(url);
  if (ABSENT_STATUSES.includes(res.status) || opts.alsoAbsent?.includes(res.status)) {
    discard(res);
    return null;
  }
  if (!res.ok) {
    discard(res);
    throw new HttpStatusError(url, res.status, res.statusText);
  }
  if (isFallbackPage(res)) {
    discard(res);
    return null;
  }
  return res;
}
