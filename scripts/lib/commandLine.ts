/** The command line that re-runs an npm script with these arguments, quoted for a POSIX shell where needed; circuit
 *  files record it (prune_config.command) so that a file says how it was made. */
export function npmCommandLine(script: string, argv: readonly string[]): string {
  return [`npm run ${script} --`, ...argv.map(shellQuote)].join(' ');
}

/** One argument as a POSIX shell reads it back: bare when it holds only safe characters, else single-quoted. */
export function shellQuote(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
