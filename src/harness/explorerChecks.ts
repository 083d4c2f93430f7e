// An independent check of the explorer's numbers: loads a model folder on the main thread (not through the engine
// worker) and runs each prompt on its own, unpadded, returning the raw target logits. The e2e test compares these
// with what the explorer shows for the same interventions.
import { loadModelFolder } from '../model/checkpoint/loadModelFolder';
import { urlSource } from '../model/checkpoint/sources';
import { SparseGpt } from '../model/forward';
import { interventionListSchema } from '../model/interventions';
import { tf } from '../model/tfjs';

export interface CheckPrompt { tokens: number[]; correct: number; alternative: number }

export async function targetLogits(baseUrl: string, backend: string, prompts: CheckPrompt[], interventions: unknown): Promise<[number, number][]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to start`);
  await tf.ready();
  const list = interventionListSchema.parse(interventions);
  const { checkpoint } = await loadModelFolder(urlSource(baseUrl));
  const model = SparseGpt.fromCheckpoint(checkpoint);
  const V = checkpoint.config.vocabSize;
  try {
    const out: [number, number][] = [];
    for (const p of prompts) {
      const r = await model.run(p.tokens, { interventions: list });
      const last = (p.tokens.length - 1) * V;
      out.push([r.logits[last + p.correct]!, r.logits[last + p.alternative]!]);
    }
    return out;
  } finally {
    model.dispose();
  }
}

/** One layer's attention probabilities [H * T * T] for one prompt under `interventions`, computed the same way. */
export async function attentionPattern(baseUrl: string, backend: string, tokens: number[], layer: number, interventions: unknown): Promise<number[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to start`);
  await tf.ready();
  const list = interventionListSchema.parse(interventions);
  const { checkpoint } = await loadModelFolder(urlSource(baseUrl));
  const model = SparseGpt.fromCheckpoint(checkpoint);
  try {
    const r = await model.run(tokens, { interventions: list, recordAttention: [layer] });
    return [...r.attention.get(layer)!];
  } finally {
    model.dispose();
  }
}
