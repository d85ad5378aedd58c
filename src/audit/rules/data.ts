/**
 * ConfigMap and Secret data. Each text value is read as configuration:
 * embedded component configs (the kube-proxy, kubelet-config and
 * kubeadm-config ConfigMaps) by the component rules, nginx, haproxy and
 * CoreDNS files by their own rules, and every value by the setting scanner.
 * Binary values (ConfigMap binaryData, Secret data that is not UTF-8 text)
 * and documentation keys (*.md, *.txt, *.html, README...) are not read.
 * A Secret's findings never quote its content: only the key and the line.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { COMPONENT_KINDS, componentRules, isComponentConfig } from './component.js';
import { corefileHits } from './corefile.js';
import { haproxyHits } from './haproxy.js';
import { nginxHits } from './nginx.js';
import { type TextHit } from './text-hit.js';
import { wordMessage } from './word-message.js';
import { scanText } from './words.js';
import { isRecord, type KubeObject, type PathPart, type RawFinding } from '../types.js';

/** Values larger than this are scanned setting by setting only (no nginx/haproxy/CoreDNS/component parse). */
const STRUCTURED_MAX = 4 * 1024 * 1024;

const DOC_KEY_RE = /(\.(md|markdown|txt|rst|adoc|html?|pdf)$)|^(readme|license|licence|notice|notes|changelog)(\..*)?$/i;

export function isDocumentationKey(key: string): boolean {
  return DOC_KEY_RE.test(key);
}

const fatal = new TextDecoder('utf-8', { fatal: true });

/** A Secret value as text, or undefined when it is binary (not UTF-8, or NUL bytes). */
export function secretText(b64: string): string | undefined {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.includes(0)) return undefined;
  try {
    return fatal.decode(bytes);
  } catch {
    return undefined;
  }
}

const COMPONENT_RE = new RegExp(`["']?kind["']?\\s*:\\s*["']?(${Object.keys(COMPONENT_KINDS).join('|')})\\b`);

/** Component configuration documents embedded in a text value, with the line each finding points at. */
function embeddedComponents(text: string, base: PathPart[]): Array<RawFinding & { textLine: number }> | undefined {
  if (text.length > STRUCTURED_MAX || !COMPONENT_RE.test(text)) return undefined;
  const lc = new LineCounter();
  let docs;
  try {
    docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  } catch {
    return undefined;
  }
  if (!Array.isArray(docs)) return undefined;
  const out: Array<RawFinding & { textLine: number }> = [];
  let any = false;
  for (const doc of docs) {
    if (doc.errors.length) return undefined;
    let obj: unknown;
    try {
      obj = doc.toJS({ maxAliasCount: 50 });
    } catch {
      return undefined;
    }
    if (!isRecord(obj) || !isComponentConfig(obj)) continue;
    any = true;
    for (const f of componentRules(obj)) {
      const node = doc.getIn(f.path, true) as { range?: [number, number, number] } | undefined;
      const line = node?.range ? lc.linePos(node.range[0]).line : 1;
      out.push({ ...f, path: [...base, ...f.path], textLine: line });
    }
  }
  return any ? out : undefined;
}

function textHits(key: string, text: string): TextHit[] {
  const specific = text.length <= STRUCTURED_MAX ? [...nginxHits(text), ...haproxyHits(text), ...corefileHits(key, text)] : [];
  const lines = new Set(specific.map((h) => h.line));
  const generic: TextHit[] = scanText(text, lines).map((h) => {
    const m = wordMessage(h);
    return { code: h.code, line: h.ref, said: m.said, quiet: m.quiet, ...(m.fix ? { fix: m.fix } : {}) };
  });
  return [...specific, ...generic].sort((a, b) => a.line - b.line);
}

function valueRules(out: RawFinding[], path: PathPart[], key: string, text: string, secret: boolean): void {
  if (isDocumentationKey(key)) return;
  const embedded = embeddedComponents(text, path);
  if (embedded) {
    for (const f of embedded) {
      out.push({ ...f, message: `line ${f.textLine}: ${secret ? 'a Kubernetes component setting holds IPv4 (value not shown: Secret)' : f.message}` });
    }
    return;
  }
  for (const h of textHits(key, text)) {
    out.push({
      code: h.code,
      path,
      textLine: h.line,
      message: `line ${h.line}: ${secret ? `${h.quiet} (value not shown: Secret)` : h.said}`,
      ...(h.severity ? { severity: h.severity } : {}),
      ...(h.fix && !secret ? { fix: h.fix } : {}),
    });
  }
}

export function dataRules(obj: KubeObject): RawFinding[] {
  const out: RawFinding[] = [];
  const secret = obj['kind'] === 'Secret';
  const data = obj['data'];
  if (isRecord(data)) {
    for (const [key, v] of Object.entries(data)) {
      if (typeof v !== 'string') continue;
      const text = secret ? secretText(v) : v;
      if (text !== undefined) valueRules(out, ['data', key], key, text, secret);
    }
  }
  const stringData = obj['stringData'];
  if (secret && isRecord(stringData)) {
    for (const [key, v] of Object.entries(stringData)) if (typeof v === 'string') valueRules(out, ['stringData', key], key, v, true);
  }
  return out;
}
