/**
 * The audit's data model: what a rule reports about one Kubernetes object, and
 * the finding a user sees once the object and its place in the input are known.
 */
import type { AuditCode } from './codes.js';

export type Severity = 'blocker' | 'warning';

/** One step of a field path: a map key or a list index. */
export type PathPart = string | number;

/** What a rule reports: the field, the code and the words; the engine adds the object and its place. */
export interface RawFinding {
  code: AuditCode;
  /** the field inside the object, e.g. ['spec', 'ipFamilies', 1] */
  path: PathPart[];
  message: string;
  /** overrides the code's default fix */
  fix?: string;
  /** overrides the code's default severity (documented per code in docs/audit.md) */
  severity?: Severity;
  /** 1-based line inside the text value at `path` (ConfigMap/Secret data), when the finding is on one line of it */
  textLine?: number;
  /** path relative to the pod spec it was found in (for reporting a controller's finding once) */
  podSpecPath?: string;
}

/** A finding as printed: `--format json` writes exactly these fields. */
export interface Finding {
  kind: string;
  /** null for cluster-scoped objects and manifests that name no namespace */
  namespace: string | null;
  name: string | null;
  path: string;
  severity: Severity;
  code: AuditCode;
  message: string;
  fix: string;
  /** `file:line` for file input, `<stdin>:line` for standard input, `cluster` for live mode */
  source: string;
}

/** A Kubernetes object as read: a plain JSON object. */
export type KubeObject = Record<string, unknown>;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A scalar as text (string, number, boolean); '' for anything else. */
export function scalarText(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** `spec.containers[0].env[2].value`; keys that are not identifiers are written `data["nginx.conf"]`. */
export function formatPath(parts: readonly PathPart[]): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

/**
 * Input that cannot be audited (exit status 2): which file, which line, why.
 * The message never quotes the input: it may be a Secret.
 */
export class AuditInputError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  constructor(file: string, line: number | undefined, message: string) {
    super(message);
    this.name = 'AuditInputError';
    this.file = file;
    this.line = line;
  }
  get where(): string {
    return this.line === undefined ? this.file : `${this.file}:${this.line}`;
  }
}
