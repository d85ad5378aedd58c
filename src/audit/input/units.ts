/**
 * From units (a YAML document or list entry, a JSON value or list element) to
 * Kubernetes objects: parse, bound, flatten lists, give each object a way to
 * find the line of any of its fields.
 */
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { isKubeObject, type ObjectSource } from '../engine.js';
import { AuditInputError, isRecord, type KubeObject, type PathPart } from '../types.js';
import { jsonLineOf } from './json-locate.js';
import { MAX_ALIASES, MAX_DEPTH } from './limits.js';

export interface UnitSink {
  object(obj: KubeObject, src: ObjectSource): void;
  /** a document or item that is not a Kubernetes object */
  skipped(line: number, what: string): void;
}

export interface Unit {
  kind: 'doc' | 'item' | 'envelope';
  text: string;
  line: number;
  /** file line of line n of the unit (YAML envelopes skip the list) */
  fileLine?: (n: number) => number;
  /** item only: the kind and apiVersion of its list, when known before the item */
  listKind?: string;
  listApiVersion?: string;
}

/** A yaml message without the parts that may quote the input (after the first colon), control characters escaped. */
function yamlMessage(m: string): string {
  const first = m.split('\n')[0].split(':')[0].slice(0, 120);
  return first.replace(/\p{Cc}/gu, ' ');
}

/** Throws unless `v` nests at most MAX_DEPTH maps and lists (iterative: no stack to overflow). */
function checkDepth(v: unknown, file: string, line: number): void {
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d >= MAX_DEPTH) throw new AuditInputError(file, line, `the document nests deeper than ${MAX_DEPTH} levels`);
    for (const y of Array.isArray(x) ? x : Object.values(x)) if (typeof y === 'object' && y !== null) stack.push([y, d + 1]);
  }
}

type Locate = (path: PathPart[], textLine?: number) => number | undefined;

interface YamlNodeish {
  range?: [number, number, number];
  type?: string;
}

function yamlLocator(doc: Document, lc: LineCounter, toFile: (n: number) => number, prefix: PathPart[]): Locate {
  return (path, textLine) => {
    const full = [...prefix, ...path];
    for (let n = full.length; n >= 0; n--) {
      const node = (n === 0 ? doc.contents : doc.getIn(full.slice(0, n), true)) as YamlNodeish | null | undefined;
      if (!node?.range) continue;
      const line = toFile(lc.linePos(node.range[0]).line);
      return textLine !== undefined && node.type === 'BLOCK_LITERAL' ? line + textLine : line;
    }
    return undefined;
  };
}

/** JSON units are located on demand (only for objects with findings), by one scan of their text. */
function jsonLocator(text: string, toFile: (n: number) => number): Locate {
  const lines = new Map<string, number>();
  return (path) => {
    const key = JSON.stringify(path);
    let line = lines.get(key);
    if (line === undefined) lines.set(key, (line = jsonLineOf(text, path)));
    return toFile(line);
  };
}

/**
 * Reads units of one file and passes their objects on. A list whose items come
 * before its kind (typed lists such as PodList, whose items carry no kind)
 * holds those items until the envelope names the kind.
 */
export class UnitReader {
  private pending: Array<{ obj: Record<string, unknown>; src: ObjectSource }> = [];

  constructor(
    private readonly file: string,
    private readonly label: string,
    private readonly sink: UnitSink,
  ) {}

  yaml(u: Unit): void {
    const toFile = u.fileLine ?? ((n: number) => u.line - 1 + n);
    const lc = new LineCounter();
    const docs = parseAllDocuments(u.text, { lineCounter: lc, prettyErrors: false, merge: true });
    for (const doc of Array.isArray(docs) ? docs : []) {
      const err = doc.errors.at(0);
      if (err) throw new AuditInputError(this.file, toFile(lc.linePos(err.pos[0]).line), `YAML: ${yamlMessage(err.message)}`);
      if (doc.contents === null) continue;
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: MAX_ALIASES });
      } catch (e) {
        const at = toFile(lc.linePos((doc.contents as YamlNodeish).range?.[0] ?? 0).line);
        if (e instanceof ReferenceError) throw new AuditInputError(this.file, at, `YAML aliases expand beyond ${MAX_ALIASES} references (an alias bomb?)`);
        throw new AuditInputError(this.file, at, 'YAML: the document cannot be read as data');
      }
      const line = toFile(lc.linePos((doc.contents as YamlNodeish).range?.[0] ?? 0).line);
      checkDepth(value, this.file, line);
      const locateAt = (prefix: PathPart[]): Locate => yamlLocator(doc, lc, toFile, prefix);
      this.value(value, u.kind, line, locateAt, (i) => {
        const node = doc.getIn(['items', i], true) as YamlNodeish | undefined;
        return node?.range ? toFile(lc.linePos(node.range[0]).line) : line;
      });
    }
  }

  json(u: Unit): void {
    let value: unknown;
    try {
      value = JSON.parse(u.text);
    } catch (e) {
      // V8's message may quote the input (a Secret): only the position is kept.
      const pos = /position (\d+)/.exec((e as Error).message);
      const lineInUnit = pos ? u.text.slice(0, Number(pos[1])).split('\n').length : 1;
      throw new AuditInputError(this.file, u.line - 1 + lineInUnit, 'invalid JSON');
    }
    const toFile = (n: number): number => u.line - 1 + n;
    const locate = jsonLocator(u.text, toFile);
    if (u.kind === 'item' && u.listKind?.endsWith('List') && isRecord(value)) value = withListKind(value, u.listKind, u.listApiVersion);
    this.value(value, u.kind, u.line, (prefix) => (path, t) => locate([...prefix, ...path], t), () => u.line);
  }

  private value(value: unknown, kind: Unit['kind'], line: number, locateAt: (prefix: PathPart[]) => Locate, itemLine: (i: number) => number): void {
    if (value === null || value === undefined) return;
    if (kind === 'envelope') {
      this.envelope(value, line);
      return;
    }
    if (kind === 'item') {
      this.one(value, { label: this.label, line, locate: locateAt([]) }, true);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => this.one(v, { label: this.label, line: itemLine(i), locate: locateAt([i]) }, false));
      return;
    }
    if (isRecord(value) && Array.isArray(value['items']) && (!isKubeObject(value) || String(value['kind']).endsWith('List'))) {
      const listKind = typeof value['kind'] === 'string' ? value['kind'] : undefined;
      (value['items'] as unknown[]).forEach((v, i) => {
        const obj = isRecord(v) && listKind ? withListKind(v, listKind, value['apiVersion']) : v;
        this.one(obj, { label: this.label, line: itemLine(i), locate: locateAt(['items', i]) }, false);
      });
      return;
    }
    this.one(value, { label: this.label, line, locate: locateAt([]) }, false);
  }

  private one(v: unknown, src: ObjectSource, mayWait: boolean): void {
    if (isKubeObject(v)) this.sink.object(v, src);
    else if (mayWait && isRecord(v) && !('kind' in v)) this.pending.push({ obj: v, src });
    else this.sink.skipped(src.line ?? 0, 'documents that are not Kubernetes objects (no apiVersion and kind), not audited');
  }

  private envelope(value: unknown, line: number): void {
    const listKind = isRecord(value) && typeof value['kind'] === 'string' && value['kind'].endsWith('List') ? value['kind'] : undefined;
    for (const p of this.pending) {
      const obj = listKind ? withListKind(p.obj, listKind, (value as Record<string, unknown>)['apiVersion']) : p.obj;
      if (isKubeObject(obj)) this.sink.object(obj, p.src);
      else this.sink.skipped(p.src.line ?? line, 'list items that are not Kubernetes objects (no apiVersion and kind), not audited');
    }
    this.pending = [];
  }

  /** Items left waiting at the end of the file (a list with no envelope after them). */
  finish(): void {
    this.envelope(undefined, 0);
  }
}

/** Items of a typed list (PodList, as the API server returns it) carry no kind: it is the list's, less "List". */
function withListKind(item: Record<string, unknown>, listKind: string, apiVersion: unknown): Record<string, unknown> {
  if (typeof item['kind'] === 'string' || listKind === 'List') return item;
  return { kind: listKind.slice(0, -4), ...(typeof apiVersion === 'string' && typeof item['apiVersion'] !== 'string' ? { apiVersion } : {}), ...item };
}
