/**
 * `--format sarif`: SARIF 2.1.0, as GitHub code scanning reads it. One rule
 * per finding code (all of them, so a suppression keyed on a code survives a
 * clean run), one result per finding with the file and line (relative to the
 * working directory, under %SRCROOT%) and the object as a logical location.
 * Input that could not be read is reported as tool execution notifications.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { CODE_LIST, CODES } from '../codes.js';
import type { AuditInputError, Finding } from '../types.js';

const LEVEL = { blocker: 'error', warning: 'warning' } as const;

/** `dir/a b.yaml:12` -> { uri: 'dir/a%20b.yaml', line: 12 }; undefined for stdin and live input. */
function fileOf(source: string): { uri: string; absolute: boolean; line?: number } | undefined {
  const m = /^(.*):(\d+)$/.exec(source);
  const file = m ? m[1] : source;
  if (file === 'cluster' || file === '<stdin>' || file === '') return undefined;
  const line = m ? Number(m[2]) : undefined;
  if (file.startsWith('/')) return { uri: pathToFileURL(file).href, absolute: true, ...(line ? { line } : {}) };
  return { uri: file.split(/[\\/]/).map(encodeURIComponent).join('/'), absolute: false, ...(line ? { line } : {}) };
}

function fingerprint(f: Finding): string {
  return createHash('sha256').update([f.code, f.kind, f.namespace ?? '', f.name ?? '', f.path].join('\0')).digest('hex').slice(0, 32);
}

export function sarifReport(findings: Finding[], errors: AuditInputError[], cwd: string, version: string): string {
  const rules = CODE_LIST.map((code) => ({
    id: code,
    name: code
      .toLowerCase()
      .split('_')
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join(''),
    shortDescription: { text: CODES[code].title },
    fullDescription: { text: `${CODES[code].title}. See docs/audit.md#${code.toLowerCase()} in flat6.` },
    help: { text: `Fix: ${CODES[code].fix}`, markdown: `**Fix:** ${CODES[code].fix}\n\nSee \`docs/audit.md\` (${code}) for a before/after example.` },
    defaultConfiguration: { level: LEVEL[CODES[code].severity] },
    properties: { tags: ['ipv6', 'kubernetes', CODES[code].severity] },
  }));
  const index = new Map(CODE_LIST.map((c, i) => [c, i]));
  const results = findings.map((f) => {
    const file = fileOf(f.source);
    const logical = [{ fullyQualifiedName: `${f.kind}/${f.namespace ?? ''}/${f.name ?? ''}#${f.path}`, name: f.name ?? f.kind, kind: 'resource' }];
    const location = file
      ? {
          physicalLocation: {
            artifactLocation: file.absolute ? { uri: file.uri } : { uri: file.uri, uriBaseId: '%SRCROOT%' },
            ...(file.line ? { region: { startLine: file.line } } : {}),
          },
          logicalLocations: logical,
        }
      : { logicalLocations: logical };
    return {
      ruleId: f.code,
      ruleIndex: index.get(f.code)!,
      level: LEVEL[f.severity],
      message: { text: `${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name ?? '(unnamed)'} ${f.path}: ${f.message}. Fix: ${f.fix}` },
      locations: [location],
      partialFingerprints: { 'flat6Audit/v1': fingerprint(f) },
    };
  });
  const notifications = errors.map((e) => {
    const file = fileOf(e.file);
    return {
      level: 'error',
      message: { text: `unusable input: ${e.message}` },
      ...(file ? { locations: [{ physicalLocation: { artifactLocation: file.absolute ? { uri: file.uri } : { uri: file.uri, uriBaseId: '%SRCROOT%' }, ...(e.line ? { region: { startLine: e.line } } : {}) } }] } : {}),
    };
  });
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'flat6 audit', semanticVersion: version, version, rules } },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(cwd.endsWith('/') ? cwd : `${cwd}/`).href } },
        invocations: [{ executionSuccessful: errors.length === 0, ...(notifications.length ? { toolExecutionNotifications: notifications } : {}) }],
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
