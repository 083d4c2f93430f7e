import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, configToJson, parseConfig, type ModelConfig } from './config';
import { cleanly, fuzzParams, jsonMutations } from './testing/fuzz';
import { makeConfig } from './testing/randomCheckpoint';

/**
 * Property: parseConfig on any JSON value (random, or a valid config.json with keys deleted, retyped or pushed to
 * the edges) returns a config that keeps the schema's promises, or throws a ConfigError naming the bad key.
 */
function expectSound(c: ModelConfig): void {
  for (const k of ['blockSize', 'vocabSize', 'nLayer', 'nHead', 'dHead', 'dModel', 'dMlp'] as const) {
    expect(Number.isSafeInteger(c[k]) && c[k] > 0, k).toBe(true);
  }
  if (c.afrac !== null) expect(c.afrac > 0 && c.afrac < 1).toBe(true);
  expect(['gelu', 'relu']).toContain(c.activation);
  // What parses, writes back to something that parses to the same config.
  expect(parseConfig(configToJson(c))).toEqual(c);
}

const valid = configToJson(makeConfig({ afrac: 0.25 }));

describe('config.json parser, fuzzed', () => {
  it('random JSON values', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => {
      const c = cleanly(() => parseConfig(v), [ConfigError], /^config\.json is invalid: /);
      if (c) expectSound(c);
    }), fuzzParams(300));
  });

  it('mutations of a valid config', () => {
    fc.assert(fc.property(jsonMutations(valid), (v) => {
      const c = cleanly(() => parseConfig(v), [ConfigError], /^config\.json is invalid: \S+: /);
      if (c) expectSound(c);
    }), fuzzParams(500));
  });
});
