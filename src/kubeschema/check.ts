/**
 * A rendered kubeadm file (YAML text) in, located diagnostics out: each schema issue is placed at
 * the line and column of the offending key or value in the file.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node, type Tags } from 'yaml';
import type { Diagnostic } from '../core/diagnostics.js';
import type { SchemaIssue } from './dsl.js';
import { validateKubeadmFile } from './file.js';

/**
 * kubeadm reads its config with sigs.k8s.io/yaml (go-yaml v2), i.e. YAML 1.1 scalars: `on`, `yes`
 * and `y` are booleans and 0644 is octal, so a value kubeadm would refuse is refused here too. Two
 * YAML 1.1 types are left out because go-yaml v2 hands them to kubeadm as strings: timestamps and
 * sexagesimal numbers (1:30).
 */
const PARSE_OPTIONS = {
  version: '1.1',
  prettyErrors: false,
  uniqueKeys: true,
  customTags: (tags: Tags): Tags =>
    tags.filter((t) => typeof t === 'string' || (t.tag !== 'tag:yaml.org,2002:timestamp' && t.format !== 'TIME')),
} as const;

/**
 * Checks one rendered kubeadm config file (the multi-document YAML given to `kubeadm init` or
 * `kubeadm join`) against the kubeadm v1beta4, kubelet v1beta1 and kube-proxy v1alpha1 schemas and
 * the rules that tie its documents together (see validateKubeadmFile). YAML that does not parse is
 * reported as YAML_SYNTAX and nothing else is checked; every schema problem is a KUBEADM_SCHEMA
 * error located at `fileLabel`:line:col, with `section` the document's kind, `path` the field
 * inside it (e.g. ClusterConfiguration / networking.podSubnet) and, where one is known, a `fix`
 * such as did you mean "podSubnet"?. An empty list means the file is valid.
 */
export function checkKubeadmFile(text: string, fileLabel: string): Diagnostic[] {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter });
  const docs = Array.isArray(parsed) ? parsed : [];
  const at = (offset: number) => ({ file: fileLabel, ...lineCounter.linePos(offset) });

  const syntax: Diagnostic[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) {
      syntax.push({ code: 'YAML_SYNTAX', severity: 'error', message: e.message, location: at(e.pos[0]) });
    }
  }
  if (syntax.length > 0) return syntax;

  // Like kubeadm's YAML reader, skip documents with nothing in them (a stray or trailing "---").
  const kept = docs.filter((d) => !isEmpty(d));
  const issues = validateKubeadmFile(kept.map((d): unknown => d.toJS({ maxAliasCount: 100 })));
  return issues.map((i) => toDiagnostic(i, kept, at));
}

/** No content and no comment: kubeadm's reader skips it (a comment-only document is an error there). */
function isEmpty(doc: Document.Parsed): boolean {
  const c = doc.contents;
  if (doc.commentBefore || doc.comment) return false;
  return c === null || (isScalar(c) && c.value === null && c.range[0] === c.range[1] && !c.comment && !c.commentBefore);
}

function toDiagnostic(i: SchemaIssue, docs: Document.Parsed[], at: (offset: number) => Diagnostic['location']): Diagnostic {
  const d: Diagnostic = { code: 'KUBEADM_SCHEMA', severity: 'error', message: i.message };
  const split = /^([^.[]+)(?:\.(.+)|(\[.+))?$/.exec(i.path);
  if (split && split[1] !== '(file)') {
    d.section = split[1];
    const rest = (split[2] as string | undefined) ?? split[3];
    if (rest) d.path = rest;
  }
  const doc = i.doc === undefined ? undefined : docs[i.doc];
  d.location = at(doc ? offsetOf(doc, i.at ?? [], i.key === true) : 0);
  if (i.hint) d.fix = i.hint;
  return d;
}

/**
 * Source offset of the node at `keys` inside `doc`, or of its nearest ancestor that exists (a
 * missing required field is reported at its parent). With `onKey`, the key of the last step.
 */
function offsetOf(doc: Document.Parsed, keys: ReadonlyArray<string | number>, onKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? doc.range[0];
  for (let n = 0; n < keys.length; n++) {
    if (isAlias(node)) node = node.resolve(doc);
    const k = keys[n];
    let next: unknown;
    let keyStart: number | undefined;
    if (isMap(node)) {
      const pair = (node.items).find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(k));
      if (!pair) break;
      keyStart = startOf(pair.key);
      next = pair.value;
    } else if (isSeq(node) && typeof k === 'number') {
      next = node.items[k];
    } else break;
    if (onKey && n === keys.length - 1 && keyStart !== undefined) return keyStart;
    offset = startOf(next) ?? keyStart ?? offset;
    node = next;
  }
  return offset;
}

function startOf(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}
