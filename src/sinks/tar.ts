/**
 * A small tar writer: POSIX ustar headers, with a pax extended header ('x')
 * for paths that do not fit ustar's name/prefix split. Modes are kept, owner
 * root:root, and every timestamp is SOURCE_DATE_EPOCH's (default 0), so the
 * same files always make the same archive bytes.
 */
export const BLOCK = 512;
const ZEROS = Buffer.alloc(BLOCK * 2);

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  // width-1 octal digits, zero-padded, then NUL
  buf.write(value.toString(8).padStart(width - 1, '0'), offset, width - 1, 'latin1');
  buf[offset + width - 1] = 0;
}

/** Split a path into ustar's prefix (<= 155 bytes) and name (<= 100 bytes), or undefined. */
function splitUstar(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  if (Buffer.byteLength(path) > 256 || /[^\x20-\x7e]/.test(path)) return undefined;
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
    if (i <= 155 && path.length - i - 1 <= 100 && path.length - i - 1 > 0) return { prefix: path.slice(0, i), name: path.slice(i + 1) };
  }
  return undefined;
}

export interface TarOptions {
  /** seconds since the epoch written as every entry's mtime (default: $SOURCE_DATE_EPOCH, else 0) */
  mtime?: number;
}

function defaultMtime(): number {
  const e = Number(process.env['SOURCE_DATE_EPOCH']);
  return Number.isSafeInteger(e) && e >= 0 && e < 8 ** 11 ? e : 0;
}

export type EntryType = '0' | '5' | 'x';

/** Encodes tar entries into Buffers; holds nothing between calls. */
export class TarEncoder {
  private readonly mtime: number;
  constructor(opts: TarOptions = {}) {
    this.mtime = opts.mtime ?? defaultMtime();
  }

  private header(path: string, mode: number, size: number, type: EntryType): Buffer {
    const h = Buffer.alloc(BLOCK);
    if (!this.writeHeader(h, 0, path, mode, size, type)) throw new Error(`tar: cannot store ${path} in a ustar header`);
    return h;
  }

  /**
   * Write the 512-byte header of `path` into `buf` at `at` (those bytes must
   * be zero); false when ustar cannot hold the path (a pax header is needed).
   */
  writeHeader(buf: Buffer, at: number, path: string, mode: number, size: number, type: EntryType): boolean {
    const parts = splitUstar(path);
    if (!parts) return false;
    buf.write(parts.name, at, 100, 'utf8');
    octal(buf, at + 100, 8, mode & 0o7777);
    octal(buf, at + 108, 8, 0);
    octal(buf, at + 116, 8, 0);
    octal(buf, at + 124, 12, size);
    octal(buf, at + 136, 12, this.mtime);
    buf.write('        ', at + 148, 8, 'latin1');
    buf.write(type, at + 156, 1, 'latin1');
    buf.write('ustar\u000000', at + 257, 8, 'latin1');
    buf.write('root', at + 265, 32, 'latin1');
    buf.write('root', at + 297, 32, 'latin1');
    buf.write(parts.prefix, at + 345, 155, 'utf8');
    let sum = 0;
    for (let i = at; i < at + BLOCK; i++) sum += buf[i]!;
    buf.write(sum.toString(8).padStart(6, '0') + '\u0000 ', at + 148, 8, 'latin1');
    return true;
  }

  /** pax extended header carrying the path, for paths ustar cannot hold */
  private pax(path: string): Buffer[] {
    if (splitUstar(path)) return [];
    const body = (n: number): string => `${n} path=${path}\n`;
    let len = Buffer.byteLength(body(0));
    while (Buffer.byteLength(body(len)) !== len) len = Buffer.byteLength(body(len));
    const rec = Buffer.from(body(len), 'utf8');
    const base = path.replace(/\/$/, '').split('/').pop()!.replace(/[^\x20-\x7e]/g, '_').slice(0, 80);
    return [this.header(`PaxHeaders/${base}`, 0o644, rec.length, 'x'), rec, padding(rec.length)];
  }

  /** Header and data blocks of a regular file. */
  file(path: string, mode: number, content: Buffer): Buffer[] {
    const ext = this.pax(path);
    const name = ext.length ? shortName(path) : path;
    return [...ext, this.header(name, mode, content.length, '0'), content, padding(content.length)];
  }

  /** Header of a directory (path without trailing slash). */
  dir(path: string, mode = 0o755): Buffer[] {
    const p = `${path}/`;
    const ext = this.pax(p);
    return [...ext, this.header(ext.length ? `${shortName(path)}/` : p, mode, 0, '5')];
  }

  /** The two zero blocks that end an archive. */
  end(): Buffer {
    return ZEROS;
  }
}

/** The last 99 bytes of a long path, as ustar name beside a pax path record (readers take the pax one). */
function shortName(path: string): string {
  return path.replace(/[^\x20-\x7e]/g, '_').slice(-99).replace(/^\/+/, '');
}

function padding(n: number): Buffer {
  const r = n % BLOCK;
  return r === 0 ? ZEROS.subarray(0, 0) : ZEROS.subarray(0, BLOCK - r);
}

/**
 * Directory entries a file needs in an archive, each once per archive: remembers
 * only the directories of the current group (first two path parts), so memory
 * stays flat however many files an archive holds.
 */
/** A whole small archive in memory (one host's files), without directory entries. */
export function tarBuffer(files: Iterable<{ path: string; mode: number; content: string | Buffer }>, opts: TarOptions = {}): Buffer {
  const enc = new TarEncoder(opts);
  const parts: Buffer[] = [];
  for (const f of files) parts.push(...enc.file(f.path, f.mode, typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content));
  parts.push(enc.end());
  return Buffer.concat(parts);
}
