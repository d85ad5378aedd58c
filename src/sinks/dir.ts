/**
 * Directory sink: write a whole tree beside the target, then swap it in with
 * renames, so a failed render leaves the previous output exactly as it was.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync, lstatSync } from 'node:fs';
import { dirname, join, resolve, basename, normalize, isAbsolute } from 'node:path';
import { UsageError } from '../core/diagnostics.js';
import type { FileEntry } from '../render/files.js';

export interface WriteResult {
  files: number;
  bytes: number;
}

function safeJoin(root: string, rel: string): string {
  const n = normalize(rel);
  if (isAbsolute(n) || n.startsWith('..')) throw new Error(`refusing to write outside the output directory: ${rel}`);
  return join(root, n);
}

/**
 * Atomically replace `out` with the files from `entries`. `keep` lists files of
 * the old tree to carry over unchanged (e.g. generated secrets) when the entries
 * do not provide them.
 */
export function writeTreeAtomic(out: string, entries: Iterable<FileEntry>): WriteResult {
  const target = resolve(out);
  if (existsSync(target) && !lstatSync(target).isDirectory()) throw new UsageError(`output path ${out} exists and is not a directory`);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const tmp = join(parent, `.${basename(target)}.flat6-new-${tag}`);
  const old = join(parent, `.${basename(target)}.flat6-old-${tag}`);
  let files = 0;
  let bytes = 0;
  try {
    mkdirSync(tmp, { mode: 0o755 });
    const made = new Set<string>();
    for (const e of entries) {
      const p = safeJoin(tmp, e.path);
      const d = dirname(p);
      if (!made.has(d)) {
        mkdirSync(d, { recursive: true });
        made.add(d);
      }
      writeFileSync(p, e.content, { mode: e.mode, flag: 'wx' });
      chmodSync(p, e.mode); // umask must not loosen or tighten what the entry says
      files++;
      bytes += Buffer.byteLength(e.content);
    }
    if (existsSync(target)) renameSync(target, old);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(target)) renameSync(old, target);
    throw err;
  }
  rmSync(old, { recursive: true, force: true });
  return { files, bytes };
}
