/**
 * plan.json is written in batches and chunks (src/render/plan-json.ts) so a
 * million nodes never sit in one string; its bytes must still equal the one
 * JSON.stringify of the whole plan (two-space indent, trailing newline),
 * across batch and chunk boundaries, for the whole cluster and for one host.
 */
import { describe, expect, it } from 'vitest';
import { nodeSummary } from '../src/plan/plan.js';
import { clusterSummary, rackSummary } from '../src/plan/summary.js';
import { planJson, planJsonChunks } from '../src/render/plan-json.js';
import { stableJson } from '../src/render/render.js';
import { planBundled, planText, stackText } from './helpers.js';

describe('plan.json', () => {
  it.each([
    ['metal (6 nodes)', () => planBundled('metal')],
    ['multirack', () => planBundled('multirack')],
    ['12 racks of 57 nodes (684: batches of 256 and chunks of 64 KiB cut mid-list)', () => planText(stackText('scale').replace(/count: 16384/, 'count: 12').replace(/nodes: 64\n/, 'nodes: 57\n'))],
  ])('equals one JSON.stringify of the whole plan: %s', (_name, make) => {
    const plan = make();
    const whole = stableJson({ ...clusterSummary(plan), scope: 'cluster', racks: [...plan.racks()].map(rackSummary), nodes: [...plan.nodes()].map(nodeSummary) });
    expect(planJson(plan)).toBe(whole);
    const node = [...plan.nodes()].at(-1)!;
    expect(planJson(plan, node)).toBe(stableJson({ ...clusterSummary(plan), scope: { host: node.name }, racks: [rackSummary(node.rack)], nodes: [nodeSummary(node)] }));
    expect(Math.max(...[...planJsonChunks(plan)].map((c) => c.length))).toBeLessThan(2 * 65536);
  });
});
