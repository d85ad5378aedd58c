/**
 * One diagnostic type for every problem flat6 reports: a stable code, what was
 * wrong (with the offending value), where it is in the stack file, and the fix.
 */

/** Parse/structure problems: exit status 2. */
export type ParseCode =
  | 'FILE_READ'
  | 'YAML_SYNTAX'
  | 'NO_CLUSTER'
  | 'SCHEMA_TYPE'
  | 'SCHEMA_UNKNOWN_FIELD'
  | 'SCHEMA_REQUIRED'
  | 'SCHEMA_VALUE'
  | 'STACK_NAME';

/** Semantic checks on a well-formed stack: exit status 1. */
export type CheckCode =
  | 'ADDRESS_SYNTAX'
  | 'IPV4_LITERAL'
  | 'RESERVED_RANGE'
  | 'RANGE_OVERLAP'
  | 'SERVICE_MASK'
  | 'POD_PREFIX_LENGTH'
  | 'POD_CAPACITY'
  | 'NODE_CAPACITY'
  | 'RACK_LAYOUT'
  | 'SLOT_RANGE'
  | 'NODE_RESERVED'
  | 'GATEWAY_OUTSIDE'
  | 'VIP_OUTSIDE_SEGMENT'
  | 'VIP_CONFLICT'
  | 'DUPLICATE_NAME'
  | 'DUPLICATE_SLOT'
  | 'DUPLICATE_MAC'
  | 'DUPLICATE_RACK_INDEX'
  | 'DNS_NOT_IPV6'
  | 'K8S_VERSION'
  | 'CONTROL_PLANE'
  | 'FABRIC_PREFIX'
  | 'ASN_RANGE'
  | 'ASN_OVERLAP'
  | 'BGP_TIMERS'
  | 'PORT_CONFLICT'
  | 'LAYOUT';

export type DiagnosticCode =
  | ParseCode
  | CheckCode
  /** a rendered kubeadm file breaks the kubeadm/kubelet/kube-proxy schema (src/kubeschema): exit status 1 */
  | 'KUBEADM_SCHEMA'
  | (string & {});

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface Diagnostic {
  code: DiagnosticCode;
  severity: 'error' | 'warning';
  /** what is wrong, naming the offending value */
  message: string;
  /** dotted path inside the section, e.g. network.services */
  path?: string;
  /** the config key the path is in (default flat6:cluster) */
  section?: string;
  location?: SourceLocation;
  /** further places involved (e.g. the other range of an overlap) */
  related?: Array<{ path: string; location?: SourceLocation; message?: string }>;
  /** how to fix it */
  fix?: string;
}

const PARSE_CODES = new Set<string>(['FILE_READ', 'YAML_SYNTAX', 'NO_CLUSTER', 'SCHEMA_TYPE', 'SCHEMA_UNKNOWN_FIELD', 'SCHEMA_REQUIRED', 'SCHEMA_VALUE', 'STACK_NAME']);

export function isParseCode(code: string): boolean {
  return PARSE_CODES.has(code);
}

export class Flat6Error extends Error {
  readonly diagnostics: Diagnostic[];
  readonly exitCode: 1 | 2;
  constructor(diagnostics: Diagnostic[], exitCode?: 1 | 2) {
    super(diagnostics.map((d) => d.message).join('; '));
    this.name = 'Flat6Error';
    this.diagnostics = diagnostics;
    this.exitCode = exitCode ?? (diagnostics.some((d) => isParseCode(d.code)) ? 2 : 1);
  }
}

/** Usage errors (bad flags, unknown stack): exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function where(loc: SourceLocation | undefined): string {
  return loc ? `${inert(loc.file)}:${loc.line}:${loc.col}` : '';
}

/**
 * Control characters (C0, DEL, C1, line and paragraph separators) as \uXXXX: a
 * value quoted from a hostile file must not move the cursor, recolour the
 * terminal or fake another diagnostic line.
 */
export function inert(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g : /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Human form, one block per diagnostic, as a compiler prints them. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = [where(d.location), `${d.severity} ${d.code}`].filter(Boolean).join(': ');
  const lines = [`${head}: ${inert(d.message)}`];
  if (d.path) lines.push(`  at ${d.section ?? 'flat6:cluster'}.${inert(d.path)}`);
  for (const r of d.related ?? []) {
    lines.push(`  see ${[where(r.location), `${d.section ?? 'flat6:cluster'}.${inert(r.path)}`].filter(Boolean).join(' ')}${r.message ? `: ${inert(r.message)}` : ''}`);
  }
  if (d.fix) lines.push(`  fix: ${inert(d.fix, true)}`);
  return lines.join('\n');
}

export function formatDiagnostics(ds: Diagnostic[]): string {
  const errors = ds.filter((d) => d.severity === 'error').length;
  const warnings = ds.length - errors;
  const body = ds.map(formatDiagnostic).join('\n');
  return `${body}\n${errors} error(s), ${warnings} warning(s)\n`;
}
