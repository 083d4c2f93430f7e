import type { DeviceResidualPatch } from './gpu-weights';
import type { SiteName } from './sites';
import { tf } from './tfjs';

/**
 * Path patching of residual edges within one run (docs/circuits.md, "Ablating an edge"). When a writer site's value
 * w (what the stream receives) is computed, each reader it has edges into gets `(fill - w) * mask` pending; a reader
 * then reads the stream plus its pending patches, while the stream itself, and so every other reader, stays as it
 * was. Patches outlive the tidy scope of the layer or stage that made them (they are kept), so a run calls dispose()
 * once it is done.
 */
export class ResidualPatcher {
  private readonly pending = new Map<SiteName, tf.Tensor3D>();
  private readonly computed = new Set<SiteName>();
  private readonly writersOf = new Map<SiteName, SiteName[]>();

  constructor(private readonly plan: ReadonlyMap<SiteName, readonly DeviceResidualPatch[]>) {
    for (const [writer, patches] of plan) {
      for (const p of patches) this.writersOf.set(p.reader, [...(this.writersOf.get(p.reader) ?? []), writer]);
    }
  }

  /** A site's value as the rest of the model sees it; a writer of residual edges leaves patches for their readers. */
  capture(site: SiteName, w: tf.Tensor3D): void {
    const patches = this.plan.get(site);
    if (!patches) return;
    this.computed.add(site);
    for (const p of patches) {
      const patch = tf.mul(tf.sub(p.fill, w), p.mask) as tf.Tensor3D;
      const old = this.pending.get(p.reader);
      this.pending.set(p.reader, tf.keep(old ? (tf.add(old, patch) as tf.Tensor3D) : patch));
      old?.dispose();
    }
  }

  /** The residual stream x as the reader site sees it: its own copy, with the writers' contributions replaced. */
  read(reader: SiteName, x: tf.Tensor3D): tf.Tensor3D {
    const writers = this.writersOf.get(reader);
    if (!writers) return x;
    const missing = writers.find((w) => !this.computed.has(w));
    if (missing) throw new Error(`residual edge ${missing} -> ${reader}: this run did not compute the writer; start at or before the writer's layer`);
    const p = this.pending.get(reader)!;
    if (p.shape[0] !== x.shape[0] || p.shape[1] !== x.shape[1]) throw new Error(`residual patch for ${reader} is [${p.shape}], the stream [${x.shape}]`);
    return tf.add(x, p) as tf.Tensor3D;
  }

  /** Re-lays every pending patch the way the stream is re-laid (a packed run keeping only each prompt's last position). */
  narrow(f: (t: tf.Tensor3D) => tf.Tensor3D): void {
    for (const [reader, t] of this.pending) {
      this.pending.set(reader, tf.keep(f(t)));
      t.dispose();
    }
  }

  dispose(): void {
    for (const t of this.pending.values()) t.dispose();
    this.pending.clear();
    this.computed.clear();
  }
}
