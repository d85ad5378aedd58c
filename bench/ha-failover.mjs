#!/usr/bin/env node
// Runs the HA failover scenario (flat6 ha failover) several times and prints,
// per fault, the time until the VIP answered again, the time until another
// node held the VIP, and the failed requests: min, median and max over the
// runs. Root only (network namespaces). Uses the compiled dist/ (run
// `npm run build` first).
//
//   sudo node bench/ha-failover.mjs [--stack metal] [--runs 5] [--interval 100] [--timeout 1000]
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(ROOT, 'dist', 'ha', 'scenario.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('the failover lab creates network namespaces: run as root');
  process.exit(2);
}
const { values } = parseArgs({
  options: {
    stack: { type: 'string', default: 'metal' },
    runs: { type: 'string', default: '5' },
    interval: { type: 'string', default: '100' },
    timeout: { type: 'string', default: '1000' },
  },
});
const { loadStack } = await import('../dist/spec/load.js');
const { createPlan } = await import('../dist/plan/plan.js');
const { runFailover } = await import('../dist/ha/scenario.js');
const { LabInterrupted } = await import('../dist/runtime/signals.js');

const file = values.stack.includes('/') ? values.stack : join(ROOT, 'stacks', `Pulumi.${values.stack}.yaml`);
const plan = createPlan(loadStack(file));
const runs = Number(values.runs);
const reports = [];
for (let i = 1; i <= runs; i++) {
  let r;
  try {
    // Ctrl-C stops the run at its next step; the run removes what it made, then this exits.
    r = await runFailover(plan, { runId: `bench${i}`, pollIntervalMs: Number(values.interval), requestTimeoutMs: Number(values.timeout) });
  } catch (e) {
    if (!(e instanceof LabInterrupted)) throw e;
    console.error(`run ${i}/${runs}: ${e.message}; its lab is removed`);
    process.exit(e.exitCode);
  }
  reports.push(r);
  process.stderr.write(`run ${i}/${runs}: ${r.problems.length ? `FAIL (${r.problems.join('; ')})` : 'pass'}, ${(r.totalMs / 1000).toFixed(1)} s\n`);
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? { min: s[0], med: s[Math.floor((s.length - 1) / 2)], max: s[s.length - 1] } : undefined;
};
const ms = (x) => (x === undefined ? '-' : `${(x / 1000).toFixed(2)} s`);
const cell = (xs, f) => {
  const st = stats(xs);
  return st ? `${f(st.min)} / ${f(st.med)} / ${f(st.max)}` : '-';
};
console.log(`stack ${plan.stackName}: ${runs} runs, client every ${values.interval} ms, ${values.timeout} ms timeout (min / median / max)`);
const LABELS = { a: 'keepalived stopped on the holder', b: 'link of the holder down', c: 'API server on the holder stopped', d: 'everything restored' };
const rows = [['fault', 'answered again', 'VIP moved after', 'failed requests']];
for (const key of ['a', 'b', 'c', 'd']) {
  const fs = reports.map((r) => r.faults.find((f) => f.key === key)).filter(Boolean);
  rows.push([
    `(${key}) ${LABELS[key]}`,
    cell(fs.map((f) => f.recoveryMs), ms),
    cell(fs.map((f) => f.vipMovedMs).filter((x) => x !== undefined), ms),
    cell(fs.map((f) => f.failed), String),
  ]);
}
rows.push(['setup (VIP answering, all backends UP)', cell(reports.map((r) => r.setupMs), ms), '', '']);
const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd());
console.log(`${reports.filter((r) => r.problems.length === 0).length}/${runs} runs passed`);
