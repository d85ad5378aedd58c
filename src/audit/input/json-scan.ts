/**
 * Splits a JSON stream into units without holding it whole: top-level values
 * one after another (one object, a `kubectl get -o json` List, concatenated
 * objects as jq prints them, or an array of objects), and the elements of a
 * top-level object's "items" array one by one. The rest of a list object (apiVersion, kind,
 * metadata) becomes an envelope unit with "items": []. Only the structure is
 * tracked here (strings, nesting, lines); each unit is parsed by JSON.parse.
 */
import { AuditInputError } from '../types.js';
import { MAX_DEPTH, MAX_UNIT_BYTES } from './limits.js';

export interface JsonUnit {
  kind: 'doc' | 'item' | 'envelope';
  text: string;
  line: number;
  /** item only: the list's "kind" and "apiVersion" when they came before "items" (typed lists from the API) */
  listKind?: string;
  listApiVersion?: string;
}

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);

function indexOr(s: string, c: string, from: number, n: number): number {
  const k = s.indexOf(c, from);
  return k < 0 ? n : k;
}

export class JsonScanner {
  private stack: number[] = []; // '{' or '['
  private inString = false;
  private escape = false;
  private line = 1;
  /** top level: collecting a value that is not split (doc) or the envelope of a list */
  private top: string[] = [];
  private topBytes = 0;
  private topLine = 0;
  private topKind: 'doc' | 'envelope' = 'doc';
  private inTop = false;
  /** depth-1 object key tracking */
  private expectKey = false;
  private keyChars: string[] | null = null;
  private lastKey = '';
  private valueChars: string[] | null = null;
  private head: Record<string, string> = {};
  /** an items array is open at this stack depth (2 for {"items": [...]}, 1 for a top-level array) */
  private itemsDepth = 0;
  private item: string[] = [];
  private itemBytes = 0;
  private itemLine = 0;
  private inItem = false;
  private itemsSeen = 0;
  private out: JsonUnit[] = [];

  constructor(private readonly file: string) {}

  private fail(message: string): never {
    throw new AuditInputError(this.file, this.line, message);
  }

  push(s: string): JsonUnit[] {
    let segStart = 0; // start of the slice of s not yet copied into the current buffer
    const copy = (to: number): void => {
      // what stands between two items (white space, commas) stays out of every buffer
      if (!this.inItem && this.itemsSeen > 0 && this.itemsDepth && this.stack.length === this.itemsDepth) {
        segStart = to;
        return;
      }
      if (to > segStart) {
        const piece = s.slice(segStart, to);
        if (this.inItem) {
          this.item.push(piece);
          this.itemBytes += piece.length;
          if (this.itemBytes > MAX_UNIT_BYTES) this.fail(`a list item (from line ${this.itemLine}) is larger than ${MAX_UNIT_BYTES / 1048576} MiB`);
        } else if (this.inTop) {
          this.top.push(piece);
          this.topBytes += piece.length;
          if (this.topBytes > MAX_UNIT_BYTES) this.fail(`a JSON value (from line ${this.topLine}) is larger than ${MAX_UNIT_BYTES / 1048576} MiB outside a list's items`);
        }
      }
      segStart = to;
    };
    const n = s.length;
    let nextB = -1;
    let nextNl = -1;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        // jump to the next quote or backslash
        let j = i;
        if (!this.escape) {
          // next quote, backslash or newline; the last two are remembered, so a
          // long chunk without any is not searched to its end for every string
          if (nextB < i) nextB = indexOr(s, '\\', i, n);
          if (nextNl < i) nextNl = indexOr(s, '\n', i, n);
          j = Math.min(indexOr(s, '"', i, n), nextB, nextNl);
          if (this.keyChars) this.keyChars.push(s.slice(i, j));
          else if (this.valueChars && this.valueChars.length < 64) this.valueChars.push(s.slice(i, j));
          if (j >= n) {
            i = n;
            break;
          }
        }
        const c = s.charCodeAt(j);
        if (this.escape) {
          this.escape = false;
          if (this.keyChars) this.keyChars.push(s[j]);
        } else if (c === 0x5c) {
          this.escape = true;
          if (this.keyChars) this.keyChars.push('\\');
          else if (this.valueChars) this.valueChars.push('\\');
        } else if (c === 0x0a) {
          this.line++;
        } else if (c === 0x22) {
          this.inString = false;
          if (this.keyChars) {
            this.lastKey = this.keyChars.join('');
            this.keyChars = null;
          } else if (this.valueChars) {
            this.head[this.lastKey] = this.valueChars.join('').slice(0, 256);
            this.valueChars = null;
          }
        }
        i = j + 1;
        continue;
      }
      const c = s.charCodeAt(i);
      if (WS.has(c)) {
        if (c === 0x0a) this.line++;
        i++;
        continue;
      }
      const depth = this.stack.length;
      // the start of a value directly inside the items array: a new item
      if (this.itemsDepth && depth === this.itemsDepth && !this.inItem && c !== 0x2c && c !== 0x5d) {
        copy(i);
        this.itemsSeen++;
        this.inItem = true;
        this.item = [];
        this.itemBytes = 0;
        this.itemLine = this.line;
      }
      if (depth === 0 && !this.inTop) {
        if (c !== 0x7b && c !== 0x5b) this.fail('expected a JSON object or array');
        segStart = i;
        this.inTop = true;
        this.top = [];
        this.topBytes = 0;
        this.topLine = this.line;
        this.topKind = 'doc';
      }
      switch (c) {
        case 0x22: // "
          this.inString = true;
          if (depth === 1 && this.stack[0] === 0x7b && this.expectKey) this.keyChars = [];
          else if (depth === 1 && this.stack[0] === 0x7b && (this.lastKey === 'kind' || this.lastKey === 'apiVersion')) this.valueChars = [];
          break;
        case 0x7b: // {
        case 0x5b: // [
          if (depth >= MAX_DEPTH) this.fail(`JSON nests deeper than ${MAX_DEPTH} levels`);
          if (depth === 0 && c === 0x5b) {
            this.itemsDepth = 1;
            this.itemsSeen = 0;
            this.topKind = 'envelope';
          } else if (depth === 1 && c === 0x5b && this.stack[0] === 0x7b && !this.expectKey && this.lastKey === 'items') {
            this.itemsDepth = 2;
            this.itemsSeen = 0;
            this.topKind = 'envelope';
          }
          this.stack.push(c);
          if (depth === 0 && c === 0x7b) this.expectKey = true;
          break;
        case 0x7d: // }
        case 0x5d: {
          // ]
          const open = this.stack.pop();
          if (open === undefined || (c === 0x7d) !== (open === 0x7b)) this.fail(`unbalanced "${String.fromCharCode(c)}"`);
          if (this.itemsDepth && depth - 1 === this.itemsDepth && this.inItem) {
            copy(i + 1);
            this.endItem();
          } else if (this.itemsDepth && depth === this.itemsDepth && c === 0x5d) {
            if (this.inItem) {
              copy(i);
              this.endItem();
            } else if (this.itemsSeen > 0) segStart = i; // the white space after the last item stays out
            this.itemsDepth = 0;
          }
          if (depth === 1) {
            copy(i + 1);
            this.endTop();
          }
          break;
        }
        case 0x3a: // :
          if (depth === 1) this.expectKey = false;
          break;
        case 0x2c: // ,
          if (depth === 1) this.expectKey = true;
          if (this.itemsDepth && depth === this.itemsDepth) {
            if (this.inItem) {
              copy(i);
              this.endItem();
            }
            segStart = i + 1; // the comma between items stays out of every buffer
          }
          break;
      }
      i++;
    }
    copy(n);
    return this.take();
  }

  end(): JsonUnit[] {
    if (this.inString || this.stack.length) this.fail('the JSON ends inside a value');
    return this.take();
  }

  private take(): JsonUnit[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  private endItem(): void {
    const u: JsonUnit = { kind: 'item', text: this.item.join(''), line: this.itemLine };
    const k = this.head['kind'];
    if (this.itemsDepth === 2 && k && !k.includes('\\')) u.listKind = k;
    const v = this.head['apiVersion'];
    if (this.itemsDepth === 2 && v && !v.includes('\\')) u.listApiVersion = v;
    this.out.push(u);
    this.inItem = false;
    this.item = [];
    this.itemBytes = 0;
  }

  private endTop(): void {
    let text = this.top.join('');
    if (this.topKind === 'envelope' && this.stack.length === 0 && text.startsWith('[')) text = '[]';
    this.out.push({ kind: this.topKind, text, line: this.topLine });
    this.inTop = false;
    this.top = [];
    this.topBytes = 0;
    this.itemsDepth = 0;
    this.lastKey = '';
    this.head = {};
  }
}
