/**
 * A circuit in words, for reading it without the page: every kept node grouped by layer and site (q/k/v with their
 * head), what each node responds to (the focus tokens of its top-activating held-out snippets, when the model
 * folder has snippets.safetensors) and its strongest incoming and outgoing edges.
 *
 *   npm run prune -- --describe --model <id> --task <task> [--edges 4]
 */
import { circuitGranularity, type CircuitFile } from '../../src/circuit/circuitSchema';
import { controlText, minimalityText, missedTargetText } from '../../src/circuit/outcomeText';
import type { ModelConfig } from '../../src/model/config';
import { siteSpec, tryParseNodeId } from '../../src/model/registry';
import type { SnippetsFile } from '../../src/state/snippets';

export interface DescribeContext {
  config: Pick<ModelConfig, 'dHead'>;
  /** Display form of one token id. */
  tokenString?: (id: number) => string;
  snippets?: SnippetsFile | null;
  /** Edges listed per node and direction. */
  edgesPerNode?: number;
  /** Node id -> loss increase when the node is also ablated; nodes are then also listed by it, largest first. */
  importance?: Map<string, number>;
}

const show = (s: string) => JSON.stringify(s).slice(1, -1);

/** "0.attn.q:21" -> "0.attn.q:21 (head 1)" for per-head (q/k/v) channels. */
export function nodeLabel(id: string, dHead: number): string {
  const n = tryParseNodeId(id);
  return n && siteSpec(n.site).channels === 'head' ? `${id} (head ${Math.floor(n.channel / dHead)})` : id;
}

function respondsTo(site: string, channel: number, ctx: DescribeContext): string {
  const s = ctx.snippets?.forNode(site, channel);
  if (!s || !ctx.tokenString) return '';
  // Distinct focus tokens, strongest first: a channel of a layer-0 read often fires on one token in every snippet.
  const focus = (list: { tokens: number[]; focus: number; value: number }[]) => {
    const seen = new Map<number, number>();
    for (const x of list) if (!seen.has(x.tokens[x.focus]!)) seen.set(x.tokens[x.focus]!, x.value);
    return [...seen].slice(0, 4).map(([t, v]) => `"${show(ctx.tokenString!(t))}" ${v.toFixed(2)}`).join(', ');
  };
  const parts = [`top: ${focus(s.top)}`];
  if (s.bottom && s.bottom.length > 0) parts.push(`bottom: ${focus(s.bottom)}`);
  return ` | ${parts.join(' | ')}`;
}

export function describeCircuit(c: CircuitFile, ctx: DescribeContext): string {
  const per = ctx.edgesPerNode ?? 4;
  const dHead = ctx.config.dHead;
  const lines: string[] = [
    // k counts what was pruned (nodes or edges), so the header counts the nodes themselves.
    `${c.model} / ${c.task}, pruned by ${circuitGranularity(c)}: ${c.nodes.length} nodes, ${c.edge_count} edges (${JSON.stringify(c.edge_counts ?? {})}), ` +
      `test loss ${c.circuit_loss.toFixed(3)} acc ${c.circuit_accuracy.toFixed(2)} ` +
      `(full model ${c.full_model_loss.toFixed(3)} / ${c.full_model_accuracy.toFixed(2)}, circuit ablated acc ${c.ablated_accuracy.toFixed(2)})`,
  ];
  // How the run came out, before the details: a missed target first and in words, then the minimality pass and control.
  for (const line of [missedTargetText(c), minimalityText(c), c.control ? controlText(c.control) : null]) {
    if (line) lines.push(line);
  }
  if (ctx.importance) {
    const ranked = [...ctx.importance].sort((a, b) => b[1] - a[1]).slice(0, 15);
    lines.push('', 'most needed nodes (test loss increase when also ablated):');
    for (const [id, d] of ranked) lines.push(`  ${d >= 0 ? '+' : ''}${d.toFixed(3)}  ${nodeLabel(id, dHead)}`);
  }
  const bySite = new Map<string, number[]>();
  for (const n of c.nodes) bySite.set(n.site, [...(bySite.get(n.site) ?? []), n.channel]);
  const incoming = new Map<string, typeof c.edges>();
  const outgoing = new Map<string, typeof c.edges>();
  for (const e of c.edges) {
    incoming.set(e.target, [...(incoming.get(e.target) ?? []), e]);
    outgoing.set(e.source, [...(outgoing.get(e.source) ?? []), e]);
  }
  const strongest = (es: typeof c.edges | undefined, end: 'source' | 'target') =>
    [...(es ?? [])]
      .filter((e) => e.kind !== 'residual')
      .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))
      .slice(0, per)
      .map((e) => `${nodeLabel(e[end], dHead)} ${e.kind === 'qk' ? 'q·k' : e.weight.toFixed(2)}`)
      .join(', ');
  for (const [site, channels] of bySite) {
    lines.push('', `${site}: ${channels.length} node${channels.length === 1 ? '' : 's'}`);
    for (const ch of channels.sort((a, b) => a - b)) {
      const id = `${site}:${ch}`;
      const imp = ctx.importance?.get(id);
      lines.push(`  ${nodeLabel(id, dHead)}${imp === undefined ? '' : ` [${imp >= 0 ? '+' : ''}${imp.toFixed(3)}]`}${respondsTo(site, ch, ctx)}`);
      const inc = strongest(incoming.get(id), 'source');
      const out = strongest(outgoing.get(id), 'target');
      if (inc) lines.push(`    <- ${inc}`);
      if (out) lines.push(`    -> ${out}`);
    }
  }
  return lines.join('\n');
}
