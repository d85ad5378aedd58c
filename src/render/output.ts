/**
 * A whole render into a staging directory: plan.json, the fabric and every
 * rack, as units on this thread (jobs 1) or on worker threads, in directory
 * or archive form. Progress (hosts, rate, ETA) goes to a callback.
 */
import { mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { NodePlan } from '../plan/plan.js';
import type { RenderContext } from './context.js';
import { RenderPool, type WorkerInit } from './pool.js';
import { ARCHIVE_DIR, renderUnit, type OutputFormat, type Unit, type UnitResult, type UnitTarget } from './units.js';
import { WriteThread, writeWorkerScript } from './write-thread.js';
import { hasNativeWriter, NativeDirWriter } from '../sinks/native-writer.js';

export interface OutputOptions {
  format: OutputFormat;
  /** threads: directories are written by one writer while this thread and jobs - 2 workers render; archives by jobs workers; 1 renders and writes on this thread alone */
  jobs: number;
  umask: number;
  only?: NodePlan;
  /** what a worker needs to plan the stack and render as this thread would */
  worker: Omit<WorkerInit, 'root' | 'format' | 'umask' | 'only' | 'collect'>;
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

/** Units rendered ahead on this thread while the writer writes (renderDirParallel). */
const AHEAD = 3;

/**
 * Units in the order they are handed out: the fabric after `fabricAfter`
 * racks, plan.json after `planAfter` (past the last rack: at the end). When
 * workers write archives plan.json comes first, so one of them renders it
 * (seconds for a million nodes) while the others take the racks, rather than
 * alone at the end. For a directory with a writer it comes once the writer
 * has AHEAD racks queued: this thread renders it while the writer catches up,
 * in time it would otherwise spend waiting. (The fabric stays first there:
 * handing out racks first measured slower at 1,000 hosts, 212 against 206 ms
 * median, the first rack being rendered by code not yet optimised.)
 */
export function* unitsOf(ctx: RenderContext, only: NodePlan | undefined, fabricAfter: number, planAfter: number): Generator<Unit> {
  // sorted by place; plan.json first where both fall at the same place
  const extras = [
    { at: planAfter, unit: { kind: 'plan' } as const },
    { at: fabricAfter, unit: { kind: 'fabric' } as const },
  ].sort((a, b) => a.at - b.at);
  let racks = 0;
  let next = 0;
  const due = function* (): Generator<Unit> {
    while (next < extras.length && extras[next]!.at <= racks) yield extras[next++]!.unit;
  };
  yield* due();
  for (const r of only ? [only.rack] : ctx.plan.racks()) {
    yield { kind: 'rack', index: r.index };
    racks++;
    yield* due();
  }
  while (next < extras.length) yield extras[next++]!.unit;
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
  const target = { root, format: opts.format, umask: opts.umask, only: opts.only, direct: directArchives(opts.format, total) };
  const units = opts.jobs <= 1 ? unitsOf(ctx, opts.only, 0, Infinity) : opts.format === 'dir' ? unitsOf(ctx, opts.only, 0, AHEAD) : unitsOf(ctx, opts.only, 0, 0);
  if (opts.jobs <= 1) {
    await renderHere(ctx, units, target, done);
    return sum;
  }
  if (opts.format === 'dir') await renderDirParallel(ctx, units, target, opts, done);
  else await renderArchivesParallel(units, target, opts, done);
  return sum;
}

type Done = (u: Unit, r: UnitResult) => void;

/** Every unit rendered and written on this thread, one after another. */
async function renderHere(ctx: RenderContext, units: Iterable<Unit>, target: UnitTarget, done: Done): Promise<void> {
  for (const u of units) done(u, await renderUnit(ctx, u, target));
}

interface Lane {
  take: (u: Unit) => Promise<UnitResult>;
}

/** Run `lanes` over the shared unit queue until it is empty or one fails (the first failure is thrown). */
async function runLanes(units: Iterator<Unit>, lanes: Lane[], done: Done): Promise<void> {
  let failure: { e: unknown } | undefined;
  const run = async ({ take }: Lane): Promise<void> => {
    try {
      while (!failure) {
        const n = units.next();
        if (n.done) return;
        done(n.value, await take(n.value));
      }
    } catch (e) {
      failure ??= { e };
    }
  };
  await Promise.all(lanes.map(run));
  if (failure) throw failure.e;
}

/** From this many hosts a plain tar render writes its archives past the page cache (directArchives). */
export const DIRECT_MIN_HOSTS = 524_288;

/**
 * Whether a render's archives are written with O_DIRECT, past the page cache:
 * plain tar from DIRECT_MIN_HOSTS hosts (9.3 GB of archives and more). The
 * 1,048,576-host render writes 18.6 GB; through the page cache that much
 * output pushes everything else out of memory, and on the machine these
 * figures come from buffered writes ran at 2.3 GB/s for the first few GB and
 * then at 110 MB/s with 130-190 s of system time (dd showed the same: 16 GB
 * in 152 s buffered, 15 s with O_DIRECT). The writes are synchronous, so a
 * smaller render is faster buffered. On ext4 here, buffered against direct:
 * 262,144 hosts 9.1 against 12.4 s, 524,288 hosts 39.4 against 23.6 s,
 * 1,048,576 hosts 134-142 against 46.6 s. FLAT6_DIRECT=0 turns it off,
 * FLAT6_DIRECT=1 on for every plain tar render.
 */
export function directArchives(format: OutputFormat, hosts: number): boolean {
  const set = process.env['FLAT6_DIRECT'];
  return format === 'tar' && set !== '0' && (set === '1' || hosts >= DIRECT_MIN_HOSTS);
}

/** tmpfs's magic number (statfs f_type). */
const TMPFS_MAGIC = 0x01021994;

/**
 * Units the native writer may write side by side under `root`: two on tmpfs,
 * where two threads creating files measured 1.5x the speed of one; one
 * elsewhere (on ext4 here, two at once cost 2-3x the time of one).
 */
export function writerLanes(root: string): number {
  try {
    return statfsSync(root).type === TMPFS_MAGIC ? 2 : 1;
  } catch {
    return 1;
  }
}

/**
 * Directory output on several threads: one writer creates every directory
 * and file, while this thread and jobs - 2 render workers render units and
 * hand their files to it. The writer is the native one
 * (src/sinks/native-writer.ts, on a thread of its own) where the build has
 * it, else a writer thread (src/render/write-thread.ts). Only the writer
 * creates files, one unit at a time except on tmpfs (writerLanes): creating
 * them from two threads at once cost 2-3x the time on ext4 here (kernel
 * contention). A build with neither renders on this thread alone.
 */
async function renderDirParallel(ctx: RenderContext, units: Generator<Unit>, target: UnitTarget, opts: OutputOptions, done: Done): Promise<void> {
  const native = hasNativeWriter() ? new NativeDirWriter(target.root, target.umask, writerLanes(target.root)) : undefined;
  const script = native ? undefined : writeWorkerScript();
  const thread = script === undefined ? undefined : new WriteThread(script, { root: target.root, umask: target.umask });
  const writer = native ?? thread;
  if (!writer) return renderHere(ctx, units, target, done);
  const pool = opts.jobs > 2 ? new RenderPool(opts.jobs - 2, { ...opts.worker, root: target.root, format: 'dir', umask: target.umask, only: opts.only?.name, collect: true }) : undefined;
  const write = async (r: UnitResult): Promise<UnitResult> => (r.collected ? { ...(await writer.write(r.collected)), hosts: r.hosts } : r);
  // AHEAD lanes on this thread: up to AHEAD rendered units wait for the writer, so it never idles and memory stays bounded.
  const here = (): Lane => ({ take: (u) => renderUnit(ctx, u, { ...target, collect: true }).then(write) });
  // Two units queued per worker, so a worker renders the next while the writer writes the last.
  const fromWorker = (i: number): Lane => ({ take: (u) => pool!.run(i, u).then(write) });
  try {
    await runLanes(units, [...Array.from({ length: AHEAD }, here), ...Array.from({ length: (pool?.size ?? 0) * 2 }, (_, k) => fromWorker(k % pool!.size))], done);
  } finally {
    await Promise.all([thread?.close(), pool?.close()]);
  }
}

/** Archive output on worker threads: each writes whole archives (one file per rack, no contention); this thread only hands out units. */
async function renderArchivesParallel(units: Iterator<Unit>, target: UnitTarget, opts: OutputOptions, done: Done): Promise<void> {
  const pool = new RenderPool(opts.jobs, { ...opts.worker, root: target.root, format: target.format, umask: target.umask, only: opts.only?.name, direct: target.direct });
  try {
    await runLanes(units, Array.from({ length: pool.size }, (_, i): Lane => ({ take: (u) => pool.run(i, u) })), done);
  } finally {
    await pool.close();
  }
}

/**
 * Progress for a person watching: nothing for a render that ends within a
 * second; after that a line at most every second, and the closing line.
 */
export function progressReporter(write: (line: string) => void, everySeconds = 1): (p: Progress) => void {
  let last = 0;
  let shown = false;
  return (p) => {
    const final = p.hosts === p.total;
    if (final ? !shown : p.elapsed - last < everySeconds) return;
    last = p.elapsed;
    shown = true;
    write(progressLine(p));
  };
}

/** 1234567 -> "1,234,567" (toLocaleString loads ICU's locale data: milliseconds on the first call). */
export function grouped(n: number): string {
  const s = String(n);
  let out = s.slice(0, ((s.length - 1) % 3) + 1);
  for (let i = out.length; i < s.length; i += 3) out += `,${s.slice(i, i + 3)}`;
  return out;
}

/** "render: 524288/1048576 hosts (50%), 9,512 hosts/s, ETA 55s" */
export function progressLine(p: Progress): string {
  const rate = p.elapsed > 0 ? p.hosts / p.elapsed : 0;
  const eta = rate > 0 ? (p.total - p.hosts) / rate : 0;
  const pct = Math.floor((p.hosts / p.total) * 100);
  const etaText = eta >= 60 ? `${Math.floor(eta / 60)}m${String(Math.round(eta % 60)).padStart(2, '0')}s` : `${Math.round(eta)}s`;
  return `render: ${p.hosts}/${p.total} hosts (${pct}%), ${grouped(Math.round(rate))} hosts/s, ETA ${etaText}`;
}
