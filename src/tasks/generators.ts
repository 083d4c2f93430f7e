/**
 * The task suite: binary next-token tasks on Python code, after the paper's (Gao et al. 2025, section 5). Every
 * example is a contrast pair (a, b): two prompts that differ in the feature the task is about, whose correct next
 * tokens are the task's two target tokens, swapped. Most tasks mine real lines from held-out Python files and build
 * b by editing the line (statementTasks.ts, literalTasks.ts); bracket_counting and the set_or_string tasks use
 * templates filled with identifiers from those files (templateTasks.ts). Targets are single tokens of the model's
 * tokenizer, and every prompt is tokenized as part of its real continuation (promptAt), so a target is what the
 * tokenizer actually produces at that point. One builder (contrast.ts) makes the pairs of every task.
 *
 * This file is the suite's entry point (scripts/make-tasks.ts, the page's task list): the list of tasks and the
 * train/test split.
 */
import type { TaskSpec } from './contrast';
import { bracketBrace, fstringBrace, singleDoubleQuote, tupleList } from './literalTasks';
import { shuffleInPlace } from './seeded';
import { defOrCall, enumerateRange, fromImport, ifEquals, ifTernary, whileReturnTrue, withAs } from './statementTasks';
import type { TaskPair } from './taskSchema';
import { bracketCounting, setOrString } from './templateTasks';

/**
 * The order is part of every task's seed: make-tasks gives the i-th task of its run the i-th random stream, so the
 * shipped files stay reproducible only if tasks are appended here, never reordered or removed.
 */
export const TASK_SPECS: readonly TaskSpec[] = [
  singleDoubleQuote,
  bracketCounting,
  setOrString(true),
  setOrString(false),
  whileReturnTrue,
  ifTernary,
  ifEquals,
  bracketBrace,
  withAs,
  defOrCall,
  fromImport,
  tupleList,
  enumerateRange,
  fstringBrace,
];

/**
 * Dedupes pairs (by their two prompts), shuffles them with the seeded generator, caps their number and splits them
 * into train and test. A prompt that occurs in a train pair never occurs in a test pair.
 */
export function splitPairs(pairs: readonly TaskPair[], random: () => number, maxPairs: number, testFraction: number): { train: TaskPair[]; test: TaskPair[] } {
  const seen = new Set<string>();
  const unique: TaskPair[] = [];
  for (const p of pairs) {
    const key = p.a.tokens.join(',') + '|' + p.b.tokens.join(',');
    if (!seen.has(key)) {
      seen.add(key);
      unique.push(p);
    }
  }
  // Test pairs are the first of the shuffled order (not input order, unlike seededHoldout): the shipped task files
  // were made this way, and the cap at maxPairs must drop a random subset.
  const chosen = shuffleInPlace(unique, random).slice(0, maxPairs);
  const nTest = Math.max(1, Math.round(chosen.length * testFraction));
  const test = chosen.slice(0, nTest);
  const testPrompts = new Set(test.flatMap((p) => [p.a.tokens.join(','), p.b.tokens.join(',')]));
  const train = chosen.slice(nTest).filter((p) => !testPrompts.has(p.a.tokens.join(',')) && !testPrompts.has(p.b.tokens.join(',')));
  return { train, test };
}
