/**
 * Builds the task suite (src/tasks/generators.ts) from the held-out Python files and writes
 * public/models/<id>/tasks/<task>.json for each model, tokenized with that model's tokenizer.
 *
 *   npm run make-tasks -- [--model <id> ...] [--heldout train/data/files_heldout.jsonl ...] [--tasks a,b]
 *                         [--max-pairs 500] [--test-fraction 0.2] [--max-tokens 32] [--context-lines 6] [--seed 0]
 *
 * --heldout is repeatable: rare constructs can draw on the validation files too (train/data/files_val.jsonl), which,
 * like the held-out files, the model never trained on. Without --model: every model in public/models/index.json. The same seed gives the same pairs for models that share
 * a tokenizer (a sparse model and its dense twin).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TASK_SPECS, splitPairs } from '../src/tasks/generators';
import { mulberry32 } from '../src/tasks/seeded';
import { taskFileSchema, type TaskFile } from '../src/tasks/taskSchema';
import { BpeTokenizer } from '../src/tokenizer/bpe';
import { numberArg, parseArgs } from './lib/args';
import { readHeldOut } from './lib/heldout';
import { modelDir, readIndex, ROOT } from './lib/models';


function main(): void {
  const args = parseArgs(process.argv.slice(2), ['model', 'heldout', 'tasks', 'max-pairs', 'test-fraction', 'max-tokens', 'context-lines', 'seed'], []);
  const ids = args.values.get('model') ?? readIndex().map((m) => m.id).filter((id) => id !== 'dev-fixture');
  if (ids.length === 0) throw new Error('no models: pass --model <id> or add models to public/models/index.json');
  const heldoutPaths = args.values.get('heldout') ?? [join(ROOT, 'train/data/files_heldout.jsonl')];
  const only = args.values.get('tasks')?.at(-1)?.split(',');
  const specs = only ? TASK_SPECS.filter((s) => only.includes(s.name)) : TASK_SPECS;
  if (only && specs.length !== only.length) throw new Error(`unknown task in --tasks (known: ${TASK_SPECS.map((s) => s.name).join(', ')})`);
  const maxPairs = numberArg(args, 'max-pairs', 500);
  const testFraction = numberArg(args, 'test-fraction', 0.2);
  const maxTokens = numberArg(args, 'max-tokens', 32);
  const contextLines = numberArg(args, 'context-lines', 6);
  const seed = numberArg(args, 'seed', 0);

  const heldout = readHeldOut(heldoutPaths);
  process.stderr.write(`${heldout.files.length} held-out files (sha256 ${heldout.sha256.slice(0, 12)})\n`);
  for (const id of ids) {
    const dir = modelDir(id);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { vocab_size: number; block_size: number };
    const tok = BpeTokenizer.fromDataGym(readFileSync(join(dir, 'tokenizer/encoder.json'), 'utf8'), readFileSync(join(dir, 'tokenizer/vocab.bpe'), 'utf8'), {
      vocabSize: config.vocab_size,
    });
    if (maxTokens > config.block_size) throw new Error(`--max-tokens ${maxTokens} exceeds ${id}'s block_size ${config.block_size}`);
    mkdirSync(join(dir, 'tasks'), { recursive: true });
    for (const [i, spec] of specs.entries()) {
      const t0 = Date.now();
      // One stream per task, keyed by the task's position in this run's list: a task's pairs depend on --tasks, which
      // is why every file's provenance records the exact command that reproduces it.
      const pairs = spec.generate(heldout.files, tok, { maxTokens, contextLines, random: mulberry32(seed * 1000 + 2 * i + 1) });
      const { train, test } = splitPairs(pairs, mulberry32(seed * 1000 + 2 * i + 2), maxPairs, testFraction);
      const file: TaskFile = taskFileSchema.parse({
        task: spec.name,
        description: spec.description,
        target_tokens: spec.targets,
        train,
        test,
        provenance: {
          command: `npm run make-tasks -- ${process.argv.slice(2).join(' ')}`.trim(),
          generator: 'src/tasks/generators.ts',
          heldout_manifest: heldoutPaths.map((p) => relative(ROOT, p)).join(','),
          heldout_sha256: heldout.sha256,
          heldout_files: heldout.files.length,
          candidate_pairs: pairs.length,
          seed,
          max_tokens: maxTokens,
          context_lines: contextLines,
          max_pairs: maxPairs,
          test_fraction: testFraction,
          created: new Date().toISOString(),
        },
      });
      writeFileSync(join(dir, 'tasks', `${spec.name}.json`), JSON.stringify(file) + '\n');
      process.stderr.write(`${id}/${spec.name}: ${pairs.length} candidate pairs -> ${train.length} train, ${test.length} test (${Date.now() - t0} ms)\n`);
    }
  }
}

main();
