import type { TaskFile, TaskPair } from '../../tasks/taskSchema';

/**
 * A seeded task of `n` contrast pairs of random prompts (3-6 tokens below `vocab`) with fixed labels (token 1 over 2
 * in each pair's first prompt, 2 over 1 in its second); the last 4 pairs are the test pairs. For tests that need a
 * valid task to run pruning on, not one a model can do.
 */
export function randomTask(n: number, vocab: number): TaskFile {
  let s = 11;
  const rnd = (m: number) => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % m);
  const prompt = (flip: boolean) => {
    const tokens = Array.from({ length: 3 + rnd(4) }, () => rnd(vocab));
    return { text: tokens.join(' '), tokens, correct: flip ? 2 : 1, alternative: flip ? 1 : 2 };
  };
  const pairs: TaskPair[] = Array.from({ length: n }, () => ({ a: prompt(false), b: prompt(true) }));
  return { task: 'tiny', description: 'test', target_tokens: ['1', '2'], train: pairs.slice(0, n - 4), test: pairs.slice(n - 4) };
}
