/**
 * Shared pieces of the parser fuzz tests (*.fuzz.test.ts, issue 12): a fixed seed and bounded runs so that they are
 * deterministic and take seconds in `npm test`; the "clean outcome" check; and mutations of valid inputs (random
 * bytes rarely get past the first check of a parser, mutated valid files reach the deep paths).
 */
import fc from 'fast-check';

/**
 * Same seed every run: a failure is reproducible from the test output, and CI does not flake. To search further by
 * hand: FUZZ_SEED=<n> FUZZ_SCALE=<runs multiplier> npx vitest run <file>.
 */
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
export const FUZZ_SEED = Number(env.FUZZ_SEED ?? 20_240_612);
const SCALE = Number(env.FUZZ_SCALE ?? 1);
export const fuzzParams = (numRuns: number) => ({ seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)), endOnFailure: true });

type ErrorClass = abstract new (...args: never[]) => Error;

/** Engine errors: a parser that lets one of these out crashed (bad typed-array length, undefined access, ...). */
const CRASHES: ErrorClass[] = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

/**
 * Runs `run`; a thrown error must be one of `allowed` (never an engine error or a non-Error) with a message that
 * says something (and matches `mentions`, e.g. the file name). Returns the result, or undefined when it threw cleanly.
 */
export function cleanly<T>(run: () => T, allowed: readonly ErrorClass[], mentions?: RegExp): T | undefined {
  try {
    return run();
  } catch (e) {
    judge(e, allowed, mentions);
    return undefined;
  }
}

export async function cleanlyAsync<T>(run: () => Promise<T>, allowed: readonly ErrorClass[], mentions?: RegExp): Promise<T | undefined> {
  try {
    return await run();
  } catch (e) {
    judge(e, allowed, mentions);
    return undefined;
  }
}

function judge(e: unknown, allowed: readonly ErrorClass[], mentions?: RegExp): void {
  if (!(e instanceof Error)) throw new Error(`threw a non-Error: ${String(e)}`);
  const crash = CRASHES.some((C) => Object.getPrototypeOf(e) === C.prototype);
  if (crash || !allowed.some((C) => e instanceof C)) {
    throw new Error(`crashed with ${e.name}: ${e.message}\n${e.stack ?? ''}`);
  }
  if (e.message.trim().length < 10) throw new Error(`unclear message from ${e.name}: "${e.message}"`);
  if (mentions && !mentions.test(e.message)) throw new Error(`message does not match ${mentions}: "${e.message}"`);
}

/** Truncations, overwritten bytes, inserted and deleted runs of a valid byte string (`focus`: edit only [0, focus)). */
export function byteMutations(valid: Uint8Array, focus = valid.length): fc.Arbitrary<Uint8Array> {
  const n = valid.length;
  return fc.oneof(
    fc.nat(n).map((k) => valid.slice(0, k)),
    fc.array(fc.tuple(fc.nat(Math.max(0, focus - 1)), fc.nat(255)), { minLength: 1, maxLength: 8 }).map((edits) => {
      const out = valid.slice();
      for (const [i, b] of edits) out[i] = b;
      return out;
    }),
    fc.tuple(fc.nat(focus), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([i, ins]) => {
      const out = new Uint8Array(n + ins.length);
      out.set(valid.subarray(0, i), 0);
      out.set(ins, i);
      out.set(valid.subarray(i), i + ins.length);
      return out;
    }),
    fc.tuple(fc.nat(focus), fc.integer({ min: 1, max: 16 })).map(([i, k]) => {
      const out = new Uint8Array(n - Math.min(k, n - i));
      out.set(valid.subarray(0, i), 0);
      out.set(valid.subarray(i + k), i);
      return out;
    }),
  );
}

/** Character-level mutations of a valid text (same edits as byteMutations, on UTF-16 units). */
export function textMutations(valid: string): fc.Arbitrary<string> {
  const n = valid.length;
  return fc.oneof(
    fc.nat(n).map((k) => valid.slice(0, k)),
    fc.array(fc.tuple(fc.nat(Math.max(0, n - 1)), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })), { minLength: 1, maxLength: 6 })
      .map((edits) => {
        const chars = [...valid];
        for (const [i, c] of edits) if (i < chars.length) chars[i] = c;
        return chars.join('');
      }),
    fc.tuple(fc.nat(n), fc.string({ maxLength: 12, unit: 'binary' })).map(([i, s]) => valid.slice(0, i) + s + valid.slice(i)),
    fc.tuple(fc.nat(n), fc.integer({ min: 1, max: 12 })).map(([i, k]) => valid.slice(0, i) + valid.slice(i + k)),
  );
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path (keys and indices) inside a JSON value, the root ([]) included. */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

/** Values that sit at the edges of what schemas accept. */
const edgeValues: fc.Arbitrary<Json> = fc.constantFrom<Json>(
  null, true, false, 0, -1, 1, 0.5, -0.5, 2 ** 31, 2 ** 53, 1e308, -1e308, 1e-320, '', ' ', 'x', '__proto__', [], {}, [0], { a: 1 },
);

/**
 * Structural mutations of a valid JSON document: one to three edits, each at a random path, that delete the key or
 * element, replace the value (by an edge value, an arbitrary JSON value, or a nearby number), or add a stray key.
 */
export function jsonMutations(valid: unknown): fc.Arbitrary<unknown> {
  const base = valid as Json;
  const all = paths(base);
  const edit = fc.tuple(fc.nat(all.length - 1), fc.nat(4), fc.oneof(edgeValues, fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>), fc.integer({ min: -3, max: 3 }));
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
    let doc = structuredClone(base);
    for (const [pi, op, value, delta] of edits) {
      const path = all[pi]!;
      if (path.length === 0) {
        if (op === 0) doc = value;
        continue;
      }
      let parent: Json = doc;
      for (const k of path.slice(0, -1)) parent = parent !== null && typeof parent === 'object' ? (parent as Record<string, Json>)[k as string] ?? null : null;
      if (parent === null || typeof parent !== 'object') continue; // an earlier edit removed it
      const key = path[path.length - 1]!;
      const obj = parent as Record<string | number, Json>;
      const old = obj[key];
      if (op === 0) {
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete obj[key];
      } else if (op === 1 && typeof old === 'number') obj[key] = old + delta;
      else if (op === 2 && !Array.isArray(parent)) obj[`stray_${delta + 3}`] = value;
      else obj[key] = value;
    }
    return doc;
  });
}
