/** `--format json`: {"findings":[...], "summary":{"objects","blockers","warnings"}}. */
import type { Finding } from '../types.js';

export interface Summary {
  objects: number;
  blockers: number;
  warnings: number;
}

export function summarize(objects: number, findings: Finding[]): Summary {
  return {
    objects,
    blockers: findings.filter((f) => f.severity === 'blocker').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

export function jsonReport(findings: Finding[], summary: Summary): string {
  const rows = findings.map((f) => ({
    kind: f.kind,
    namespace: f.namespace,
    name: f.name,
    path: f.path,
    severity: f.severity,
    code: f.code,
    message: f.message,
    fix: f.fix,
    source: f.source,
  }));
  return `${JSON.stringify({ findings: rows, summary }, null, 2)}\n`;
}
