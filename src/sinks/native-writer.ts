/**
 * flat6's native file writer (native/write.c, built by scripts/native.mjs
 * into dist/native/flat6_write.node): writes one unit's files on a libuv pool
 * thread, each directory with one mkdirat and each file with one openat,
 * write and close, relative to the output root. The thread that renders
 * hands a unit over and goes on rendering. A build without a C compiler or
 * Node's headers has no native writer; FLAT6_NATIVE=0 turns it off. Either
 * way the JavaScript writer (src/sinks/dir.ts) writes the same bytes.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';
import type { CollectedFiles } from '../render/units.js';
import { checkRel } from './dir.js';

export const NATIVE_WRITER = join('dist', 'native', 'flat6_write.node');

interface NativeModule {
  write(root: string, umask: number, paths: string, meta: Uint32Array, data: Uint8Array): Promise<[number, number]>;
}

let loaded: NativeModule | null | undefined;

function nativeModule(): NativeModule | undefined {
  if (process.env['FLAT6_NATIVE'] === '0') return undefined;
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)(join(packageRoot(import.meta.url), NATIVE_WRITER)) as NativeModule;
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
 * Writes units under `root` with the native writer, one unit at a time: a
 * unit starts when the previous one is written, so only one thread ever
 * creates files (two at once cost 2-3x the time on ext4 here).
 */
export class NativeDirWriter {
  private tail: Promise<unknown> = Promise.resolve();
  private failed?: unknown;
  private readonly native: NativeModule;

  constructor(
    private readonly root: string,
    private readonly umask: number,
  ) {
    const n = nativeModule();
    if (!n) throw new Error(`no native writer in this build (${NATIVE_WRITER})`);
    this.native = n;
  }

  /** Write `c`'s files (its buffer must stay untouched until this settles). */
  write(c: CollectedFiles): Promise<{ files: number; bytes: number }> {
    let paths = '';
    const meta = new Uint32Array(c.files.length * 2);
    for (let i = 0; i < c.files.length; i++) {
      const f = c.files[i]!;
      checkRel(f.path); // no absolute path, no "." or ".." part, no NUL
      paths += `${f.path}\0`;
      meta[2 * i] = f.mode;
      meta[2 * i + 1] = f.size;
    }
    // after a failure nothing more is written: the caller is about to remove the staging directory
    const done = this.tail
      .then(() => (this.failed === undefined ? this.native.write(this.root, this.umask, paths, meta, c.data) : Promise.reject(this.failed as Error)))
      .then(([files, bytes]) => ({ files, bytes }));
    this.tail = done.catch((e: unknown) => {
      this.failed ??= e;
    });
    return done;
  }
}
