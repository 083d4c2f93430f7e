import { interventionListSchema, type Intervention } from '../model/interventions';

/**
 * Compact, readable URL form of an intervention list: items joined by ",", fields by "~".
 *   n~<node>~<m|z>            node ablation
 *   e~<source>~<target>~<m|z> edge ablation
 *   c~<m|z>~<node>;<node>...  restrict to a node set
 *   c~<m|z>~<nodes>~<a>-<b>   restrict layers a..b only (a circuit found over a layer range)
 * Node ids never contain "~", "," or ";", so no escaping is needed.
 */
const MODE = { m: 'mean', z: 'zero' } as const;
const CODE = { mean: 'm', zero: 'z' } as const;

export function encodeInterventions(list: readonly Intervention[]): string {
  return list.map((iv) => {
    if (iv.kind === 'node') return `n~${iv.node}~${CODE[iv.mode]}`;
    if (iv.kind === 'edge') return `e~${iv.source}~${iv.target}~${CODE[iv.mode]}`;
    return `c~${CODE[iv.mode]}~${iv.nodes.join(';')}${iv.layers ? `~${iv.layers[0]}-${iv.layers[1]}` : ''}`;
  }).join(',');
}

/** Throws with a readable message on anything malformed (the caller reports it and ignores the parameter). */
export function decodeInterventions(text: string): Intervention[] {
  if (text === '') return [];
  const raw = text.split(',').map((item, i) => {
    const f = item.split('~');
    const mode = (code: string | undefined) => {
      const m = MODE[code as keyof typeof MODE];
      if (!m) throw new Error(`intervention ${i + 1}: unknown mode "${code}"`);
      return m;
    };
    if (f[0] === 'n' && f.length === 3) return { kind: 'node', node: f[1], mode: mode(f[2]) };
    if (f[0] === 'e' && f.length === 4) return { kind: 'edge', source: f[1], target: f[2], mode: mode(f[3]) };
    if (f[0] === 'c' && f.length === 3) return { kind: 'circuit', mode: mode(f[1]), nodes: f[2] ? f[2].split(';') : [] };
    if (f[0] === 'c' && f.length === 4 && /^\d+-\d+$/.test(f[3]!)) {
      return { kind: 'circuit', mode: mode(f[1]), nodes: f[2] ? f[2].split(';') : [], layers: f[3]!.split('-').map(Number) };
    }
    throw new Error(`intervention ${i + 1} ("${item}") is not n~node~mode, e~source~target~mode or c~mode~nodes[~first-last]`);
  });
  const parsed = interventionListSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`bad intervention: ${parsed.error.issues[0]?.message} at ${parsed.error.issues[0]?.path.join('.')}`);
  return parsed.data;
}
