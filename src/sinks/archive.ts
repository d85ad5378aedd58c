/**
 * Archive sink: one .tar (blocking writes) or .tar.gz (a zlib stream with
 * backpressure) file, in batches of about BATCH bytes, so memory stays flat
 * whatever the archive holds. Directory entries are written once each, before
 * the first file below them.
 */
import { closeSync, createWriteStream, openSync, writeSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { checkRel } from './dir.js';
import { DirTracker } from './dirs.js';
import { TarEncoder, type TarOptions } from './tar.js';

const BATCH = 1 << 18;

export type ArchiveFormat = 'tar' | 'tar.gz';

export class ArchiveWriter {
  files = 0;
  /** bytes of file content (not of the archive) */
  bytes = 0;
  private readonly enc: TarEncoder;
  private readonly dirs = new DirTracker();
  /** plain tar: written with blocking writes, no stream (nothing to wait for, nothing to buffer) */
  private readonly fd?: number;
  private readonly out?: WriteStream;
  private readonly head?: Writable;
  private readonly gzip?: Gzip;
  private batch: Buffer[] = [];
  private batched = 0;
  private failed?: Error;

  constructor(
    readonly path: string,
    format: ArchiveFormat,
    opts: TarOptions & { level?: number } = {},
  ) {
    this.enc = new TarEncoder(opts);
    if (format === 'tar') {
      this.fd = openSync(path, 'wx', 0o644);
      return;
    }
    this.out = createWriteStream(path, { flags: 'wx', mode: 0o644 });
    this.out.on('error', (e) => (this.failed ??= e));
    this.gzip = createGzip({ level: opts.level ?? 6 });
    this.gzip.on('error', (e) => (this.failed ??= e));
    this.gzip.pipe(this.out);
    this.head = this.gzip;
  }

  private push(parts: Buffer[]): Promise<void> | undefined {
    for (const p of parts) {
      if (p.length === 0) continue;
      this.batch.push(p);
      this.batched += p.length;
    }
    return this.batched >= BATCH ? this.flush() : undefined;
  }

  private take(): Buffer | undefined {
    if (this.batched === 0) return undefined;
    const buf = this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batched);
    this.batch = [];
    this.batched = 0;
    return buf;
  }

  private flush(): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    const buf = this.take();
    if (!buf) return undefined;
    if (this.fd !== undefined) {
      for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off);
      return undefined;
    }
    if (this.head!.write(buf)) return undefined;
    return Promise.race([once(this.head!, 'drain'), once(this.out!, 'error').then(([e]) => Promise.reject(e as Error))]).then(() => {
      if (this.failed) throw this.failed;
    });
  }

  /** Add a file (its parent directories first, 0755); resolves when the batch is handed on. */
  file(rel: string, mode: number, content: string | Buffer): Promise<void> | undefined {
    checkRel(rel);
    const parts: Buffer[] = [];
    for (const d of this.dirs.missing(rel)) parts.push(...this.enc.dir(d));
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    parts.push(...this.enc.file(rel, mode, data));
    this.files++;
    this.bytes += data.length;
    return this.push(parts);
  }

  /** Write the end blocks and wait until every byte is on disk (or the first error). */
  async close(): Promise<void> {
    const wait = this.push([this.enc.end()]);
    if (wait) await wait;
    const last = this.flush();
    if (last) await last;
    if (this.fd !== undefined) {
      closeSync(this.fd);
      return;
    }
    const done = this.out!.closed ? Promise.resolve() : once(this.out!, 'close');
    this.head!.end();
    await done;
    if (this.failed) throw this.failed;
  }

  /** Stop after a failure; the caller removes the staging directory. */
  destroy(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
    }
    this.gzip?.destroy();
    this.out?.destroy();
  }
}
