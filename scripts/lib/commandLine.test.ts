import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { npmCommandLine, shellQuote } from './commandLine';

describe('npmCommandLine', () => {
  it('writes the npm script and its arguments, bare where safe', () => {
    expect(npmCommandLine('prune', ['--model', 'sparse-py-2l', '--task', 'single_double_quote', '--k-coef', '2e-3', '--out', '/tmp/x']))
      .toBe('npm run prune -- --model sparse-py-2l --task single_double_quote --k-coef 2e-3 --out /tmp/x');
  });

  it('quotes arguments a shell would split or expand, so that the shell reads them back unchanged', () => {
    const args = ['node-pruned + minimality=/tmp/a b', "it's", '$HOME', 'a"b', '', '*'];
    for (const a of args) expect(shellQuote(a)).not.toBe(a);
    const echoed = execFileSync('sh', ['-c', `printf '%s\\n' ${args.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    expect(echoed.split('\n').slice(0, -1)).toEqual(args);
  });
});
