import { z } from 'zod';

/**
 * Zod 4 compiles object parsers with `new Function` unless told it is jitless. The built app's Content-Security-Policy
 * forbids eval (scripts/csp.ts); zod falls back by itself, but only after a probe that the browser reports as a policy
 * violation. Every browser entry (page, engine worker, harness, bench) imports this module first, before any module
 * that builds a schema (zod decides when a schema is created). Node tests and CLIs do not need it.
 */
z.config({ jitless: true });
