import { ATTENTION_QUERY_CHUNK } from './attentionChunk';
import { attention } from './layers';
import { tf } from './tfjs';

export { ATTENTION_QUERY_CHUNK };

/**
 * attention() (layers.ts) over chunks of `chunk` query positions, each in its own tidy so that one chunk's scores are
 * freed before the next is computed; the outputs are joined along the query axis. With a causal mask ([T, T], as many
 * queries as keys) a chunk reads only the keys up to its last query: the others have probability exactly 0 (their
 * masked score underflows exp), so leaving them out changes nothing. With `keepProbs` the attention pattern [B, H, Tq, T]
 * is assembled too (those columns padded with zeros); it is H*Tq*T floats, so ask for it only when it is recorded.
 */
export function chunkedAttention(
  q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, nHead: number, dHead: number, mask: tf.Tensor, sink: tf.Tensor | undefined,
  opts: { keepProbs?: boolean; chunk?: number } = {},
): { y: tf.Tensor3D; probs: tf.Tensor4D | null } {
  const chunk = opts.chunk ?? ATTENTION_QUERY_CHUNK;
  if (!(Number.isInteger(chunk) && chunk >= 1)) throw new Error(`attention chunk ${chunk} must be a positive whole number`);
  const [B, Tq] = q.shape;
  const T = k.shape[1];
  if (Tq <= chunk) {
    const { y, probs } = attention(q, k, v, nHead, dHead, mask, sink);
    return { y, probs: opts.keepProbs ? probs : null };
  }
  const causal = mask.rank === 2 && Tq === T;
  const ys: tf.Tensor3D[] = [];
  const ps: tf.Tensor4D[] = [];
  try {
    for (let start = 0; start < Tq; start += chunk) {
      const n = Math.min(chunk, Tq - start);
      const keys = causal ? start + n : T;
      const out = tf.tidy(() => {
        const upTo = (t: tf.Tensor3D) => (keys < T ? tf.slice(t, [0, 0, 0], [B, keys, t.shape[2]]) : t);
        const rows = mask.rank === 2
          ? tf.slice(mask, [start, 0], [n, keys])
          : tf.slice(mask, [0, 0, start, 0], [mask.shape[0]!, mask.shape[1]!, n, mask.shape[3]!]);
        const r = attention(tf.slice(q, [0, start, 0], [B, n, q.shape[2]]), upTo(k), upTo(v), nHead, dHead, rows, sink);
        if (!opts.keepProbs) return [r.y];
        return [r.y, keys < T ? tf.pad(r.probs, [[0, 0], [0, 0], [0, 0], [0, T - keys]]) : r.probs];
      });
      ys.push(out[0] as tf.Tensor3D);
      if (opts.keepProbs) ps.push(out[1] as tf.Tensor4D);
    }
    return { y: tf.concat(ys, 1), probs: opts.keepProbs ? tf.concat(ps, 2) : null };
  } finally {
    tf.dispose([...ys, ...ps]);
  }
}
