import { describe, expect, it } from 'vitest';
import { makeConfig } from '../testing/randomCheckpoint';
import { writeSafetensors, type WritableTensor } from '../testing/safetensorsWriter';
import { allSites, siteWidth } from '../sites';
import { NO_MEANS_WARNING, readMeans } from './means';

const c = makeConfig({ nLayer: 1, dModel: 8, dMlp: 16, nHead: 2, dHead: 3 });
const meansFile = (edit: (t: Record<string, WritableTensor>) => void = () => {}) => {
  const t: Record<string, WritableTensor> = {};
  for (const s of allSites(c)) {
    const w = siteWidth(c, s);
    t[s] = { dtype: 'F32', shape: [w], data: Float32Array.from({ length: w }, (_, i) => i / 10) };
  }
  edit(t);
  return writeSafetensors(t);
};

describe('readMeans', () => {
  it('reads one mean vector per site', () => {
    const r = readMeans(meansFile(), c);
    expect(r.warnings).toEqual([]);
    expect([...r.means.keys()]).toEqual(allSites(c));
    expect(r.means.get('0.mlp.post_act')!.length).toBe(16);
    expect(r.means.get('0.attn.q')![5]).toBeCloseTo(0.5);
  });

  it('a missing file gives no means and says mean ablation is unavailable', () => {
    const r = readMeans(null, c);
    expect(r.means.size).toBe(0);
    expect(r.warnings).toEqual([NO_MEANS_WARNING]);
    expect(NO_MEANS_WARNING).toContain('mean ablation is unavailable');
  });

  it('names the site with the wrong width', () => {
    const bad = meansFile((t) => (t['0.mlp.post_act'] = { dtype: 'F32', shape: [8], data: new Float32Array(8) }));
    expect(() => readMeans(bad, c)).toThrow(
      'means.safetensors: site "0.mlp.post_act" has shape [8], expected [16] (the site\'s width)',
    );
  });

  it('refuses missing sites and non-finite means; ignores unknown tensors with a warning', () => {
    expect(() => readMeans(meansFile((t) => delete t['final_resid']), c)).toThrow(
      'means.safetensors: missing the mean of 1 hook site(s): "final_resid"',
    );
    const nan = meansFile((t) => (t['0.attn.k']!.data[2] = NaN));
    expect(() => readMeans(nan, c)).toThrow('means.safetensors: site "0.attn.k" has a non-finite mean (NaN) at channel 2');
    const extra = meansFile((t) => (t['7.attn.q'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) }));
    expect(readMeans(extra, c).warnings[0]).toContain('not hook sites of this model are ignored: 7.attn.q');
  });
});
