/**
 * A hand-built one-layer model whose task circuit is known exactly, for tests of pruning and edge extraction.
 *
 * Vocabulary 6, d_model 4, d_mlp 4, one head of width 4, ReLU, no biases, attention weights all zero.
 * Token 1 embeds to [+1, 1, 0, 0], token 2 to [-1, 1, 0, 0] (channel 1 is a constant), other tokens to [0, 1, 0, 0].
 * MLP neuron 3 = relu(mlp.act_in[0]) (c_fc[3, 0] = 1) writes it to residual channel 2 (mlp c_proj[2, 3] = 1).
 * The unembedding reads residual channel 2 (+w for token 3, -w for token 0) and the constant channel 1 (-c, +c).
 * So after a prompt ending in token 1 the model prefers token 3 over 0; after token 2, token 0 over 3.
 * The circuit is exactly {0.mlp.act_in:0, 0.mlp.post_act:3, 0.mlp.resid_delta:2, final_resid:2}: every other
 * node either holds a constant (so mean ablation does not change it) or feeds only zero weights.
 */
import { parseConfig } from '../../model/config';
import { referenceForward } from '../../model/reference/referenceForward';
import type { HostTensor, LoadedCheckpoint } from '../../model/weights';
import type { TaskFile, TaskPair } from '../../tasks/taskSchema';

export const KNOWN_CIRCUIT = ['0.mlp.act_in:0', '0.mlp.post_act:3', '0.mlp.resid_delta:2', 'final_resid:2'];

const zeros = (shape: number[]): HostTensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
function set(t: HostTensor, r: number, c: number, v: number) {
  t.data[r * t.shape[1]! + c] = v;
}

export function handBuiltCheckpoint(): LoadedCheckpoint {
  const config = parseConfig({
    block_size: 8, vocab_size: 6, n_layer: 1, n_head: 1, d_head: 4, d_model: 4, d_mlp: 4,
    bias: false, activation_type: 'relu', rms_norm: true,
  });
  const V = 6, d = 4;
  const wte = zeros([V, d]);
  for (let t = 0; t < V; t++) set(wte, t, 1, 1);
  set(wte, 1, 0, 1);
  set(wte, 2, 0, -1);
  const ones = (n: number): HostTensor => ({ shape: [n], data: new Float32Array(n).fill(1) });
  const cFc = zeros([4, d]);
  set(cFc, 3, 0, 1);
  const cProj = zeros([d, 4]);
  set(cProj, 2, 3, 1);
  const lm = zeros([V, d]);
  set(lm, 3, 2, 5);
  set(lm, 0, 2, -5);
  set(lm, 3, 1, -2);
  set(lm, 0, 1, 2);
  const tensors = new Map<string, HostTensor>([
    ['transformer.wte.weight', wte],
    ['transformer.wpe.weight', zeros([8, d])],
    ['transformer.h.0.ln_1.weight', ones(d)],
    ['transformer.h.0.attn.c_attn.weight', zeros([12, d])],
    ['transformer.h.0.attn.c_proj.weight', zeros([d, 4])],
    ['transformer.h.0.ln_2.weight', ones(d)],
    ['transformer.h.0.mlp.c_fc.weight', cFc],
    ['transformer.h.0.mlp.c_proj.weight', cProj],
    ['transformer.ln_f.weight', ones(d)],
    ['lm_head.weight', lm],
  ]);
  const ckpt: LoadedCheckpoint = { config, tensors, means: new Map() };
  // Means over prompts ending in each of the two decisive tokens equally often.
  const seqs = [[4, 5, 1], [5, 4, 2], [4, 1], [5, 2]];
  const sums = new Map<string, Float64Array>();
  let n = 0;
  for (const s of seqs) {
    const { sites } = referenceForward(ckpt, s);
    for (const [name, buf] of sites) {
      const w = buf.length / s.length;
      let acc = sums.get(name);
      if (!acc) sums.set(name, (acc = new Float64Array(w)));
      for (let t = 0; t < s.length; t++) for (let c = 0; c < w; c++) acc[c] += buf[t * w + c]!;
    }
    n += s.length;
  }
  for (const [name, acc] of sums) ckpt.means.set(name, Float32Array.from(acc, (v) => v / n));
  return ckpt;
}

/** The matching task: the prompt's last token (1 or 2) decides between tokens 3 and 0. */
export function handBuiltTask(pairs = 12): TaskFile {
  const make = (i: number): TaskPair => {
    const ctx = [4 + (i % 2), 5 - (i % 2), 4 + ((i >> 1) % 2)].slice(0, 1 + (i % 3));
    return {
      a: { text: `a${i}`, tokens: [...ctx, 1], correct: 3, alternative: 0 },
      b: { text: `b${i}`, tokens: [...ctx, 2], correct: 0, alternative: 3 },
      source: 'hand-built',
    };
  };
  const all = Array.from({ length: pairs }, (_, i) => make(i));
  return { task: 'hand_built', description: 'last token 1 -> 3, 2 -> 0', target_tokens: ['3', '0'], train: all.slice(0, pairs - 4), test: all.slice(pairs - 4) };
}
