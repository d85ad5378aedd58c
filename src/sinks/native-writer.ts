/**
 * flat6's native file writer (native/write.c, built by scripts/native.mjs
 * into dist/native/flat6_write.node): writes one unit's files on a thread of
 * its own (one per lane), each directory with one mkdirat and each file with
 * one openat, write and close, relative to the output root. The thread that renders
 * hands a unit over and goes on rendering. A build without a C compiler or
 * Node's headers has no native writer; FLAT6_NATIVE=0 turns it off. Either
 * way the JavaScript writer (src/sinks/dir.ts) writes the same bytes.
 */
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';
import type { CollectedFiles } from '../render/units.js';

export const NATIVE_WRITER = join('dist', 'native', 'flat6_write.node');
/** Lanes of the native writer (LANES in native/write.c). */
export const MAX_LANES = 4;

interface NativeModule {
  write(root: string, umask: number, paths: string, meta: Uint32Array, data: Uint8Array, stop: Int32Array, lane: number): Promise<[number, number]>;
  writeDirectAsync(fd: number, data: Uint8Array, offset: number): Promise<number>;
}

let loaded: NativeModule | null | undefined;

function nativeModule(): NativeModule | undefined {
  if (process.env['FLAT6_NATIVE'] === '0') return undefined;
  if (loaded === undefined) {
    try {
      // process.dlopen rather than require: no module resolution or package.json lookups (0.13 against 0.35-0.5 ms)
      const m = { exports: {} as NativeModule };
      process.dlopen(m, join(packageRoot(import.meta.url), NATIVE_WRITER));
      loaded = m.exports;
    } catch {
      loaded = null; // not built: the JavaScript writer does the work
    }
  }
  return loaded ?? undefined;
}

/** True when this build has the native writer and it is not turned off. */
export function hasNativeWriter(): boolean {
  return nativeModule() !== undefined;
}

/**
 * writeDirectAsync(fd, data, offset) of the native writer (native/write.c):
 * all of data at `offset`, on a thread of libuv's pool, through an aligned
 * copy, so fd may have been opened with O_DIRECT; settles when every byte is
 * written (data must stay untouched until then). Undefined without the
 * native writer.
 */
export function directWriteAsync(): ((fd: number, data: Uint8Array, offset: number) => Promise<number>) | undefined {
  const n = nativeModule();
  return n === undefined ? undefined : (fd, data, offset) => n.writeDirectAsync(fd, data, offset);
}

/**
 * Writes units under `root` with the native writer. Units are handed over as
 * they come and queue in the native code, which writes them one at a time
 * per lane in the whole process; with one lane, one thread creates every
 * file (two threads creating files at once cost 2-3x the time on ext4 here).
 * After a failed unit, the units still queued write nothing.
 */
export class NativeDirWriter {
  /** shared with the native code: set by the first failed unit */
  private readonly stop = new Int32Array(1);
  private failed?: Error;
  private readonly native: NativeModule;
  private next = 0;

  /** `lanes`: how many units may be written side by side (1: one thread creates every file). */
  constructor(
    private readonly root: string,
    private readonly umask: number,
    private readonly lanes = 1,
  ) {
    if (!Number.isInteger(lanes) || lanes < 1 || lanes > MAX_LANES) throw new Error(`lanes takes 1 to ${MAX_LANES}, not ${lanes}`);
    const n = nativeModule();
    if (!n) throw new Error(`no native writer in this build (${NATIVE_WRITER})`);
    this.native = n;
  }

  /** Write `c`'s files (its buffer must stay untouched until this settles). */
  async write(c: CollectedFiles): Promise<{ files: number; bytes: number }> {
    if (this.failed !== undefined) throw this.failed;
    let paths = '';
    const meta = new Uint32Array(c.files.length * 2);
    for (let i = 0; i < c.files.length; i++) {
      const f = c.files[i]!;
      paths += `${f.path}\0`; // the native writer refuses what checkRel refuses, before writing anything
      meta[2 * i] = f.mode;
      meta[2 * i + 1] = f.size;
    }
    try {
      const [files, bytes] = await this.native.write(this.root, this.umask, paths, meta, c.data, this.stop, this.next++ % this.lanes);
      return { files, bytes };
    } catch (e) {
      this.failed ??= e instanceof Error ? e : new Error(String(e));
      throw e;
    }
  }
}
