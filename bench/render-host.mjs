#!/usr/bin/env node
// Times `flat6 render --host` of one node for the bundled stacks (6 nodes,
// 14 nodes, 1,048,576 nodes) and prints a table: the time per host must not
// grow with cluster size. Uses the compiled dist/ (run `npm run build` first).
//
//   node bench/render-host.mjs [--iterations N] [--runs N]
//
// Columns:
//   in-process     run(['render', '--stack', S, '--host', H, ...]) in this process:
//                  read + parse + check + plan + render + atomic write (median, p95)
//   plan           loadStack + createPlan alone (median)
//   render         renderTree of the one host into memory, no I/O (median)
//   findNode µs    plan.findNode(H) per call, in microseconds (median of batches)
//   process wall   `bin/flat6 render --stack S --host H --out DIR` as a new
//                  process, Node start-up included (median, min, max of --runs)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const { run } = await import('../dist/cli/index.js');
const { loadStack } = await import('../dist/spec/load.js');
const { createPlan } = await import('../dist/plan/plan.js');
const { renderTree } = await import('../dist/render/render.js');
const { TemplateSet } = await import('../dist/render/templates.js');

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '200' }, runs: { type: 'string', default: '7' } } });
const ITER = Number(values.iterations);
const RUNS = Number(values.runs);

const CASES = [
  { stack: 'metal', host: 'worker3' },
  { stack: 'multirack', host: 'gpu2' },
  { stack: 'scale', host: 'rack16383-n63' },
];

const work = mkdtempSync(join(tmpdir(), 'flat6-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
// Fake, fixed secrets: the bench renders kubeadm files but they are thrown away.
const secretsFile = join(work, 'secrets.yaml');
writeFileSync(secretsFile, 'bootstrapToken: "abcdef.0123456789abcdef"\ncertificateKey: "' + '0123456789abcdef'.repeat(4) + '"\ncaCertHashes: []\n', { mode: 0o600 });
chmodSync(secretsFile, 0o600);

const quiet = { stdout: () => {}, stderr: () => {}, env: {}, cwd: ROOT, isTTY: false };

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1] };
}

function time(fn, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

async function timeAsync(fn, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

const ms = (x) => (x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(0));
const rows = [];

for (const { stack, host } of CASES) {
  const file = join(ROOT, 'stacks', `Pulumi.${stack}.yaml`);
  const out = join(work, `${stack}-out`);
  const argv = ['render', '--stack', stack, '--host', host, '--out', out, '--secrets', secretsFile];

  const first = await run(argv, quiet);
  if (first !== 0) throw new Error(`flat6 ${argv.join(' ')} exited ${first}`);
  await timeAsync(() => run(argv, quiet), Math.ceil(ITER / 10)); // warm-up
  const inProcess = stats(await timeAsync(async () => {
    if ((await run(argv, quiet)) !== 0) throw new Error('render failed');
  }, ITER));

  const planOnly = stats(time(() => createPlan(loadStack(file)), ITER));
  const plan = createPlan(loadStack(file));
  const node = plan.findNode(host);
  const ctx = { plan, templates: new TemplateSet(), secrets: { bootstrapToken: 'abcdef.0123456789abcdef', certificateKey: '0'.repeat(64), caCertHashes: [] } };
  const renderOnly = stats(time(() => [...renderTree(ctx, { only: node })], ITER));
  const BATCH = 1000;
  const lookup = stats(time(() => {
    for (let i = 0; i < BATCH; i++) plan.findNode(host);
  }, 50).map((t) => t / BATCH));

  const wall = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = join(work, `${stack}-proc-${i}`);
    const t0 = performance.now();
    const r = spawnSync(join(ROOT, 'bin', 'flat6'), ['render', '--stack', stack, '--host', host, '--out', dir, '--secrets', secretsFile], { cwd: ROOT, encoding: 'utf8' });
    wall.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`process render of ${stack} failed: ${r.stderr}`);
  }
  rows.push({ stack, nodes: plan.nodeCount, host, inProcess, planOnly, renderOnly, lookup, wall: stats(wall) });
}

const node0 = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', ''], { encoding: 'utf8' });
  node0.push(performance.now() - t0);
}

console.log(`flat6 render --host, one node per stack (${ITER} in-process iterations, ${RUNS} process runs)`);
console.log(`node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('times in milliseconds unless marked');
console.log('');
const header = ['stack', 'nodes', 'host', 'in-process med', 'p95', 'plan med', 'render med', 'findNode µs', 'process med', 'min', 'max'];
const table = rows.map((r) => [
  r.stack,
  r.nodes.toLocaleString('en-US'),
  r.host,
  ms(r.inProcess.median),
  ms(r.inProcess.p95),
  ms(r.planOnly.median),
  ms(r.renderOnly.median),
  (r.lookup.median * 1000).toFixed(2),
  ms(r.wall.median),
  ms(r.wall.min),
  ms(r.wall.max),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table) console.log(line(row));
console.log('');
console.log(`node -e '' (process start-up floor): median ${ms(stats(node0).median)} ms`);
const small = rows[0].inProcess.median;
const big = rows[rows.length - 1].inProcess.median;
console.log(`in-process median ratio ${rows[rows.length - 1].stack}/${rows[0].stack}: ${(big / small).toFixed(2)} for ${Math.round(rows[rows.length - 1].nodes / rows[0].nodes).toLocaleString('en-US')}x the nodes`);
