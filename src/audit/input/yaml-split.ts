/**
 * Splits a YAML stream into units that each parse on their own, line by line,
 * so a multi-gigabyte input is read with flat memory:
 *  - documents, at `---` and `...` lines (YAML 1.2 forbids a document marker
 *    at the start of a line inside any scalar, so the split is exact);
 *  - the entries of a top-level `items:` list (`kubectl get -o yaml` prints a
 *    whole dump as one List document): each entry becomes its own unit, with
 *    its leading "-" blanked so line and column numbers stay those of the file.
 *    The rest of that document (apiVersion, kind, metadata) is one more unit,
 *    the envelope, with `items: []` in place of the list.
 */
import { AuditInputError } from '../types.js';
import { MAX_UNIT_BYTES } from './limits.js';

export interface YamlUnit {
  kind: 'doc' | 'item' | 'envelope';
  text: string;
  /** file line of the unit's first line */
  line: number;
  /** envelope only: its lines after line `after` (1-based, in the unit) stood `size` lines further down in the file */
  gap?: { after: number; size: number };
}

/** File line of line `n` (1-based) of a unit. */
export function fileLine(u: YamlUnit, n: number): number {
  return u.line - 1 + (u.gap && n > u.gap.after ? n + u.gap.size : n);
}

const MARKER_RE = /^(---|\.\.\.)(\s|$)/;
const ITEMS_RE = /^items:\s*(#.*)?$/;

export class YamlSplitter {
  private partial = '';
  private lineNo = 0;
  private mode: 'doc' | 'pending' | 'items' = 'doc';
  /** the current document's lines outside the items list */
  private doc: string[] = [];
  private docStart = 1;
  private docBytes = 0;
  private itemsLineIndex = -1;
  private split = false;
  private gapAfter = 0;
  private gapStart = 0;
  private gapSize = 0;
  private indent = 0;
  private item: string[] = [];
  private itemStart = 0;
  private itemBytes = 0;
  private out: YamlUnit[] = [];

  constructor(private readonly file: string) {}

  push(chunk: string): YamlUnit[] {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      const line = this.partial + chunk.slice(start, nl);
      this.partial = '';
      start = nl + 1;
      this.line(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    this.partial += chunk.slice(start);
    if (this.partial.length > MAX_UNIT_BYTES) throw new AuditInputError(this.file, this.lineNo + 1, `a line longer than ${MAX_UNIT_BYTES / 1048576} MiB`);
    return this.take();
  }

  end(): YamlUnit[] {
    if (this.partial) this.line(this.partial.endsWith('\r') ? this.partial.slice(0, -1) : this.partial);
    this.partial = '';
    this.endDoc();
    return this.take();
  }

  private take(): YamlUnit[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  private tooLarge(line: number, what: string): never {
    throw new AuditInputError(this.file, line, `${what} is larger than ${MAX_UNIT_BYTES / 1048576} MiB (a Kubernetes object is at most about 1.5 MiB)`);
  }

  private docLine(l: string): void {
    if (this.doc.length === 0 && this.docBytes === 0) this.docStart = this.lineNo;
    this.doc.push(l);
    this.docBytes += l.length + 1;
    if (this.docBytes > MAX_UNIT_BYTES) this.tooLarge(this.docStart, 'a YAML document');
  }

  private itemLine(l: string): void {
    this.item.push(l);
    this.itemBytes += l.length + 1;
    if (this.itemBytes > MAX_UNIT_BYTES) this.tooLarge(this.itemStart, 'a list item');
  }

  private line(l: string): void {
    this.lineNo++;
    if (MARKER_RE.test(l)) {
      this.endDoc();
      if (l.startsWith('---')) {
        this.docStart = this.lineNo;
        this.docLine(l);
      }
      return;
    }
    if (this.mode === 'items') {
      const blankOrComment = /^\s*(#.*)?$/.test(l);
      const ind = l.length - l.trimStart().length;
      if (!blankOrComment && ind === this.indent && l[ind] === '-' && (l.length === ind + 1 || l[ind + 1] === ' ')) {
        this.flushItem();
        this.itemStart = this.lineNo;
        this.itemLine(`${l.slice(0, ind)} ${l.slice(ind + 1)}`);
        return;
      }
      if (blankOrComment || ind > this.indent) {
        this.itemLine(l);
        return;
      }
      this.flushItem();
      this.gapSize = this.lineNo - this.gapStart;
      this.mode = 'doc';
    } else if (this.mode === 'pending') {
      if (/^\s*(#.*)?$/.test(l)) {
        this.docLine(l);
        return;
      }
      const m = /^( *)-( |$)/.exec(l);
      if (m) {
        this.mode = 'items';
        this.split = true;
        this.indent = m[1].length;
        this.doc[this.itemsLineIndex] = 'items: []';
        this.gapAfter = this.doc.length;
        this.gapStart = this.lineNo;
        this.itemStart = this.lineNo;
        this.itemLine(`${l.slice(0, this.indent)} ${l.slice(this.indent + 1)}`);
        return;
      }
      this.mode = 'doc';
    }
    if (ITEMS_RE.test(l)) {
      this.docLine(l);
      this.itemsLineIndex = this.doc.length - 1;
      this.mode = 'pending';
      return;
    }
    this.docLine(l);
  }

  private flushItem(): void {
    if (!this.item.length) return;
    this.out.push({ kind: 'item', text: this.item.join('\n'), line: this.itemStart });
    this.item = [];
    this.itemBytes = 0;
  }

  private endDoc(): void {
    this.flushItem();
    if (this.doc.length) {
      const u: YamlUnit = { kind: this.split ? 'envelope' : 'doc', text: this.doc.join('\n'), line: this.docStart };
      if (this.split && this.gapSize) u.gap = { after: this.gapAfter, size: this.gapSize };
      this.out.push(u);
    }
    this.doc = [];
    this.docBytes = 0;
    this.docStart = this.lineNo + 1;
    this.mode = 'doc';
    this.split = false;
    this.gapSize = 0;
    this.itemsLineIndex = -1;
  }
}
