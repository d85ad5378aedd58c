/**
 * Archive sink: one .tar (blocking writes) or .tar.gz (a zlib stream with
 * backpressure) file, in batches of BATCH bytes, so memory stays flat
 * whatever the archive holds. Entries are encoded straight into the batch
 * buffer (no buffer per header or per file), which kept the workers' memory
 * down at a million hosts. Directory entries are written once each, before
 * the first file below them.
 */
import { closeSync, constants, createWriteStream, openSync, writeSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { checkRel } from './dir.js';
import { DirTracker } from './dirs.js';
import { directWriteAsync } from './native-writer.js';
import { BLOCK, TarEncoder, type EntryType, type TarOptions } from './tar.js';

const BATCH = 1 << 18;

export type ArchiveFormat = 'tar' | 'tar.gz';

/**
 * O_DIRECT and the native writer's writeDirectAsync, where both exist (Linux,
 * a build with the native writer), for archives that bypass the page cache.
 */
function directOpen(): { flag: number; write: (fd: number, data: Uint8Array, offset: number) => Promise<number> } | undefined {
  const flag = (constants as { O_DIRECT?: number }).O_DIRECT;
  const write = directWriteAsync();
  return flag === undefined || write === undefined ? undefined : { flag, write };
}

/** Direct writes of one archive in flight at once: the next batch is encoded while they are written. */
const DIRECT_IN_FLIGHT = 2;

export class ArchiveWriter {
  files = 0;
  /** bytes of file content (not of the archive) */
  bytes = 0;
  private readonly enc: TarEncoder;
  private readonly dirs = new DirTracker();
  /** plain tar: written with blocking writes, no stream (nothing to wait for, nothing to buffer) */
  private readonly fd?: number;
  /**
   * plain tar opened with O_DIRECT (the `direct` option): each batch is written by the native writer on a
   * thread of libuv's pool while the next is encoded into a spare buffer; at most DIRECT_IN_FLIGHT at once
   */
  private readonly direct?: (fd: number, data: Uint8Array, offset: number) => Promise<number>;
  private readonly inFlight: Array<Promise<void>> = [];
  private readonly spare: Buffer[] = [];
  /** where the next direct write goes in the file */
  private offset = 0;
  private readonly out?: WriteStream;
  private readonly head?: Writable;
  private readonly gzip?: Gzip;
  /** entries are encoded straight into this buffer (headers, content, padding), handed on when full */
  private buf: Buffer = Buffer.allocUnsafeSlow(BATCH);
  private pos = 0;
  private failed?: Error;

  constructor(
    readonly path: string,
    format: ArchiveFormat,
    opts: TarOptions & { level?: number; direct?: boolean } = {},
  ) {
    this.enc = new TarEncoder(opts);
    if (format === 'tar') {
      const direct = opts.direct ? directOpen() : undefined;
      if (direct) {
        try {
          this.fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | direct.flag, 0o644);
          this.direct = direct.write;
        } catch (e) {
          // A file system without O_DIRECT refuses it only once the file exists (O_EXCL had passed): open that file.
          if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
          this.fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
        }
      } else this.fd = openSync(path, 'wx', 0o644);
      return;
    }
    this.out = createWriteStream(path, { flags: 'wx', mode: 0o644 });
    this.out.on('error', (e) => (this.failed ??= e));
    this.gzip = createGzip({ level: opts.level ?? 6 });
    this.gzip.on('error', (e) => (this.failed ??= e));
    this.gzip.pipe(this.out);
    this.head = this.gzip;
  }

  /** Hand `b` on: written at once (tar) or to the gzip stream, resolving when it has room again. */
  private send(b: Buffer): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    if (b.length === 0) return undefined;
    if (this.fd !== undefined) {
      if (this.direct) return this.sendDirect(b);
      for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off);
      return undefined;
    }
    if (this.head!.write(b)) return undefined;
    return Promise.race([once(this.head!, 'drain'), once(this.out!, 'error').then(([e]) => Promise.reject(e as Error))]).then(() => {
      if (this.failed) throw this.failed;
    });
  }

  /** `b` written directly, in the background; a wait when DIRECT_IN_FLIGHT writes are already under way. `whole`: the batch buffer `b` is part of, spare again once written. */
  private sendDirect(b: Buffer, whole?: Buffer): Promise<void> | undefined {
    const at = this.offset;
    this.offset += b.length;
    const w = this.direct!(this.fd!, b, at).then(
      () => {
        if (whole) this.spare.push(whole);
      },
      (e: unknown) => {
        this.failed ??= e as Error;
      },
    );
    const entry = w.then(() => {
      void this.inFlight.splice(this.inFlight.indexOf(entry), 1); // the settled write itself, out of the list
    });
    this.inFlight.push(entry);
    return this.inFlight.length > DIRECT_IN_FLIGHT ? this.inFlight[0] : undefined;
  }

  /** Hand on what the buffer holds; the stream keeps a handed-on buffer, so gzip gets a fresh one, and so does a direct write (a spare one). */
  private flush(): Promise<void> | undefined {
    if (this.pos === 0) return undefined;
    const filled = this.buf.subarray(0, this.pos);
    this.pos = 0;
    if (this.direct) {
      if (this.failed) throw this.failed;
      const whole = this.buf;
      this.buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(BATCH);
      return this.sendDirect(filled, whole);
    }
    if (this.fd === undefined) this.buf = Buffer.allocUnsafeSlow(BATCH);
    return this.send(filled);
  }

  /** Room for `n` more bytes in the buffer (flushing first if needed); false when `n` can never fit. */
  private room(n: number, waits: Array<Promise<void>>): boolean {
    if (n > BATCH) return false;
    if (this.pos + n > BATCH) {
      const w = this.flush();
      if (w) waits.push(w);
    }
    return true;
  }

  /** Encode one entry in place: header, then content and zero padding. False when it needs a pax header (the caller takes the general path). */
  private place(path: string, mode: number, type: EntryType, content: string | Buffer | undefined, size: number, waits: Array<Promise<void>>): boolean {
    const total = BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (!this.room(total, waits)) return false;
    const at = this.pos;
    this.buf.fill(0, at, at + total);
    if (!this.enc.writeHeader(this.buf, at, path, mode, size, type)) return false;
    if (typeof content === 'string') this.buf.write(content, at + BLOCK, size, 'utf8');
    else content?.copy(this.buf, at + BLOCK);
    this.pos = at + total;
    return true;
  }

  /** Append encoded parts (pax headers, entries too large for the buffer) through the buffer. */
  private append(parts: Buffer[], waits: Array<Promise<void>>): void {
    for (const p of parts) {
      if (this.room(p.length, waits)) {
        p.copy(this.buf, this.pos);
        this.pos += p.length;
        continue;
      }
      const w1 = this.flush();
      if (w1) waits.push(w1);
      const w2 = this.send(p);
      if (w2) waits.push(w2);
    }
  }

  /** Add a file (its parent directories first, 0755); resolves when what it filled is handed on. */
  file(rel: string, mode: number, content: string | Buffer): Promise<void> | undefined {
    checkRel(rel);
    const waits: Array<Promise<void>> = [];
    for (const d of this.dirs.missing(rel)) if (!this.place(`${d}/`, 0o755, '5', undefined, 0, waits)) this.append(this.enc.dir(d), waits);
    const size = typeof content === 'string' ? Buffer.byteLength(content) : content.length;
    if (!this.place(rel, mode, '0', content, size, waits)) this.append(this.enc.file(rel, mode, typeof content === 'string' ? Buffer.from(content, 'utf8') : content), waits);
    this.files++;
    this.bytes += size;
    if (waits.length === 0) return undefined;
    return Promise.all(waits).then(() => undefined);
  }

  /** Write the end blocks and wait until every byte is on disk (or the first error). */
  async close(): Promise<void> {
    const waits: Array<Promise<void>> = [];
    this.append([this.enc.end()], waits);
    await Promise.all(waits);
    const last = this.flush();
    if (last) await last;
    if (this.fd !== undefined) {
      await Promise.all(this.inFlight);
      closeSync(this.fd);
      if (this.failed) throw this.failed;
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
      const fd = this.fd;
      const close = (): void => {
        try {
          closeSync(fd);
        } catch {
          /* already closed */
        }
      };
      // never under a direct write still in flight: its file descriptor could by then name another file
      if (this.inFlight.length > 0) void Promise.all(this.inFlight).then(close);
      else close();
    }
    this.gzip?.destroy();
    this.out?.destroy();
  }
}
