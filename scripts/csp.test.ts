import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, CSP_DIRECTIVES } from './csp';

describe('the built app\'s Content-Security-Policy', () => {
  it('forbids eval and inline scripts, and allows only what WebAssembly needs', () => {
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/'unsafe-eval'/);
    expect(CSP_DIRECTIVES['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(CSP_DIRECTIVES['script-src']).not.toContain("'unsafe-inline'");
    // Every fetch directive that could run script falls back to script-src or is set: no wildcard anywhere.
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/\*|https?:|data:[^;]*;?\s*script/);
    expect(CSP_DIRECTIVES['object-src']).toEqual(["'none'"]);
  });

  it('is one well-formed policy string', () => {
    for (const part of CONTENT_SECURITY_POLICY.split('; ')) expect(part).toMatch(/^[a-z-]+( [^ ;]+)+$/);
  });
});
