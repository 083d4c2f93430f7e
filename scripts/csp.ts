import type { Plugin } from 'vite';

/**
 * The built app's Content-Security-Policy. Why each source is there:
 * - script-src 'self' 'wasm-unsafe-eval': our hashed modules only; no 'unsafe-eval' (nothing may turn a string into
 *   code) and no 'unsafe-inline'; 'wasm-unsafe-eval' lets the TF.js WASM backend compile its .wasm binaries.
 * - worker-src 'self' blob:: the engine worker (assets/) and the service worker (sw.js) are ours; blob: is what the
 *   TF.js WASM backend's threaded build spawns its workers from, on hosts that enable cross-origin isolation.
 * - connect-src 'self': model folders, the .wasm binaries and index files are fetched from our origin only.
 * - img-src 'self' data: blob:: the PNG export rasterises the graph's SVG through a blob: URL.
 * - style-src 'self' 'unsafe-inline': React and d3 set element styles (the CSS itself is a hashed file).
 * - object-src 'none', base-uri 'self', form-action 'none': nothing here embeds plugins, rebases URLs or posts forms.
 * A <meta> policy covers the page only: a worker takes its policy from its own response header, so hosts should also
 * send this as a Content-Security-Policy header (`vite preview` does, see vite.config.ts).
 */
export const CSP_DIRECTIVES: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'worker-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'style-src': ["'self'", "'unsafe-inline'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'none'"],
};

export const CONTENT_SECURITY_POLICY = Object.entries(CSP_DIRECTIVES).map(([k, v]) => `${k} ${v.join(' ')}`).join('; ');

/**
 * Adds the policy as a <meta http-equiv> to every built page (index, bench, harness). Build only: the dev server's
 * hot reload injects inline scripts and styles that the policy would block.
 */
export function contentSecurityPolicy(): Plugin {
  return {
    name: 'explorer-content-security-policy',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      // Right after <meta charset>: before every script and stylesheet tag (a policy covers only what follows it).
      handler: (html) => {
        const meta = `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY.replace(/'/g, '&#39;')}" />`;
        const charset = /<meta charset="[^"]*"\s*\/?>/i;
        if (!charset.test(html)) throw new Error('contentSecurityPolicy: page has no <meta charset> to put the policy after');
        return html.replace(charset, (m) => `${m}${meta}`);
      },
    },
  };
}
