/** Minimal argv parsing for the CLIs: --flag, --key value, --key=value; repeated keys collect. */
export interface ParsedArgs {
  flags: Set<string>;
  values: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], valued: readonly string[], boolean: readonly string[]): ParsedArgs {
  const flags = new Set<string>();
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const key = arg.slice(2, eq < 0 ? undefined : eq);
    if (boolean.includes(key)) {
      if (eq >= 0) throw new Error(`--${key} takes no value`);
      flags.add(key);
    } else if (valued.includes(key)) {
      const v = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Error(`--${key} needs a value`);
      values.set(key, [...(values.get(key) ?? []), v]);
    } else {
      throw new Error(`unknown option --${key}`);
    }
  }
  return { flags, values };
}

export function numberArg(args: ParsedArgs, key: string, fallback: number): number {
  const v = args.values.get(key)?.at(-1);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${key} must be a number, got "${v}"`);
  return n;
}
