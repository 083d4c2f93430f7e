import { beforeAll, describe, expect, it } from 'vitest';
import { ATTENTION_QUERY_CHUNK, chunkedAttention } from './chunkedAttention';
import { attention, causalMask } from './layers';
import { allSites } from './sites';
import { goldenDiffs, maxAbsDiff, testTokens } from './testing/goldenDiffs';
import { useBackend, type NodeBackendName } from './testing/nodeBackends';
import { ALL_ABS_TOPK_LOCATIONS, randomCheckpoint } from './testing/randomCheckpoint';
import { tf } from './tfjs';

/** Seeded normal-ish values (sum of uniforms), so that both sides see the same inputs on every backend. */
function values(n: number, seed: number, scale = 1): Float32Array {
  const u = testTokens(n * 3, 1 << 20, seed);
  return Float32Array.from({ length: n }, (_, i) => scale * ((u[3 * i]! + u[3 * i + 1]! + u[3 * i + 2]!) / (1 << 20) - 1.5));
}

const H = 3;
const D = 4;
const Q = H * D;
const qkv = (B: number, Tq: number, T: number, seed: number) => ({
  q: tf.tensor3d(values(B * Tq * Q, seed, 3), [B, Tq, Q]),
  k: tf.tensor3d(values(B * T * Q, seed + 1, 3), [B, T, Q]),
  v: tf.tensor3d(values(B * T * Q, seed + 2), [B, T, Q]),
});

describe.each<NodeBackendName>(['cpu', 'wasm'])('chunked attention on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each([false, true])('equals attention() in one piece, outputs and pattern, for any chunk size (sink %s)', async (withSink) => {
    const B = 2;
    const T = 70;
    const { q, k, v } = qkv(B, T, T, 5);
    const mask = causalMask(T);
    const sink = withSink ? tf.tensor1d([0.5, -1, 2]) : undefined;
    const whole = attention(q, k, v, H, D, mask, sink);
    const wantY = await whole.y.data();
    const wantP = await whole.probs.data();
    for (const chunk of [1, 7, 32, 69, 70, 500]) {
      const got = chunkedAttention(q, k, v, H, D, mask, sink, { chunk, keepProbs: true });
      expect(got.y.shape).toEqual([B, T, Q]);
      expect(got.probs!.shape).toEqual([B, H, T, T]);
      expect(maxAbsDiff(await got.y.data(), wantY), `y, chunk ${chunk}`).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(await got.probs!.data(), wantP), `pattern, chunk ${chunk}`).toBeLessThanOrEqual(1e-6);
      tf.dispose([got.y, got.probs!]);
    }
    tf.dispose([q, k, v, mask, whole.y, whole.probs, ...(sink ? [sink] : [])]);
  });

  it('chunks the queries of a packed run too (mask rows [B, 1, Tq, T], all keys read)', async () => {
    const B = 2;
    const T = 9;
    const Tq = 5;
    const { q, k, v } = qkv(B, Tq, T, 9);
    // Each sequence's queries see a different number of keys: not a causal [T, T] mask.
    const m = new Float32Array(B * Tq * T);
    for (let b = 0; b < B; b++) for (let i = 0; i < Tq; i++) for (let j = 0; j < T; j++) if (j > i + 2 + b) m[(b * Tq + i) * T + j] = -1e9;
    const mask = tf.tensor4d(m, [B, 1, Tq, T]);
    const whole = attention(q, k, v, H, D, mask);
    const got = chunkedAttention(q, k, v, H, D, mask, undefined, { chunk: 2, keepProbs: true });
    expect(maxAbsDiff(await got.y.data(), await whole.y.data())).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(await got.probs!.data(), await whole.probs.data())).toBeLessThanOrEqual(1e-6);
    tf.dispose([q, k, v, mask, whole.y, whole.probs, got.y, got.probs!]);
  });

  it('frees each chunk before the next: peak memory grows with T, not T^2', async () => {
    /** Most backend bytes held at once while computing the attention output (tf.profile counts every kernel). */
    const peak = async (T: number, chunk: number | null) => {
      const { q, k, v } = qkv(1, T, T, 3);
      const mask = causalMask(T);
      const before = tf.memory().numBytes;
      const info = await tf.profile(() => (chunk === null ? attention(q, k, v, H, D, mask).y : chunkedAttention(q, k, v, H, D, mask, undefined, { chunk }).y));
      tf.dispose([q, k, v, mask, info.result as tf.Tensor]);
      return info.peakBytes - before;
    };
    const chunked = [await peak(128, 16), await peak(256, 16), await peak(512, 16)];
    const whole = [await peak(128, null), await peak(256, null)];
    // Doubling T: the one-piece scores take 4x the bytes; a chunk's scores 2x (their key axis grows, the query axis not).
    expect(whole[1]! / whole[0]!).toBeGreaterThan(3.5);
    expect(chunked[1]! / chunked[0]!).toBeLessThan(2.5);
    expect(chunked[2]! / chunked[1]!).toBeLessThan(2.5);
    expect(chunked[1]!).toBeLessThan(whole[1]! / 4);
  });

  it('rejects a chunk size that is not a positive whole number', () => {
    const { q, k, v } = qkv(1, 3, 3, 1);
    const mask = causalMask(3);
    for (const chunk of [0, -1, 1.5]) expect(() => chunkedAttention(q, k, v, H, D, mask, undefined, { chunk })).toThrow(/positive whole number/);
    tf.dispose([q, k, v, mask]);
  });

  it(`a ${ATTENTION_QUERY_CHUNK * 2 + 22}-token prompt (three chunks) matches the float64 reference: logits, every site, every attention pattern, with a sink`, async () => {
    const T = ATTENTION_QUERY_CHUNK * 2 + 22;
    const ckpt = randomCheckpoint({ config: { blockSize: T + 8, sink: true, afrac: 0.25, afracLocations: ALL_ABS_TOPK_LOCATIONS, bigramTable: true }, seed: 4 });
    const diffs = await goldenDiffs(ckpt, testTokens(T, ckpt.config.vocabSize, 12));
    expect(Object.keys(diffs).filter((k) => !k.startsWith('near-tie'))).toHaveLength(1 + allSites(ckpt.config).length + ckpt.config.nLayer);
    expect(Object.entries(diffs).filter(([, d]) => !(d <= 1e-4)), 'max abs diff above 1e-4').toEqual([]);
  });
});
