/**
 * A whole render into a staging directory: plan.json, the fabric and every
 * rack, as units on this thread (jobs 1) or on worker threads, in directory
 * or archive form. Progress (hosts, rate, ETA) goes to a callback.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NodePlan } from '../plan/plan.js';
import type { RenderContext } from './context.js';
import { RenderPool, type WorkerInit } from './pool.js';
import { ARCHIVE_DIR, renderUnit, type OutputFormat, type Unit, type UnitResult } from './units.js';

export interface OutputOptions {
  format: OutputFormat;
  /** threads rendering: this one plus jobs - 1 workers; 1 renders on this thread alone */
  jobs: number;
  umask: number;
  only?: NodePlan;
  /** what a worker needs to plan the stack and render as this thread would */
  worker: Omit<WorkerInit, 'root' | 'format' | 'umask' | 'only'>;
  progress?: (p: Progress) => void;
}

export interface Progress {
  hosts: number;
  total: number;
  /** seconds since the start */
  elapsed: number;
}

export interface OutputResult {
  files: number;
  bytes: number;
  archives: number;
}

function* unitsOf(ctx: RenderContext, only?: NodePlan): Generator<Unit> {
  yield { kind: 'plan' };
  yield { kind: 'fabric' };
  if (only) {
    yield { kind: 'rack', index: only.rack.index };
    return;
  }
  for (const r of ctx.plan.racks()) yield { kind: 'rack', index: r.index };
}

/** Render everything into `root` (an empty staging directory). */
export async function renderOutput(ctx: RenderContext, root: string, opts: OutputOptions): Promise<OutputResult> {
  if (opts.format !== 'dir') mkdirSync(join(root, ARCHIVE_DIR));
  const total = opts.only ? 1 : ctx.plan.nodeCount;
  const t0 = process.hrtime.bigint();
  const sum: OutputResult = { files: 0, bytes: 0, archives: 0 };
  let hosts = 0;
  const done = (u: Unit, r: UnitResult): void => {
    sum.files += r.files;
    sum.bytes += r.bytes;
    if (opts.format !== 'dir' && u.kind !== 'plan') sum.archives++;
    if (r.hosts) {
      hosts += r.hosts;
      opts.progress?.({ hosts, total, elapsed: Number(process.hrtime.bigint() - t0) / 1e9 });
    }
  };
  const target = { root, format: opts.format, umask: opts.umask, only: opts.only };
  const units = unitsOf(ctx, opts.only);
  if (opts.jobs <= 1) {
    for (const u of units) done(u, await renderUnit(ctx, u, target));
    return sum;
  }
  // This thread is one of the jobs: it renders units while jobs - 1 workers start up and then take their share.
  const pool = new RenderPool(opts.jobs - 1, { ...opts.worker, root, format: opts.format, umask: opts.umask, only: opts.only?.name });
  let failed = false;
  const lane = async (take: (u: Unit) => Promise<UnitResult>): Promise<void> => {
    try {
      for (let n = units.next(); !n.done && !failed; n = units.next()) done(n.value, await take(n.value));
    } catch (e) {
      failed = true;
      throw e;
    }
  };
  const here = lane(async (u) => {
    const r = await renderUnit(ctx, u, target);
    await new Promise<void>((resolve) => setImmediate(resolve)); // let the workers' replies in between this thread's units
    return r;
  });
  const workers = Array.from({ length: pool.size }, (_, i) => lane((u) => pool.run(i, u)));
  try {
    const results = await Promise.allSettled([here, ...workers]);
    const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (bad) throw bad.reason;
  } finally {
    await pool.close();
  }
  return sum;
}

/** "render: 524288/1048576 hosts (50%), 9,512 hosts/s, ETA 55s" */
export function progressLine(p: Progress): string {
  const rate = p.elapsed > 0 ? p.hosts / p.elapsed : 0;
  const eta = rate > 0 ? (p.total - p.hosts) / rate : 0;
  const pct = Math.floor((p.hosts / p.total) * 100);
  const etaText = eta >= 60 ? `${Math.floor(eta / 60)}m${String(Math.round(eta % 60)).padStart(2, '0')}s` : `${Math.round(eta)}s`;
  return `render: ${p.hosts}/${p.total} hosts (${pct}%), ${Math.round(rate).toLocaleString('en-US')} hosts/s, ETA ${etaText}`;
}
