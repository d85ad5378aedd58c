#!/usr/bin/env node
// Times `flat6 lab up` until every router holds the routes the plan predicts,
// for 4 racks x 8 nodes x 2 pods of the scale stack (32 nodes, 64 pods,
// 101 namespaces), in both routing modes, then `lab down`. Root only; uses the
// compiled dist/ (run `npm run build` first).
//
//   node bench/lab-up.mjs [--runs N] [--racks N] [--nodes-per-rack N] [--pods-per-node N]
//
// Columns (seconds, median and range of --runs; phases from the run's state.json):
//   up wall     the whole `flat6 lab up` process, Node start-up and render included
//   converged   from the start of up to all routes converged (what up waits for)
//   after start routes converged after BIRD started / static routes were applied
//   machines    namespaces, sysctl -p, cabling done
//   pods        every node configured from its netplan, every pod attached (CNI ADD)
//   dad         IPv6 duplicate address detection settled everywhere
//   down        `flat6 lab down`
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(ROOT, 'dist', 'cli', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('the lab needs root (network namespaces): run as root');
  process.exit(2);
}
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    racks: { type: 'string', default: '4' },
    'nodes-per-rack': { type: 'string', default: '8' },
    'pods-per-node': { type: 'string', default: '2' },
  },
});
const RUNS = Number(values.runs);
const SHAPE = ['--racks', values.racks, '--nodes-per-rack', values['nodes-per-rack'], '--pods-per-node', values['pods-per-node']];

const base = mkdtempSync(join(tmpdir(), 'flat6-bench-lab-'));
const env = { ...process.env, FLAT6_LAB_DIR: base };
const flat6 = (args) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'flat6.js'), ...args], { env, encoding: 'utf8' });
  return { ...r, ms: performance.now() - t0 };
};
process.on('exit', () => {
  flat6(['lab', 'down', '--stack', 'scale']);
  rmSync(base, { recursive: true, force: true });
});

const fmt = (ms) => (ms / 1000).toFixed(2);
function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return `${fmt(s[Math.floor(s.length / 2)])} (${fmt(s[0])}-${fmt(s[s.length - 1])})`;
}

console.log(`flat6 lab up, scale stack: ${values.racks} racks x ${values['nodes-per-rack']} nodes x ${values['pods-per-node']} pods; ${RUNS} run(s) per mode`);
console.log(`machine: ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const cols = ['up wall', 'converged', 'after start', 'machines', 'pods', 'dad', 'down'];
console.log(`\n${'mode'.padEnd(8)}${cols.map((c) => c.padStart(20)).join('')}`);
for (const mode of ['bgp', 'static']) {
  const rows = Object.fromEntries(cols.map((c) => [c, []]));
  for (let i = 0; i < RUNS; i++) {
    const up = flat6(['lab', 'up', '--stack', 'scale', '--mode', mode, ...SHAPE]);
    if (up.status !== 0) {
      console.error(`lab up failed (exit ${up.status}):\n${up.stdout}${up.stderr}`);
      process.exit(1);
    }
    const st = JSON.parse(readFileSync(join(base, 'scale', 'state.json'), 'utf8'));
    const t = st.timings;
    const down = flat6(['lab', 'down', '--stack', 'scale']);
    if (down.status !== 0) {
      console.error(`lab down failed:\n${down.stdout}${down.stderr}`);
      process.exit(1);
    }
    rows['up wall'].push(up.ms);
    rows['converged'].push(t.converged);
    rows['after start'].push(t.converged - t.daemons);
    rows['machines'].push(t.machines);
    rows['pods'].push(t.pods);
    rows['dad'].push(t.dad);
    rows['down'].push(down.ms);
    if (i === 0) console.error(`  ${mode}: ${st.namespaces.length} namespaces, ${st.pods.length} pods, ${st.birds.length} BIRD daemon(s)`);
  }
  console.log(`${mode.padEnd(8)}${cols.map((c) => summary(rows[c]).padStart(20)).join('')}`);
}
