/**
 * Units of a whole render: plan.json, the fabric routers, and one per rack
 * (its hosts). Each unit writes its own files (directory output) or its own
 * archive (racks/<rack>.tar[.gz], fabric.tar[.gz]), so units run in any order,
 * on any thread, and the bytes stay the same.
 */
import { join } from 'node:path';
import type { NodePlan, RackPlan } from '../plan/plan.js';
import { ArchiveWriter } from '../sinks/archive.js';
import { DirWriter } from '../sinks/dir.js';
import type { RenderContext } from './context.js';
import { MODE_PUBLIC, type FileEntry } from './files.js';
import { planJsonChunks } from './plan-json.js';
import { renderHost } from './render.js';
import { CLUSTER_RENDERERS } from './registry.js';

export type OutputFormat = 'dir' | 'tar' | 'tar.gz';

export type Unit = { kind: 'plan' } | { kind: 'fabric' } | { kind: 'rack'; index: number };

export interface UnitResult {
  files: number;
  bytes: number;
  /** hosts rendered */
  hosts: number;
  /** the unit's files, when they were rendered to be written by another thread (files and bytes are 0 then) */
  collected?: CollectedFiles;
}

/** Files handed from a worker to the writing thread: their contents back to back in one transferable buffer. */
export interface CollectedFiles {
  files: Array<{ path: string; mode: number; size: number }>;
  data: Uint8Array;
}

/** Bytes the last collected unit needed: the next one starts with room for a little more, so it rarely grows. */
let lastCollected = 64 * 1024;

/**
 * Pack files into one buffer of their own (not Node's shared pool), so it can
 * be transferred rather than copied. Each file is encoded as soon as it is
 * rendered, so its string dies young instead of being kept (and promoted by
 * the garbage collector) until the whole unit is rendered.
 */
export function collect(entries: Iterable<FileEntry>): CollectedFiles {
  const files: CollectedFiles['files'] = [];
  let data = Buffer.allocUnsafeSlow(Math.ceil(lastCollected * 1.25));
  let off = 0;
  for (const f of entries) {
    const room = off + f.content.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (room > data.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(room, data.length * 2));
      data.copy(bigger, 0, 0, off);
      data = bigger;
    }
    const size = data.write(f.content, off);
    files.push({ path: f.path, mode: f.mode, size });
    off += size;
  }
  lastCollected = Math.max(off, 1024);
  return { files, data: data.subarray(0, off) };
}

export interface UnitTarget {
  /** root of the output (the staging directory) */
  root: string;
  format: OutputFormat;
  /** the process umask (worker threads may read but not set it) */
  umask: number;
  /** render only this node (and the ToR of its rack) */
  only?: NodePlan;
  /** directory output: hand fabric and rack files back instead of writing them (plan.json is always written) */
  collect?: boolean;
}

export const ARCHIVE_DIR = 'racks';

/** Archive of a rack's hosts, relative to the output root. */
export function rackArchive(rackName: string, format: OutputFormat): string {
  return `${ARCHIVE_DIR}/${rackName}.${format}`;
}

/** Archive of the fabric routers' files. */
export function fabricArchive(format: OutputFormat): string {
  return `fabric.${format}`;
}

type Files = Iterable<{ path: string; mode: number; content: string }>;

async function emit(t: UnitTarget, archive: string, files: Files): Promise<{ files: number; bytes: number }> {
  if (t.format === 'dir') {
    const w = new DirWriter(t.root, t.umask);
    for (const f of files) w.write(f.path, f.mode, f.content);
    return { files: w.files, bytes: w.bytes };
  }
  const a = new ArchiveWriter(join(t.root, archive), t.format);
  try {
    for (const f of files) {
      const wait = a.file(f.path, f.mode, f.content);
      if (wait) await wait;
    }
    await a.close();
  } catch (e) {
    a.destroy();
    throw e;
  }
  return { files: a.files, bytes: a.bytes };
}

function* rackHosts(ctx: RenderContext, rack: RackPlan, only?: NodePlan): Generator<{ path: string; mode: number; content: string }> {
  if (only) {
    yield* renderHost(ctx, only);
    return;
  }
  for (const node of ctx.plan.nodesOfRack(rack)) yield* renderHost(ctx, node);
}

function* fabricFiles(ctx: RenderContext, only?: NodePlan): Generator<{ path: string; mode: number; content: string }> {
  for (const r of CLUSTER_RENDERERS) yield* r.render(ctx, only);
}

/** Render one unit into the target. */
export async function renderUnit(ctx: RenderContext, unit: Unit, t: UnitTarget): Promise<UnitResult> {
  if (unit.kind === 'plan') {
    // plan.json is never archived: it is the index of what was rendered.
    const w = new DirWriter(t.root, t.umask);
    w.write('plan.json', MODE_PUBLIC, planJsonChunks(ctx.plan, t.only));
    return { files: w.files, bytes: w.bytes, hosts: 0 };
  }
  const rack = unit.kind === 'rack' ? (t.only ? t.only.rack : ctx.plan.rackAt(unit.index)) : undefined;
  const files = rack ? rackHosts(ctx, rack, t.only) : fabricFiles(ctx, t.only);
  const hosts = rack ? (t.only ? 1 : rack.nodeCount) : 0;
  if (t.collect && t.format === 'dir') return { files: 0, bytes: 0, hosts, collected: collect(files) };
  return { ...(await emit(t, rack ? rackArchive(rack.name, t.format) : fabricArchive(t.format), files)), hosts };
}
