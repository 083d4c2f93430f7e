import type { ModelConfig } from '../model/config';
import { sitesInRange, type LayerRange } from '../model/layerRange';
import { nodeId, parseNodeId, siteWidth, type NodeRef, type SiteName } from '../model/sites';
import { tf } from '../model/tfjs';

/**
 * Every node of a model (one channel of one hook site) laid out in one flat vector, site by site in forward order:
 * node index = offset(site) + channel. Pruning keeps one mask parameter per entry. With a layer range only the sites
 * of that range are laid out (the candidates of pruning limited to it); nodes of other sites have no index, get no
 * mask and are always kept.
 */
export class NodeLayout {
  readonly sites: SiteName[];
  readonly widths: number[];
  readonly offsets: number[];
  readonly total: number;
  /** The layer range laid out; null: every site. */
  readonly layers: LayerRange | null;

  constructor(config: ModelConfig, layers: LayerRange | null = null) {
    this.layers = layers;
    this.sites = sitesInRange(config, layers);
    this.widths = this.sites.map((s) => siteWidth(config, s));
    this.offsets = [];
    let o = 0;
    for (const w of this.widths) {
      this.offsets.push(o);
      o += w;
    }
    this.total = o;
  }

  node(index: number): NodeRef {
    if (!(index >= 0 && index < this.total)) throw new Error(`node index ${index} out of range`);
    let lo = 0;
    let hi = this.sites.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return { site: this.sites[lo]!, channel: index - this.offsets[lo]! };
  }

  index(node: NodeRef | string): number {
    const n = typeof node === 'string' ? parseNodeId(node) : node;
    const s = this.sites.indexOf(n.site);
    if (s < 0 || n.channel >= this.widths[s]!) throw new Error(`node ${nodeId(n)} is not in this model${this.layers ? ` or not in layers ${this.layers[0]}-${this.layers[1]}` : ''}`);
    return this.offsets[s]! + n.channel;
  }

  /** Splits a flat [total] tensor into per-site masks (differentiable: split's gradient is concat). */
  split(flat: tf.Tensor1D): Map<SiteName, tf.Tensor1D> {
    const parts = tf.split(flat, this.widths) as tf.Tensor1D[];
    return new Map(this.sites.map((s, i) => [s, parts[i]!]));
  }

  /** Host 0/1 mask with the given node indices set to `value` and the rest to 1 - value. */
  maskOf(indices: Iterable<number>, value: 0 | 1 = 1): Float32Array {
    const m = new Float32Array(this.total).fill(1 - value);
    for (const i of indices) m[i] = value;
    return m;
  }

  /** Per-site device masks from a host 0/1 vector; the caller disposes them (see disposeMasks). */
  deviceMasks(mask: Float32Array): Map<SiteName, tf.Tensor1D> {
    if (mask.length !== this.total) throw new Error('mask length does not match the node layout');
    return new Map(this.sites.map((s, i) => [s, tf.tensor1d(mask.subarray(this.offsets[i]!, this.offsets[i]! + this.widths[i]!))]));
  }
}

export function disposeMasks(masks: Map<SiteName, tf.Tensor1D>): void {
  for (const m of masks.values()) m.dispose();
}
