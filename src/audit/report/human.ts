/**
 * The default report: one table per severity (blockers first), each finding
 * with its place, object, code and field, then the message and the fix.
 * Colour only when asked for (a terminal, unless NO_COLOR is set). Every
 * string from the input goes through inert(): a hostile name cannot move the
 * cursor or recolour the terminal.
 */
import { inert } from '../../core/diagnostics.js';
import type { Finding, Severity } from '../types.js';
import type { Summary } from './json.js';

const C = { red: '\x1b[31m', yellow: '\x1b[33m', bold: '\x1b[1m', dim: '\x1b[2m', reset: '\x1b[0m' };

function objectName(f: Finding): string {
  return `${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name ?? '(unnamed)'}`;
}

export function humanReport(findings: Finding[], summary: Summary, colour: boolean): string {
  const paint = (code: string, s: string): string => (colour ? `${code}${s}${C.reset}` : s);
  const lines: string[] = [];
  for (const [sev, title, col] of [
    ['blocker', 'BLOCKERS: will not work on an IPv6-only cluster', C.red],
    ['warning', 'WARNINGS: work by accident or degrade', C.yellow],
  ] as Array<[Severity, string, string]>) {
    const group = findings.filter((f) => f.severity === sev);
    if (!group.length) continue;
    lines.push(paint(C.bold + col, `${title} (${group.length})`));
    const rows = group.map((f) => [inert(f.source), inert(objectName(f)), f.code, inert(f.path)]);
    const head = ['SOURCE', 'OBJECT', 'CODE', 'FIELD'];
    const width = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i].length))));
    const fmt = (r: string[]): string => r.map((c, i) => (i < r.length - 1 ? c.padEnd(width[i]) : c)).join('  ');
    lines.push(paint(C.dim, `  ${fmt(head)}`));
    group.forEach((f, i) => {
      lines.push(`  ${fmt(rows[i])}`);
      lines.push(`      ${inert(f.message)}`);
      lines.push(paint(C.dim, `      fix: ${inert(f.fix)}`));
    });
    lines.push('');
  }
  const verdict = summary.blockers ? paint(C.bold + C.red, 'not ready for IPv6-only') : summary.warnings ? paint(C.yellow, 'ready, with warnings') : 'ready for IPv6-only';
  lines.push(`${summary.objects} object(s) audited: ${summary.blockers} blocker(s), ${summary.warnings} warning(s): ${verdict}`);
  return `${lines.join('\n')}\n`;
}
