#!/usr/bin/env node
// npm run import-openai -- <released-folder> [--id <id>] [--tokenizer <dir>] [--viz <viz_data.pt> ...]
//                          [--means-corpus <dir> | --means-baseline <mean_baseline_pretrain.pt>] [other options]
// Converts a model released with OpenAI's circuit-sparsity work into public/models/<id>/ and adds it to
// public/models/index.json, by running the package train/openai_import/ (its __main__.py) with the project venv
// (.venv/bin/python, else python3).
// Its progress goes to stderr as it happens. Every option is passed through; see docs/openai-import.md or --help.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: npm run import-openai -- <released-folder> [--id <id>] [--tokenizer <dir>] [--viz <viz_data.pt> ...] '
    + '[--means-corpus <dir> | --means-baseline <file>]   (--help for every option)');
  process.exit(2);
}
const venv = join(root, '.venv', 'bin', 'python');
const python = existsSync(venv) ? venv : 'python3';
// Default destination: public/models/<id>/ plus index.json (the converter's own default too, stated here so that
// running from another directory cannot change it).
const hasDest = args.some((a) => a === '--out' || a === '--out-root' || a.startsWith('--out=') || a.startsWith('--out-root='));
const full = [join(root, 'train', 'openai_import'), ...args, ...(hasDest ? [] : ['--out-root', join(root, 'public', 'models')])];
process.stderr.write(`import-openai: ${python} ${full.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);
// Relative paths are the user's: npm runs scripts from the package root but records the caller's directory.
const child = spawn(python, full, { stdio: 'inherit', cwd: process.env.INIT_CWD ?? process.cwd() });
child.on('error', (e) => {
  console.error(`import-openai: cannot run ${python}: ${e.message} (create the venv with npm run test:py, or install python3)`);
  process.exit(1);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
