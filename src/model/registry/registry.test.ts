import { describe, expect, it } from 'vitest';
import { ABS_TOPK_LOCATIONS } from '../config';
import { expectedTensors } from '../checkpoint/validate';
import { randomCheckpoint } from '../testing/randomCheckpoint';
import {
  allSites, dimension, edgeLocation, isWeightEdge, keyAt, LAYER_SITE_KINDS, nodeId, nodeIdSchema, parseNodeId,
  parseSite, QK_EDGE_KINDS, REGISTRY, registrySchema, RESIDUAL_SUBLAYERS, SITE_KINDS, siteName, siteNameSchema,
  siteWidth, tryParseNodeId, WEIGHT_EDGE_KINDS, weightEdgeAt,
} from './index';
import json from './registry.json' with { type: 'json' };

// Shapes chosen so that every dimension differs (d_model, d_mlp, n_head*d_head): a width taken from the wrong key
// cannot pass by coincidence.
const CONFIGS = [{ nLayer: 2 }, { nLayer: 3, nHead: 3, dHead: 4, dModel: 10, dMlp: 20, bias: false }];
const checkpoints = CONFIGS.map((config, i) => randomCheckpoint({ config, seed: 100 + i, density: 0.3 }));

describe('registry.json', () => {
  it('is valid and is what the TypeScript side uses', () => {
    expect(registrySchema.safeParse(json).success).toBe(true);
    expect(SITE_KINDS.map((k) => k.kind)).toEqual(json.siteKinds.map((k) => k.kind));
    expect(WEIGHT_EDGE_KINDS).toEqual(json.edgeKinds.weight);
  });

  it('rejects bad edits with the field named', () => {
    const edit = (f: (r: typeof REGISTRY) => void) => {
      const r = structuredClone(REGISTRY);
      f(r);
      const p = registrySchema.safeParse(r);
      return p.success ? 'accepted' : `${p.error.issues[0]!.message} at ${p.error.issues[0]!.path.join('.')}`;
    };
    expect(edit(() => {})).toBe('accepted');
    expect(edit((r) => { r.siteKinds[0]!.width = 'd_model+1'; })).toMatch(/not a product.* at siteKinds.0.width/);
    expect(edit((r) => { r.edgeKinds.weight[0]!.target = 'attn.z'; })).toMatch(/"attn.z" is not a per-layer site kind at edgeKinds.weight.0.target/);
    expect(edit((r) => { r.siteKinds.push({ ...r.siteKinds[0]! }); })).toMatch(/unique/);
    expect(edit((r) => { r.edgeKinds.residual.final = 'attn.q'; })).toMatch(/global/);
  });

  it('states widths, signedness and AbsTopK locations as the released code has them', () => {
    const c = checkpoints[1]!.config;
    const widths = Object.fromEntries(SITE_KINDS.map((k) => [k.kind, dimension(k.width, c)]));
    expect(widths).toEqual({
      'attn.act_in': 10, 'attn.q': 12, 'attn.k': 12, 'attn.v': 12, 'attn.resid_delta': 10,
      'mlp.act_in': 10, 'mlp.post_act': 20, 'mlp.resid_delta': 10, final_resid: 10,
    });
    expect(SITE_KINDS.filter((k) => !k.signed).map((k) => k.kind)).toEqual(['mlp.post_act']);
    const locs = SITE_KINDS.map((k) => k.absTopK).filter((l) => l !== null);
    expect([...locs].sort()).toEqual([...ABS_TOPK_LOCATIONS].sort());
    // channels agree with the width: residual channels are d_model wide, per-head ones n_head*d_head.
    for (const k of SITE_KINDS) {
      if (k.channels === 'residual') expect(k.width, k.kind).toBe('d_model');
      if (k.channels === 'head') expect(k.width, k.kind).toBe('n_head*d_head');
    }
  });
});

describe('sites and node ids', () => {
  it('lists every site in forward order, per layer then final_resid', () => {
    const c = checkpoints[0]!.config;
    const sites = allSites(c);
    expect(sites).toHaveLength(c.nLayer * LAYER_SITE_KINDS.length + 1);
    expect(sites.slice(0, 2)).toEqual(['0.attn.act_in', '0.attn.q']);
    expect(sites.at(-1)).toBe('final_resid');
    for (const s of sites) {
      const p = parseSite(s);
      expect(siteName(p.layer, p.kind)).toBe(s);
    }
    expect(() => siteName(null, 'attn.q')).toThrow(/layer-scoped/);
    expect(() => siteName(0, 'final_resid')).toThrow(/global-scoped/);
  });

  it('round-trips every node id of a model: format(parse(id)) === id', () => {
    for (const { config: c } of checkpoints) {
      for (const site of allSites(c)) {
        for (let channel = 0; channel < siteWidth(c, site); channel++) {
          const id = `${site}:${channel}`;
          expect(nodeId(parseNodeId(id))).toBe(id);
          expect(parseNodeId(id)).toEqual({ site, channel });
          expect(nodeIdSchema.safeParse(id).success).toBe(true);
        }
        expect(siteNameSchema.safeParse(site).success).toBe(true);
      }
    }
  });

  it('rejects what is not a node id, and the schema agrees with the parser', () => {
    const bad = [
      '', ':', 'final_resid', 'final_resid:', 'final_resid:-1', 'final_resid:1.5', 'final_resid:1e2', 'final_resid: 1',
      '3.mlp.post_act', '3.mlp.nope:1', '-1.attn.q:0', 'x.attn.q:0', 'attn.q:0', '0.final_resid:0', 'final_resid:0:0',
      '3.mlp.post_act:99999999999999999999', '99999999999999999999.attn.q:0', ' 3.attn.q:0',
    ];
    for (const id of bad) {
      expect(tryParseNodeId(id), id).toBeNull();
      expect(nodeIdSchema.safeParse(id).success, id).toBe(false);
      expect(() => parseNodeId(id), id).toThrow();
    }
    expect(() => parseNodeId('final_resid')).toThrow(/expected site:channel/);
    expect(() => parseNodeId('3.mlp.nope:1')).toThrow(/unknown hook site "3.mlp.nope"/);
    expect(() => parseNodeId('3.mlp.post_act:x')).toThrow(/bad channel/);
    expect(nodeIdSchema.safeParse('nope').error?.issues[0]?.message).toMatch(/not a node id like 3.mlp.post_act:17/);
  });
});

describe('edge kinds', () => {
  it("every weight edge kind's weight exists with the stated shape, and its blocks tile the weight's rows", () => {
    for (const ckpt of checkpoints) {
      const c = ckpt.config;
      const expected = new Map(expectedTensors(c).map((t) => [t.name, t.shape]));
      for (let l = 0; l < c.nLayer; l++) {
        const blocks = new Map<string, [number, number][]>();
        for (const spec of WEIGHT_EDGE_KINDS) {
          const at = weightEdgeAt(c, spec, l);
          const W = ckpt.tensors.get(at.weight);
          expect(W?.shape, at.weight).toEqual(at.shape);
          expect(expected.get(at.weight), at.weight).toEqual(at.shape);
          if (c.bias) expect(ckpt.tensors.get(at.bias)?.shape, at.bias).toEqual([at.shape[0]]);
          // [out, in]: the source's channels are the columns, the target's a block of rows.
          expect(siteWidth(c, siteName(l, spec.source))).toBe(at.shape[1]);
          const rows = siteWidth(c, siteName(l, spec.target));
          blocks.set(at.weight, [...(blocks.get(at.weight) ?? []), [at.rowOffset, at.rowOffset + rows]]);
        }
        for (const [key, list] of blocks) {
          list.sort((a, b) => a[0] - b[0]);
          let next = 0;
          for (const [a, b] of list) {
            expect(a, key).toBe(next);
            next = b;
          }
          expect(next, key).toBe(ckpt.tensors.get(key)!.shape[0]);
        }
        for (const s of RESIDUAL_SUBLAYERS) expect(ckpt.tensors.get(keyAt(s.norm, l))?.shape).toEqual([c.dModel]);
      }
    }
  });

  it('locates an edge at W[rowOffset + target, source] and refuses pairs that are not edges', () => {
    const c = checkpoints[1]!.config;
    const Q = c.nHead * c.dHead;
    expect(edgeLocation(c, { site: '1.attn.act_in', channel: 2 }, { site: '1.attn.k', channel: 5 }))
      .toEqual({ weight: 'transformer.h.1.attn.c_attn.weight', bias: 'transformer.h.1.attn.c_attn.bias', row: Q + 5, col: 2 });
    expect(edgeLocation(c, { site: '0.mlp.post_act', channel: 19 }, { site: '0.mlp.resid_delta', channel: 9 }))
      .toEqual({ weight: 'transformer.h.0.mlp.c_proj.weight', bias: 'transformer.h.0.mlp.c_proj.bias', row: 9, col: 19 });
    expect(() => edgeLocation(c, { site: '0.mlp.act_in', channel: 0 }, { site: '1.mlp.post_act', channel: 0 })).toThrow(/not an edge/);
    expect(() => edgeLocation(c, { site: '0.mlp.post_act', channel: 0 }, { site: '0.mlp.act_in', channel: 0 })).toThrow(/not an edge/);
    expect(() => edgeLocation(c, { site: '0.mlp.post_act', channel: 20 }, { site: '0.mlp.resid_delta', channel: 0 })).toThrow(/not an edge/);
    expect(() => edgeLocation(c, { site: '0.attn.q', channel: 0 }, { site: '0.attn.k', channel: 0 })).toThrow(/not an edge/);
  });

  it('isWeightEdge holds exactly for the pairs edgeLocation accepts', () => {
    const c = checkpoints[0]!.config;
    const sites = allSites(c);
    let edges = 0;
    for (const a of sites) {
      for (const b of sites) {
        let located = true;
        try {
          edgeLocation(c, { site: a, channel: 0 }, { site: b, channel: 0 });
        } catch {
          located = false;
        }
        expect(isWeightEdge(`${a}:0`, `${b}:0`), `${a} -> ${b}`).toBe(located);
        if (located) edges++;
      }
    }
    expect(edges).toBe(c.nLayer * WEIGHT_EDGE_KINDS.length);
    expect(isWeightEdge('nope', '0.attn.q:0')).toBe(false);
  });

  it('pairs q and k channels of one layer', () => {
    expect(QK_EDGE_KINDS).toEqual([{ source: 'attn.q', target: 'attn.k' }]);
  });
});
