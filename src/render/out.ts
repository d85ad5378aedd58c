/**
 * Where a compiled template writes: a string (TextOut), or bytes (ByteOut),
 * straight into the buffer a directory render hands its writer. A template's
 * fixed text is encoded once, when it is compiled (Lit), so rendering into
 * bytes copies it instead of concatenating strings that must later be
 * flattened and encoded: at 1,000 hosts that concatenation, its flattening
 * and the garbage it left were about a third of the main thread's time.
 */

/** A template's fixed text, with its UTF-8 bytes. */
export interface Lit {
  readonly s: string;
  readonly b: Uint8Array;
}

export function lit(s: string): Lit {
  return { s, b: Buffer.from(s, 'utf8') };
}

export interface Out {
  /** fixed text of the template */
  lit(l: Lit): void;
  /** a value */
  str(s: string): void;
}

/** Up to this many bytes (or UTF-16 units) are copied in a loop rather than by a call into the runtime. */
const SHORT = 32;

export class TextOut implements Out {
  s = '';
  lit(l: Lit): void {
    this.s += l.s;
  }
  str(s: string): void {
    this.s += s;
  }
}

/**
 * Bytes written back to back into one buffer of its own (not Node's shared
 * pool, so it can be handed to another thread), grown by doubling. `mark` and
 * `since` give the bytes written from a point on.
 */
export class ByteOut implements Out {
  buf: Buffer;
  off = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(size, 64));
  }

  private grow(need: number): void {
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.off + need, this.buf.length * 2));
    this.buf.copy(bigger, 0, 0, this.off);
    this.buf = bigger;
  }

  lit(l: Lit): void {
    const b = l.b;
    const n = b.length;
    if (this.off + n > this.buf.length) this.grow(n);
    if (n > SHORT) this.buf.set(b, this.off);
    else for (let i = 0, buf = this.buf, off = this.off; i < n; i++) buf[off + i] = b[i]!;
    this.off += n;
  }

  str(s: string): void {
    const n = s.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (this.off + n * 3 > this.buf.length) this.grow(n * 3);
    if (n <= SHORT) {
      // most values are short and ASCII: copied here rather than through a call into Node's encoder
      const buf = this.buf;
      const off = this.off;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[off + i] = c;
      }
      if (i === n) {
        this.off = off + n;
        return;
      }
    }
    this.off += this.buf.write(s, this.off);
  }

  /** The text written from `start` on (what a caller that needs the string reads). */
  text(start: number, end = this.off): string {
    return this.buf.toString('utf8', start, end);
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}
