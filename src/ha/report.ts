/** Human-readable failover reports. */
import type { FailoverReport, FaultResult } from './scenario.js';

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function holderText(f: FaultResult): string {
  if (f.holderBefore === f.holderAfter) return f.holderAfter ?? '-';
  return `${f.holderBefore ?? '-'} -> ${f.holderAfter ?? '-'}`;
}

export function formatReport(r: FailoverReport, run?: { index: number; of: number }): string {
  const lines: string[] = [];
  lines.push(`${run ? `run ${run.index}/${run.of}: ` : ''}stack ${r.stack}, VIP [${r.vip}]:${r.port} -> API servers ${r.nodes.map((n) => `${n.name} [${n.address}]:${r.apiServerPort}`).join(', ')}`);
  lines.push(`  client: one HTTPS request every ${r.pollIntervalMs} ms, ${r.requestTimeoutMs} ms timeout; haproxy checks every ${r.checkIntervalMs} ms`);
  lines.push(`  setup: VIP on ${r.initialHolder}, answering, all backends UP after ${s(r.setupMs)}`);
  const rows = r.faults.map((f) => [`(${f.key}) ${f.title}`, holderText(f), f.failed === 0 ? 'no interruption' : s(f.recoveryMs), `${f.failed}/${f.sent}`]);
  const head = ['fault', 'VIP holder', 'answered again', 'failed/requests'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  lines.push(`  ${head.map((h, i) => h.padEnd(w[i]!)).join('  ')}`.trimEnd());
  for (const row of rows) lines.push(`  ${row.map((c, i) => c.padEnd(w[i]!)).join('  ')}`.trimEnd());
  for (const f of r.faults) {
    const errs = Object.entries(f.errors).map(([e, n]) => `${n} ${e}`);
    const by = Object.entries(f.answeredBy)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([who, n]) => `${who} ${n}`);
    lines.push(
      `  (${f.key}) answered by: ${by.join(', ') || 'nobody'}; slowest answer ${s(f.slowestOkMs)}${errs.length ? `; failures: ${errs.join(', ')}` : ''}${f.vipMovedMs !== undefined ? `; VIP moved after ${s(f.vipMovedMs)}` : ''}`,
    );
  }
  const several = r.anomalies.filter((a) => a.holders.length > 1);
  const none = r.anomalies.filter((a) => a.holders.length === 0);
  lines.push(
    `  VIP holders (ip monitor): ${several.length === 0 ? 'never two at once' : several.map((a) => `${a.holders.join('+')} for ${a.ms.toFixed(0)} ms in (${a.during})`).join(', ')}; ` +
      `no holder: ${none.length === 0 ? 'never' : none.map((a) => `${s(a.ms)} in (${a.during ?? 'setup'})`).join(', ')}`,
  );
  lines.push(`  address samples (ip -6 addr every ${r.samples.intervalMs} ms in each namespace): ${r.samples.count}, ${r.samples.none} with no holder, ${r.samples.several} with two or more`);
  lines.push(`  backends after (d): ${Object.entries(r.backendsAfter).map(([lb, st]) => `${lb}: ${st.map((x) => `${x.name} ${x.status}`).join(' ')}`).join('; ')}`);
  lines.push(`  cleanup: ${r.leftovers.length === 0 ? 'namespaces, processes and files removed' : `LEFT BEHIND ${r.leftovers.join('; ')}`}; run took ${s(r.totalMs)}`);
  lines.push(r.problems.length === 0 ? '  result: PASS' : `  result: FAIL\n${r.problems.map((p) => `    - ${p}`).join('\n')}`);
  return lines.join('\n') + '\n';
}

/** One line per fault over several runs: min / max of recovery and failures. */
export function formatSummary(reports: FailoverReport[]): string {
  if (reports.length < 2) return '';
  const keys = reports[0]!.faults.map((f) => f.key);
  const lines = [`summary of ${reports.length} runs (answered again / failed requests, per run):`];
  for (const k of keys) {
    const fs = reports.map((r) => r.faults.find((f) => f.key === k)).filter((f): f is FaultResult => f !== undefined);
    lines.push(`  (${k}) ${fs.map((f) => `${s(f.recoveryMs)} / ${f.failed}`).join('   ')}`);
  }
  const passed = reports.filter((r) => r.problems.length === 0).length;
  lines.push(`  ${passed}/${reports.length} runs passed`);
  return lines.join('\n') + '\n';
}
