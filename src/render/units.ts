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
import { ByteOut } from './out.js';
import { planJsonChunks } from './plan-json.js';
import { renderHost } from './render.js';
import { CLUSTER_RENDERERS } from './registry.js';
import { SinkFile, type TemplateSet } from './templates.js';

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
 * Render a unit's files into one buffer of its own (not Node's shared pool,
 * so it can be transferred rather than copied): while the files are made,
 * templates render straight into it (TemplateSet.sink), so no file is ever a
 * string (with `templates`). A file that is a string is appended as it comes; should
 * the bytes then not lie in file order, they are put in order.
 */
export function collect(entries: Iterable<FileEntry>, templates?: TemplateSet): CollectedFiles {
  const sink = new ByteOut(Math.ceil(lastCollected * 1.25));
  const prior = templates?.sink;
  if (templates) templates.sink = sink;
  const files: CollectedFiles['files'] = [];
  const starts: number[] = [];
  let inOrder = true;
  let next = 0;
  try {
    for (const f of entries) {
      let start: number;
      let end: number;
      if (f instanceof SinkFile && f.sink === sink) {
        ({ start, end } = f);
      } else {
        start = sink.off;
        sink.str(f.content);
        end = sink.off;
      }
      if (start !== next) inOrder = false;
      next = end;
      files.push({ path: f.path, mode: f.mode, size: end - start });
      starts.push(start);
    }
  } finally {
    if (templates) templates.sink = prior;
  }
  lastCollected = Math.max(sink.off, 1024);
  if (inOrder && next === sink.off) return { files, data: sink.bytes() };
  const data = Buffer.allocUnsafeSlow(files.reduce((n, f) => n + f.size, 0));
  let off = 0;
  files.forEach((f, i) => {
    off += sink.buf.copy(data, off, starts[i], starts[i]! + f.size);
  });
  return { files, data };
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
  /** plain tar archives opened with O_DIRECT, past the page cache (src/render/output.ts directArchives) */
  direct?: boolean;
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
  const a = new ArchiveWriter(join(t.root, archive), t.format, { direct: t.direct });
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
  for (const node of ctx.plan.nodesOfRack(rack)) {
    const files = renderHost(ctx, node);
    for (let i = 0; i < files.length; i++) yield files[i]!;
  }
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
  // generators: nothing renders before collect or emit iterates them
  const files = rack ? rackHosts(ctx, rack, t.only) : fabricFiles(ctx, t.only);
  const hosts = rack ? (t.only ? 1 : rack.nodeCount) : 0;
  if (t.collect && t.format === 'dir') return { files: 0, bytes: 0, hosts, collected: collect(files, ctx.templates) };
  return { ...(await emit(t, rack ? rackArchive(rack.name, t.format) : fabricArchive(t.format), files)), hosts };
}
